"""Storages: what they hold, where they are (one node, some nodes, or shared by all) and how full they are."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pytest_pvemock.model import figures
from pytest_pvemock.model.revision import Watched

GIB = 1024**3

CONTENT_TYPES = ("images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import", "none")


@dataclass
class Volume:
    """A static volume on a storage (ISO images, templates, backups); guest disks are derived from configs."""

    volid: str
    content: str
    size: int
    format: str
    ctime: int
    vmid: int | None = None
    #: The node whose local storage holds the file (``None``: a shared storage, or a copy on every node).
    node: str | None = None
    notes: str | None = None
    protected: bool = False
    #: A backup's guest config as vzdump stored it in the archive (``vzdump/extractconfig``).
    config: str | None = None

    def content_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "volid": self.volid,
            "content": self.content,
            "format": self.format,
            "size": self.size,
            "ctime": self.ctime,
        }
        if self.content == "backup":  # Plugin.pm $get_subdir_files 1730, PBSPlugin.pm list_volumes 776-790
            name = self.volid.split(":", 1)[-1]
            kind = re.match(r"^backup/(?:vzdump-(qemu|lxc|openvz)-|(vm|ct)/)", name)
            subtype = (kind[1] or {"vm": "qemu", "ct": "lxc"}[kind[2]]) if kind is not None else "unknown"
            entry["subtype"] = subtype
        if self.vmid is not None:
            entry["vmid"] = self.vmid
        if self.notes:
            entry["notes"] = self.notes.split("\n", 1)[0]
        if self.protected:
            entry["protected"] = 1
        return entry


@dataclass
class Storage(Watched):
    """A storage definition (``storage.cfg`` entry). ``nodes=None`` means every node can use it."""

    WATCHED = frozenset({"plugintype", "content", "total", "base_used", "shared", "nodes", "enabled", "options"})

    storage: str
    plugintype: str
    content: list[str]
    total: int
    base_used: int
    shared: bool = False
    nodes: list[str] | None = None
    enabled: bool = True
    path: str | None = None
    #: The definition's other ``storage.cfg`` properties (``server``, ``export``, ``vgname``, ``prune-backups``...)
    #: as PVE writes them; never a sensitive one (those live in ``/etc/pve/priv`` and are never answered).
    options: dict[str, str | int] = field(default_factory=dict)
    volumes: list[Volume] = field(default_factory=list)
    #: Volumes deleted through the API that a guest config still names (PVE deletes them all the same).
    freed: set[str] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        storage: str,
        plugintype: str,
        content: list[str],
        seed: int | str,
        size_gib: float = 100,
        used_fraction: float = 0.2,
        shared: bool = False,
        nodes: list[str] | None = None,
        path: str | None = None,
        enabled: bool = True,
        options: dict[str, str | int] | None = None,
    ) -> Storage:
        for kind in content:
            if kind not in CONTENT_TYPES:
                raise ValueError(f"unknown storage content type {kind!r} (one of {', '.join(CONTENT_TYPES)})")
        rng = figures.seeded(seed, "storage", storage)
        total = int(size_gib * GIB) + rng.randrange(-900_000_000, 900_000_000)
        used = int(total * used_fraction) + rng.randrange(1, 800_000_000)
        return cls(
            storage=storage,
            plugintype=plugintype,
            content=list(content),
            total=total,
            base_used=min(used, total),
            shared=shared,
            nodes=list(nodes) if nodes else None,
            path=path,
            enabled=enabled,
            options=_scenario_defaults(plugintype, storage) if options is None else dict(options),
        )

    @property
    def content_text(self) -> str:
        return ",".join(self.content)

    def available_on(self, node: str) -> bool:
        return self.nodes is None or node in self.nodes

    def usage(self, allocated: int, node: str | None = None) -> tuple[int, int, int]:
        """(total, used, avail) with ``allocated`` bytes of guest volumes and the stored volumes ``node`` sees
        (ISOs, templates, backups, images no config names) on top of the base usage."""
        used = min(self.base_used + allocated + self.stored_on(node), self.total)
        return self.total, used, self.total - used

    def stored_on(self, node: str | None) -> int:
        """Bytes of the stored volumes ``node`` sees (ISOs, templates, backups, images no config names)."""
        return sum(v.size for v in self.volumes if v.node in (None, node) and v.volid not in self.freed)

    def config_entry(self, digest: str) -> dict[str, Any]:
        """The definition as ``GET /storage`` lists it: ``storage.cfg``'s properties, with ``shared`` set on the
        types shared by nature (pve-storage ``Plugin.pm`` ``parse_config``) and the file's ``digest``."""
        entry: dict[str, Any] = {"storage": self.storage, "type": self.plugintype, "content": self.content_text}
        entry.update(self.cfg_properties())
        entry["digest"] = digest
        return entry

    def cfg_properties(self) -> dict[str, str | int]:
        """The properties below the definition's ``type: id`` line in ``storage.cfg``, in PVE's order."""
        properties: dict[str, str | int] = {}
        if self.path:
            properties["path"] = self.path
        if self.nodes:
            properties["nodes"] = ",".join(self.nodes)
        if self.shared:
            properties["shared"] = 1
        if not self.enabled:
            properties["disable"] = 1
        properties.update(self.options)
        return properties

    def cfg_section(self) -> str:
        """The definition as ``storage.cfg`` holds it (a SectionConfig section)."""
        lines = [f"{self.plugintype}: {self.storage}", f"\tcontent {self.content_text}"]
        lines.extend(f"\t{key} {value}" for key, value in self.cfg_properties().items())
        return "\n".join(lines) + "\n"


def _scenario_defaults(plugintype: str, storage: str) -> dict[str, str | int]:
    """What a scenario's storage of a type that needs more than a path holds when the scenario names nothing."""
    if plugintype == "lvmthin":
        return {"thinpool": "data", "vgname": "pve"}
    if plugintype == "zfspool":
        return {"pool": "rpool/data", "sparse": 1}
    if plugintype == "nfs":
        return {"server": "192.168.100.5", "export": f"/volume1/{storage}"}
    return {}
