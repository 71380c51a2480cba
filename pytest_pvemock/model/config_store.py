"""Config-like data a client writes and reads back: keyed sections, ordered rule lists and option sets.

PVE keeps much of its configuration in small files of ``pmxcfs`` (``jobs.cfg``, ``replication.cfg``,
``sdn/zones.cfg``, ``firewall/cluster.fw``, ``datacenter.cfg``, ...). The fake keeps them here, each under a
name (the concrete API path of the collection, e.g. ``/cluster/backup`` or ``/nodes/pve1/firewall/rules``), as
plain dicts. The store knows nothing of HTTP; the API's collection handlers decide what each write means.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


def digest_of(data: Any) -> str:
    """A SHA-1 over the content, as PVE's ``digest`` fields are (40 hex characters)."""
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class KeyedSection:
    """Records by id, in insertion order (``/cluster/backup``, ``/cluster/sdn/zones``, ...)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeded: bool = False  # built-in records (the ``pam`` and ``pve`` realms) were added

    @property
    def digest(self) -> str:
        return digest_of(self.records)

    def seed(self, builtin: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Add the built-in records once; a client may delete them afterwards."""
        if not self.seeded:
            for key, values in builtin:
                self.records.setdefault(key, dict(values))
            self.seeded = True

    def get(self, key: str) -> dict[str, Any] | None:
        return self.records.get(key)

    def create(self, key: str, values: Mapping[str, Any], exists_message: str) -> dict[str, Any]:
        if key in self.records:
            raise PVEError(exists_message)
        self.records[key] = dict(values)
        return self.records[key]

    def update(self, key: str, values: Mapping[str, Any], delete: Iterable[str] = ()) -> dict[str, Any]:
        record = self.records[key]
        record.update(values)
        for name in delete:
            record.pop(name, None)
        return record

    def remove(self, key: str) -> None:
        self.records.pop(key, None)


@dataclass
class RuleList:
    """An ordered list of rules addressed by position (``pos``), as the PVE firewall keeps them."""

    rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return digest_of(self.rules)

    def numbered(self) -> list[dict[str, Any]]:
        return [{**rule, "pos": pos} for pos, rule in enumerate(self.rules)]

    def get(self, pos: int) -> dict[str, Any]:
        if not 0 <= pos < len(self.rules):
            raise PVEError("no rule at position " + str(pos))
        return {**self.rules[pos], "pos": pos}

    def insert(self, values: Mapping[str, Any], pos: int | None = None) -> None:
        rule = {key: value for key, value in values.items() if key != "pos"}
        if pos is None or pos < 0 or pos > len(self.rules):
            pos = 0 if pos is None else len(self.rules)
        self.rules.insert(pos, rule)

    def update(
        self, pos: int, values: Mapping[str, Any], delete: Iterable[str] = (), moveto: int | None = None
    ) -> None:
        rule = self.rules[pos] if 0 <= pos < len(self.rules) else None
        if rule is None:
            raise PVEError("no rule at position " + str(pos))
        if moveto is not None:
            self.rules.pop(pos)
            self.rules.insert(min(max(moveto, 0), len(self.rules)), rule)
            return
        rule.update({key: value for key, value in values.items() if key != "pos"})
        for name in delete:
            rule.pop(name, None)

    def remove(self, pos: int) -> None:
        if not 0 <= pos < len(self.rules):
            raise PVEError("no rule at position " + str(pos))
        self.rules.pop(pos)


@dataclass
class ConfigStore:
    """All stored collections of one cluster, by name."""

    keyed: dict[str, KeyedSection] = field(default_factory=dict)
    rule_lists: dict[str, RuleList] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> KeyedSection:
        return self.keyed.setdefault(name, KeyedSection())

    def rules(self, name: str) -> RuleList:
        return self.rule_lists.setdefault(name, RuleList())

    def option_set(self, name: str) -> dict[str, Any]:
        return self.options.setdefault(name, {})

    def drop(self, prefix: str) -> None:
        """Forget every collection stored under ``prefix`` (a deleted group, ipset, vnet, ...)."""
        for table in (self.keyed, self.rule_lists, self.options):
            for name in [name for name in table if name == prefix or name.startswith(prefix + "/")]:
                del table[name]


_GUEST_PATH = re.compile(r"^/nodes/[^/]+/(?:qemu|lxc)/(\d+)(?=/|$)")
_GUEST_NAME = re.compile(r"^/guests/(\d+)(?=/|$)")


def store_name_of_path(path: str) -> str:
    """Where the collection at the concrete API ``path`` is stored: the path, with a guest's path reduced to
    ``/guests/<vmid>``. A guest's firewall lives in ``/etc/pve/firewall/<vmid>.fw``, whatever node the guest runs
    on, so its rules follow it through a migration."""
    return _GUEST_PATH.sub(r"/guests/\1", path)


def path_of_store_name(cluster: FakeCluster, name: str) -> str | None:
    """The API path a client reads the stored collection ``name`` at (a guest's on its node now); ``None`` for the
    collection of a guest the cluster no longer has."""
    found = _GUEST_NAME.match(name)
    if found is None:
        return name
    guest = cluster.find_guest(int(found[1]))
    if guest is None:
        return None
    return f"/nodes/{guest.node}/{guest.kind}/{guest.vmid}{name[found.end() :]}"


def config_store_of(cluster: FakeCluster) -> ConfigStore:
    """The config store of ``cluster`` (its ``configs``)."""
    return cluster.configs
