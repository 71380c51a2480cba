"""A cluster as plain data: what scenario files and recorded answers both turn into, and what builds a cluster.

    spec = ClusterSpec(settings={"name": "lab"}, nodes=[NodeSpec("pve1")], guests=[GuestSpec(100, node="pve1")])
    cluster = FakeCluster.from_spec(spec)      # or spec.build(FakeCluster)
    spec_from_cluster(cluster)                 # the way back: the cluster's state as a spec
    scenario_data(spec)                        # and as a scenario file's data (model/builders/scenario.py)

Fields left ``None`` take the builder's defaults (``FakeCluster.add_node``, ``add_vm``, ``add_storage``, ...).
A part read from a file carries :class:`Where` it was written, so that what the cluster refuses while being built
is reported with the file and the line (:class:`ScenarioError`); a part made in code raises the cluster's own error.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import acme, figures
from pytest_pvemock.model.access.acl import Group, check_privileges
from pytest_pvemock.model.config_store import path_of_store_name, store_name_of_path
from pytest_pvemock.model.nodes.node import GIB
from pytest_pvemock.model.sdn import load_sdn_state, sdn_state_data
from pytest_pvemock.model.tfa import TFA_CONFIG
from pytest_pvemock.schema.secrets import load_secret_index

if TYPE_CHECKING:
    from pytest_pvemock.model.access.acl import AccessControl, AclEntry
    from pytest_pvemock.model.access.users import User
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.nodes.node import Node
    from pytest_pvemock.model.storage import Storage

    ClusterT = TypeVar("ClusterT", bound=FakeCluster)
else:
    ClusterT = TypeVar("ClusterT")

#: The release a cluster answers as when none is given (``FakeCluster(version=...)``, a scenario's ``cluster:``).
DEFAULT_VERSION = "9.1"


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded: says which file, which line and what is wrong."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Where:
    """Where a part of a spec was written: the file, the line of the part and the line of each of its keys."""

    source: str
    line: int | None = None
    key_lines: dict[str, int] = field(default_factory=dict, hash=False)

    def error(self, problem: str, key: str | None = None) -> ScenarioError:
        """A :class:`ScenarioError` at the line of ``key`` (or of the part itself)."""
        line = self.key_lines.get(key, self.line) if key is not None else self.line
        return ScenarioError(self.source, line, problem)


def located(where: Where | None, action: Callable[[], Any], key: str | None = None) -> Any:
    """``action()``; what the cluster refuses (PVE's errors, ValueError, KeyError, TypeError) is reported at
    ``where`` (a :class:`ScenarioError` naming the file and the line of ``key``) when the part was read from a file."""
    if where is None:
        return action()
    try:
        return action()
    except ScenarioError:
        raise
    except (PVEError, ValueError, KeyError, TypeError) as error:
        message = error.message if isinstance(error, PVEError) else str(error).strip("'\"")
        raise where.error(message, key) from None


def _given(**options: Any) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


@dataclass
class NodeSpec:
    """A node (``FakeCluster.add_node``): figures not given are drawn from the cluster's seed."""

    name: str
    ip: str | None = None
    cpus: int | None = None
    memory_gib: float | None = None
    disk_gib: float | None = None
    level: str | None = None
    online: bool | None = None
    #: Seconds since the node booted, at the cluster's ``now`` (``None``: drawn from the seed).
    uptime: int | None = None
    #: Cards and sticks added to the node's board (``model/node_hardware.py`` ``ADD_ONS``).
    devices: list[str] | None = None
    #: Empty disks besides the system disk (``/dev/sdb`` on), for ``/nodes/{node}/disks`` to set up.
    spare_disks: int | None = None
    where: Where | None = field(default=None, compare=False, repr=False)

    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``FakeCluster.add_node`` besides the name."""
        return _given(
            ip=self.ip,
            cpus=self.cpus,
            memory_gib=self.memory_gib,
            disk_gib=self.disk_gib,
            level=self.level,
            online=self.online,
            devices=self.devices,
            spare_disks=self.spare_disks,
        )


@dataclass
class VolumeSpec:
    """A static volume on a storage (an ISO, a container template, a backup): ``name`` like ``iso/debian.iso``."""

    name: str
    content: str = "iso"
    size: int = 0
    format: str = "raw"
    where: Where | None = field(default=None, compare=False, repr=False)


@dataclass
class StorageSpec:
    """A storage definition (``FakeCluster.add_storage``); ``nodes=None``: every node."""

    storage: str
    plugintype: str = "dir"
    content: list[str] = field(default_factory=lambda: ["images", "rootdir"])
    shared: bool = False
    nodes: list[str] | None = None
    size_gib: float = 100
    used_fraction: float = 0.2
    path: str | None = None
    enabled: bool = True
    volumes: list[VolumeSpec] = field(default_factory=list)
    where: Where | None = field(default=None, compare=False, repr=False)


@dataclass
class PoolSpec:
    """A resource pool; guests join it through :attr:`GuestSpec.pool`, storages through ``storage``."""

    poolid: str
    comment: str = ""
    storage: list[str] = field(default_factory=list)
    where: Where | None = field(default=None, compare=False, repr=False)


@dataclass
class SnapshotSpec:
    """A snapshot a guest has (taken in this order, each the parent of the next)."""

    name: str
    description: str = ""
    vmstate: bool = False
    #: The snapshot as the guest keeps it (its config then, ``snaptime``, ``parent``); empty: taken at build time.
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class GuestSpec:
    """A QEMU VM (``kind="qemu"``) or LXC container (``"lxc"``) as ``FakeCluster.add_vm``/``add_container`` take
    it; ``config`` adds to (and overrides) the config the cluster makes up from the other fields."""

    vmid: int
    kind: str = "qemu"
    node: str | None = None
    name: str | None = None
    status: str | None = None
    cores: int | None = None
    sockets: int | None = None
    memory: int | None = None
    swap: int | None = None
    disk_gib: int | None = None
    storage: str | None = None
    tags: str | list[str] | None = None
    template: bool | None = None
    pool: str | None = None
    lock: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    snapshots: list[SnapshotSpec] = field(default_factory=list)
    #: Changes made while the guest ran, applied at its next start (``GET .../pending``), and keys to delete then.
    pending: dict[str, Any] = field(default_factory=dict)
    pending_delete: list[str] = field(default_factory=list)
    #: A running guest's seconds since its start at the cluster's ``now``, its process id and how many times it
    #: was started (its usage figures are drawn per start); ``None``: drawn from the seed.
    uptime: int | None = None
    pid: int | None = None
    boots: int | None = None
    where: Where | None = field(default=None, compare=False, repr=False)

    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``FakeCluster.add_vm`` (``add_container``)."""
        options = _given(
            vmid=self.vmid,
            node=self.node,
            name=self.name,
            status=self.status,
            cores=self.cores,
            memory=self.memory,
            disk_gib=self.disk_gib,
            storage=self.storage,
            tags=self.tags,
            template=self.template,
            pool=self.pool,
            lock=self.lock,
            **({"sockets": self.sockets} if self.kind == "qemu" else {"swap": self.swap}),
        )
        options["node"] = self.node
        options["config"] = dict(self.config)
        return options


@dataclass
class TokenSpec:
    """An API token of a user. Its secret: ``secret``, or read from the environment variable ``secret_env`` when the
    cluster is built; with neither the cluster makes a new one (from its seed, when it has one), as a PVE node whose
    ``user.cfg`` came back without ``priv/token.cfg`` has the token and no secret anybody knows."""

    tokenid: str
    secret: str | None = None
    secret_env: str | None = None
    privsep: bool | None = None
    expire: int | None = None
    comment: str | None = None
    where: Where | None = field(default=None, compare=False, repr=False)


@dataclass
class UserSpec:
    """A user of ``user.cfg`` (``root@pam`` exists already: the fields given change it) and its API tokens."""

    userid: str
    password: str | None = None
    #: The password read from this environment variable when the cluster is built (instead of ``password``).
    password_env: str | None = None
    enable: bool | None = None
    expire: int | None = None
    groups: list[str] | None = None
    comment: str | None = None
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    tokens: list[TokenSpec] = field(default_factory=list)
    where: Where | None = field(default=None, compare=False, repr=False)

    def options(self) -> dict[str, Any]:
        """The fields given, as ``AccessStore.add_user`` takes them."""
        return _given(
            password=self.password,
            enable=self.enable,
            expire=self.expire,
            groups=self.groups,
            comment=self.comment,
            email=self.email,
            firstname=self.firstname,
            lastname=self.lastname,
        )


@dataclass
class HASpec:
    """HA resources, groups (PVE 8) and rules (PVE 9) as PVE's config files hold them, and the manager's settings."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    shutdown_policy: str | None = None
    #: ``enable_chaos`` keyword arguments (seed, rate, ...): seeded HA faults from the start.
    chaos: dict[str, Any] | None = None
    where: Where | None = field(default=None, compare=False, repr=False)


@dataclass
class CephSpec:
    """Ceph as ``pveceph`` sets it up (``FakeCluster.enable_ceph``): on ``nodes`` (``None``: all), the OSDs per node
    and their device class, the pools (``name``, ``pg_num``, ``size``, ``min_size``, ``storage``) and a CephFS."""

    nodes: list[str] | None = None
    osds_per_node: int = 2
    device_class: str = "nvme"
    pools: list[dict[str, Any]] | None = None
    cephfs: dict[str, Any] | None = None
    initialized: bool = True
    spare_disks: int = 0
    where: Where | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SetupRequest:
    """An API write an admin made before the test begins (``POST /cluster/firewall/aliases`` with its parameters):
    the built cluster keeps it in ``setup_requests`` and its API answers it, as root@pam, before any other request
    (``pytest_pvemock.api.setup_requests``), so the objects only the API's collections keep (firewall, jobs,
    notification targets, groups ...) exist as PVE made them."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    where: Where | None = field(default=None, compare=False, repr=False)


@dataclass
class AccessSpec:
    """The rest of ``user.cfg`` besides the users: groups (``groupid``, ``comment``; members are the users' own
    ``groups``), roles other than PVE's built-in ones (``roleid``, ``privs``) and ACL entries as ``GET /access/acl``
    lists them (``path``, ``type`` user/group/token, ``ugid``, ``roleid``, ``propagate``)."""

    groups: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    acl: list[dict[str, Any]] = field(default_factory=list)
    where: Where | None = field(default=None, compare=False, repr=False)


@dataclass
class StoredConfig:
    """One collection a client writes through the API (``model/config_store.py``), under the concrete API path a
    client reads it at: ``records`` (id -> record: jobs, SDN, aliases, IP sets, endpoints ...), ``rules`` (firewall
    rules in order) or ``options`` (one set: ``/cluster/options``, firewall options ...)."""

    path: str
    kind: str
    content: Any
    where: Where | None = field(default=None, compare=False, repr=False)


#: The kinds of :class:`StoredConfig`.
STORED_KINDS = ("records", "rules", "options")


@dataclass
class ClusterSpec:
    """A whole cluster as plain data; :meth:`build` makes the :class:`FakeCluster`."""

    #: ``FakeCluster``'s keyword arguments (name, version, host, port, task_mode, seed, timezone, ...).
    settings: dict[str, Any] = field(default_factory=dict)
    nodes: list[NodeSpec] = field(default_factory=list)
    storages: list[StorageSpec] = field(default_factory=list)
    pools: list[PoolSpec] = field(default_factory=list)
    guests: list[GuestSpec] = field(default_factory=list)
    users: list[UserSpec] = field(default_factory=list)
    ha: HASpec | None = None
    ceph: CephSpec | None = None
    #: API writes made before the test begins, in order (:class:`SetupRequest`).
    setup: list[SetupRequest] = field(default_factory=list)
    access: AccessSpec | None = None
    config: list[StoredConfig] = field(default_factory=list)
    #: The applied SDN state (``model/sdn.py`` :func:`~pytest_pvemock.model.sdn.sdn_state_data`): running config,
    #: the nodes' generated files, the IPAM's mappings, the lock.
    sdn: dict[str, Any] | None = None
    #: The cluster's time when the spec was taken (``None``: its ``start_time``); built at ``start_time``, the
    #: cluster is then placed at ``now`` without running anything on the way.
    now: int | None = None
    #: What ``cluster.scenario_name`` says (the built-in scenario or file it came from).
    scenario_name: str | None = None
    #: Settings the caller passed over those of the file (``FakeCluster.from_scenario(name, version=...)``).
    overrides: dict[str, Any] = field(default_factory=dict)
    where: Where | None = field(default=None, compare=False, repr=False)

    def build(self, cluster_class: type[ClusterT]) -> ClusterT:
        """A new ``cluster_class`` (:class:`FakeCluster` or a subclass) holding everything the spec describes."""
        cluster = self._new_cluster(cluster_class)
        for node in self.nodes:
            located(node.where, partial(cluster.add_node, node.name, **node.options()))
        for storage in self.storages:
            _add_storage(cluster, storage)
        if self.ceph is not None:  # before the guests: their disks may be on its RBD storage
            _set_up_ceph(cluster, self.ceph)
        for pool in self.pools:
            located(pool.where, partial(cluster.add_pool, pool.poolid, pool.comment))
        for guest in self.guests:
            _add_guest(cluster, guest)
        for pool in self.pools:
            if pool.storage:
                with contextlib.suppress(PVEError, ValueError):  # a member the cluster cannot hold is left out
                    cluster.update_pool(pool.poolid, storage=pool.storage)
        for user in self.users:
            _add_user(cluster, user)
        if self.ha is not None:
            _set_up_ha(cluster, self.ha)
        cluster.setup_requests = list(self.setup)
        _set_runtime(cluster, self)
        if self.access is not None:
            _set_up_access(cluster, self.access)
        for stored in self.config:
            located(stored.where, partial(_store_config, cluster, stored))
        if self.sdn is not None:
            load_sdn_state(cluster, self.sdn)
        cluster.scenario_name = self.scenario_name
        return cluster

    def _new_cluster(self, cluster_class: type[ClusterT]) -> ClusterT:
        given = {key: value for key, value in self.overrides.items() if value is not None}
        try:
            return cluster_class(**{**self.settings, **given})
        except (TypeError, ValueError) as error:
            if self.where is None:
                raise
            if not given:
                raise self.where.error(str(error)) from None
            # the file's own settings were checked when it was read: what the caller passed is the caller's fault
            passed = ", ".join(f"{key}={value!r}" for key, value in given.items())
            raise ValueError(f"{self.where.source} built with {passed}: {error}") from None


def spec_from_cluster(cluster: FakeCluster) -> ClusterSpec:
    """The state of ``cluster`` as a spec: building it gives a cluster with the same nodes, storages, pools, guests
    (their configs as they are now, running or not), users, tokens, groups, roles, ACL, HA resources, groups and
    rules, and every collection clients wrote through the API (firewall, SDN, jobs, metric servers, notification
    targets and matchers, mappings, realms, options), at the cluster's current time: the PVE API answers the same.

    Sizes drawn from the seed (node memory and disk, storage size and use) come back as the sizes that draw the same
    figures again from the same seed. History (tasks, logs) is not part of a spec; the applied SDN configuration
    is, with the files the nodes generated from it. A spec never holds a secret: no password, no token
    secret, no value PVE's schema classes as secret (``schema/secrets.py``) in a guest config or a stored
    collection. A spec is what a scenario file holds, and a file is no place for them.
    """
    spec = ClusterSpec(
        settings={
            "name": cluster.name,
            "version": cluster.version,
            "host": cluster.host,
            "port": cluster.port,
            "task_mode": cluster.clock.task_mode,
            "seed": cluster.seed,
            "shuffle_keys": cluster.key_order.enabled,
            "start_time": cluster.clock.start,
            "timezone": cluster.timezone,
        },
        scenario_name=cluster.scenario_name,
        now=cluster.clock.now() if cluster.clock.now() != cluster.clock.start else None,
    )
    spec.nodes = [_node_spec_of(cluster, node) for node in cluster.nodes]
    spec.storages = [_storage_spec_of(cluster, storage) for storage in cluster.storages]
    spec.pools = [PoolSpec(pool.poolid, pool.comment, list(pool.storages)) for pool in cluster.pools]
    spec.guests = [_guest_spec_of(cluster, guest) for guest in cluster.guests]
    spec.users = [_user_spec_of(user) for user in cluster.access.users.values()]
    spec.ceph = _ceph_spec_of(cluster)
    ha = cluster.ha
    policy = ha.shutdown_policy
    if ha.service_config or ha.groups or ha.rules or policy != "conditional":
        spec.ha = HASpec(
            resources=cluster.ha_resources,
            groups=[dict(group) for group in ha.groups],
            rules=[dict(rule) for rule in ha.rules],
            shutdown_policy=policy if policy != "conditional" else None,
        )
    spec.access = _access_spec_of(cluster)
    spec.config = _stored_configs_of(cluster)
    spec.sdn = sdn_state_data(cluster)
    spec.setup = [
        SetupRequest(request.method, request.path, _without_secrets(dict(request.params), request.path))
        for request in cluster.setup_requests
    ]  # not answered yet: the API answers them before its first request
    return spec


def _set_runtime(cluster: FakeCluster, spec: ClusterSpec) -> None:
    """Place the built cluster at the spec's ``now``, with the uptimes, process ids and starts it gives."""
    if spec.now is not None:
        located(spec.where, partial(cluster.clock.jump, spec.now), "now")
    now = cluster.clock.now()
    for node_spec in spec.nodes:
        node = cluster.find_node(node_spec.name)
        if node is not None and node_spec.uptime is not None:
            node.boot_time = now - node_spec.uptime
    for guest_spec in spec.guests:
        guest = cluster.find_guest(guest_spec.vmid)
        if guest is None or not guest.running:
            continue
        if guest_spec.uptime is not None:
            guest.started_at = now - guest_spec.uptime
        if guest_spec.pid is not None:
            guest.pid = guest_spec.pid
        if guest_spec.boots is not None:
            guest._runs = guest_spec.boots
            guest._usage = None


def _node_spec_of(cluster: FakeCluster, node: Node) -> NodeSpec:
    # Node.build draws these two offsets first (model/nodes/node.py): the sizes that draw the same figures again
    rng = figures.seeded(cluster.seed, "node", node.name)
    memory_offset = rng.randrange(180_000_000, 420_000_000)
    disk_offset = rng.randrange(-2_000_000_000, 2_000_000_000)
    return NodeSpec(
        node.name,
        ip=node.ip,
        cpus=node.maxcpu,
        memory_gib=(node.maxmem + memory_offset) / GIB,
        disk_gib=(node.maxdisk - disk_offset) / GIB,
        level=node.level,
        online=node.online,
        uptime=node.uptime(cluster.clock.now()) if node.online else None,
        devices=list(node.devices) or None,
        spare_disks=(cluster.node_disks[node.name].spare_count or None) if node.name in cluster.node_disks else None,
    )


def _storage_spec_of(cluster: FakeCluster, storage: Storage) -> StorageSpec:
    # Storage.build: total = size + offset, used = total * fraction + offset (model/storage.py)
    rng = figures.seeded(cluster.seed, "storage", storage.storage)
    size_offset = rng.randrange(-900_000_000, 900_000_000)
    used_offset = rng.randrange(1, 800_000_000)
    return StorageSpec(
        storage.storage,
        plugintype=storage.plugintype,
        content=list(storage.content),
        shared=storage.shared,
        nodes=list(storage.nodes) if storage.nodes is not None else None,
        size_gib=(storage.total - size_offset) / GIB,
        used_fraction=min(max((storage.base_used - used_offset + 0.5) / storage.total, 0.0), 1.0),
        path=storage.path,
        enabled=storage.enabled,
        volumes=[
            VolumeSpec(volume.volid.split(":", 1)[1], volume.content, volume.size, volume.format)
            for volume in storage.volumes
        ],
    )


def _guest_spec_of(cluster: FakeCluster, guest: Guest) -> GuestSpec:
    return GuestSpec(
        guest.vmid,
        guest.kind,
        node=guest.node,
        status=guest.run_state,
        pool=cluster.pool_of(guest.vmid),
        config=_without_secrets(
            {key: value for key, value in guest.config.items() if key != "digest"},
            f"/nodes/{guest.node}/{guest.kind}/{guest.vmid}/config",
        ),
        snapshots=[
            SnapshotSpec(
                name,
                str(snapshot.get("description", "")),
                bool(snapshot.get("vmstate")),
                _without_secrets(dict(snapshot), f"/nodes/{guest.node}/{guest.kind}/{guest.vmid}/config"),
            )
            for name, snapshot in guest.snapshots.items()
            if name != "current"
        ],
        pending=_without_secrets(dict(guest.pending), f"/nodes/{guest.node}/{guest.kind}/{guest.vmid}/config"),
        pending_delete=list(guest.pending_delete),
        uptime=guest.uptime() if guest.running else None,
        pid=guest.pid if guest.running else None,
        boots=guest._runs if guest.running and guest._runs != 1 else None,
    )


def _user_spec_of(user: User) -> UserSpec:
    """The user's fields that differ from a new user's (``enable`` always), never its password or token secrets."""
    return UserSpec(
        user.userid,
        enable=user.enable,
        expire=user.expire or None,
        groups=list(user.groups) or None,
        comment=user.comment or None,
        email=user.email or None,
        firstname=user.firstname or None,
        lastname=user.lastname or None,
        tokens=[
            TokenSpec(
                token.tokenid,
                privsep=token.privsep,
                expire=token.expire or None,
                comment=token.comment or None,
            )
            for token in user.tokens.values()
        ],
    )


def _without_secrets(values: dict[str, Any], *paths: str) -> dict[str, Any]:
    """``values`` without what PVE's schema classes as secret in a write to any of ``paths`` (``schema/secrets.py``:
    passwords, tokens, keys, an ACME plugin's credentials ...)."""
    index = load_secret_index()
    secret: set[str] = set()
    for path in paths:
        for method in ("POST", "PUT"):
            secret |= index.secret_parameters(method, path)
    kept = {key: _secret_names(value) if key in secret else value for key, value in values.items()}
    return {key: value for key, value in kept.items() if key not in secret or _names_only(value)}


def _secret_names(value: Any) -> Any:
    """A webhook's ``secret`` entries (``name=X,value=BASE64``) as their names (``name=X``), as PVE answers them."""
    entries = value if isinstance(value, list) else [value]
    names = [
        re.fullmatch(r"name=([^,=]*)(?:,value=[^,]*)?", entry) if isinstance(entry, str) else None for entry in entries
    ]
    return [f"name={found[1]}" for found in names if found] if all(names) and names else value


def _names_only(value: Any) -> bool:
    """Whether ``value`` holds only the names of secrets (a webhook's ``secret``, as PVE answers it: ``name=X``)."""
    entries = value if isinstance(value, list) else [value]
    return bool(entries) and all(isinstance(entry, str) and re.fullmatch(r"name=[^,=]*", entry) for entry in entries)


def _access_spec_of(cluster: FakeCluster) -> AccessSpec | None:
    control = cluster.acl
    access = AccessSpec(
        groups=[_present_values(groupid=group.groupid, comment=group.comment) for group in control.groups.values()],
        roles=[
            {"roleid": roleid, "privs": sorted(privs)}
            for roleid, privs in control.roles.items()
            if not control.is_builtin_role(roleid)
        ],
        acl=[_acl_entry(entry) for entry in control.acl],
    )
    return access if access.groups or access.roles or access.acl else None


def _acl_entry(entry: AclEntry) -> dict[str, Any]:
    """An ACL entry as ``GET /access/acl`` lists it."""
    propagate = 1 if entry.propagate else 0
    return {"path": entry.path, "type": entry.kind, "ugid": entry.ugid, "roleid": entry.roleid, "propagate": propagate}


def _present_values(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def api_path_of_file(name: str) -> str | None:
    """The API path that answers for a collection the model keeps under a pmxcfs file name (``/etc/pve/...``), for
    its checks and its secrets; ``None`` for a file no API path shows as a collection."""
    return {acme.PLUGINS: "/cluster/acme/plugins", acme.ACCOUNTS: "/cluster/acme/account"}.get(name)


def _stored_configs_of(cluster: FakeCluster) -> list[StoredConfig]:
    """Every collection of the config store that holds something (a section of built-in records once read, too:
    a deleted built-in stays deleted), under its API path, without secrets."""
    store = cluster.configs
    found: list[StoredConfig] = []
    for name, section in store.keyed.items():
        path = path_of_store_name(cluster, name)
        if path is None or not (section.records or section.seeded):
            continue
        api = _api_path(path)
        records = {
            key: _without_secrets(copy.deepcopy(record), api, f"{api}/{key}") for key, record in section.records.items()
        }
        if name == TFA_CONFIG:  # descriptions only: the model never keeps a TOTP secret or a recovery key
            records = copy.deepcopy(section.records)
        found.append(StoredConfig(path, "records", records))
    for name, rules in store.rule_lists.items():
        path = path_of_store_name(cluster, name)
        if path is not None and rules.rules:
            public = [_without_secrets(dict(rule), _api_path(path)) for rule in rules.rules]
            found.append(StoredConfig(path, "rules", public))
    for name, options in store.options.items():
        path = path_of_store_name(cluster, name)
        if path is not None and options:
            found.append(StoredConfig(path, "options", _without_secrets(copy.deepcopy(options), _api_path(path))))
    return found


def _api_path(path: str) -> str:
    """The API path whose secrets apply to the collection at ``path`` (``/``: only the names secret everywhere)."""
    return (api_path_of_file(path) or "/") if path.startswith("/etc/pve/") else path


def _set_up_access(cluster: FakeCluster, spec: AccessSpec) -> None:
    control = cluster.acl
    for group in spec.groups:
        control.groups[str(group["groupid"])] = Group(str(group["groupid"]), str(group.get("comment") or ""))
    for role in spec.roles:
        located(spec.where, partial(_put_role, control, str(role["roleid"]), role.get("privs")))
    for entry in spec.acl:
        kind = str(entry.get("type", "user"))
        grant = partial(control.grant, str(entry["path"]), str(entry["roleid"]), **{kind: str(entry["ugid"])},
                        propagate=bool(int(entry.get("propagate", 1))))  # fmt: skip
        located(spec.where, grant)


def _put_role(control: AccessControl, roleid: str, privs: Any) -> None:
    names = str(privs or "").split(",") if not isinstance(privs, list) else privs
    wanted = [str(name).strip() for name in names if str(name).strip()]
    control.roles[roleid] = frozenset(check_privileges(wanted, control.version))


def _store_config(cluster: FakeCluster, stored: StoredConfig) -> None:
    name = store_name_of_path(stored.path)
    if stored.kind == "records":
        section = cluster.configs.section(name)
        section.records = {str(key): dict(copy.deepcopy(record)) for key, record in stored.content.items()}
        section.seeded = True
    elif stored.kind == "rules":
        cluster.configs.rules(name).rules = [dict(copy.deepcopy(rule)) for rule in stored.content]
    else:
        cluster.configs.option_set(name).update(copy.deepcopy(stored.content))


def _add_storage(cluster: FakeCluster, spec: StorageSpec) -> None:
    located(
        spec.where,
        lambda: cluster.add_storage(
            spec.storage,
            plugintype=spec.plugintype,
            content=spec.content,
            shared=spec.shared,
            nodes=spec.nodes,
            size_gib=spec.size_gib,
            used_fraction=spec.used_fraction,
            path=spec.path,
            enabled=spec.enabled,
        ),
    )
    for volume in spec.volumes:
        add_volume = partial(cluster.add_volume, spec.storage, volume.name, volume.content, volume.size, volume.format)
        located(volume.where, add_volume)


def _add_guest(cluster: FakeCluster, spec: GuestSpec) -> None:
    add = cluster.add_vm if spec.kind == "qemu" else cluster.add_container
    guest = located(spec.where, lambda: add(**spec.options()))
    for snapshot in spec.snapshots:
        guest._take_snapshot(snapshot.name, snapshot.description, snapshot.vmstate)
        if snapshot.config:
            guest.snapshots[snapshot.name] = dict(snapshot.config)
    if spec.snapshots and "parent" in spec.config:  # the snapshot the guest was last rolled back to, or taken
        guest.config["parent"] = spec.config["parent"]
    guest.pending.update(spec.pending)
    guest.pending_delete.extend(spec.pending_delete)


def _from_environment(name: str, what: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise ValueError(f"{what} comes from the environment variable {name}, which is not set")
    return value


def _add_user(cluster: FakeCluster, spec: UserSpec) -> None:
    options = spec.options()
    if spec.password_env is not None:
        env = spec.password_env
        options["password"] = located(spec.where, lambda: _from_environment(env, f"the password of {spec.userid}"),
                                      "password_env")  # fmt: skip
    if spec.userid == "root@pam":
        user = cluster.access.users["root@pam"]
        for key, value in options.items():
            setattr(user, key, list(value) if isinstance(value, list) else value)
    else:
        located(spec.where, lambda: cluster.access.add_user(spec.userid, **options))
    for token in spec.tokens:
        secret = token.secret
        if token.secret_env is not None:
            what = f"the secret of token {spec.userid}!{token.tokenid}"
            secret = located(token.where, partial(_from_environment, token.secret_env, what), "secret_env")
        token_options = _given(secret=secret, privsep=token.privsep, expire=token.expire, comment=token.comment)
        located(token.where, partial(cluster.access.add_token, spec.userid, token.tokenid, **token_options))


def _set_up_ceph(cluster: FakeCluster, spec: CephSpec) -> None:
    setup = partial(cluster.enable_ceph, spec.nodes, spec.osds_per_node, spec.device_class,
                    [dict(pool) for pool in spec.pools] if spec.pools is not None else None,
                    dict(spec.cephfs) if spec.cephfs is not None else None, spec.initialized,
                    spec.spare_disks)  # fmt: skip
    located(spec.where, setup)


def _ceph_spec_of(cluster: FakeCluster) -> CephSpec | None:
    ceph = cluster.ceph
    if ceph is None:
        return None
    by_host = [len(ceph.osds_on(host)) for host in ceph.installed]
    spares = [sum(1 for disk in ceph.spare_disks if disk.host == host) for host in ceph.installed]
    pools = [
        {"name": pool.name, "pg_num": pool.pg_num, "size": pool.size, "min_size": pool.min_size}
        for pool in ceph.pools
        if pool.application == "rbd"
    ]
    fs = ceph.filesystems[0] if ceph.filesystems else None
    data_pool = ceph.pool(fs.data_pool) if fs else None
    return CephSpec(
        nodes=list(ceph.installed) if ceph.installed != [node.name for node in cluster.nodes] else None,
        osds_per_node=max(by_host, default=0),
        device_class=ceph.osds[0].device_class if ceph.osds else "nvme",
        pools=pools,
        cephfs={"name": fs.name, "pg_num": data_pool.pg_num if data_pool else 32} if fs else None,
        initialized=ceph.initialized,
        spare_disks=max(spares, default=0),
    )


def _rules_as_groups(
    rules: list[dict[str, Any]], groups: list[dict[str, Any]], resources: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A release before PVE 9 has HA groups, no rules: the cluster a scenario's node-affinity rule describes holds
    the group PVE 9's migration turns into that rule (pve-ha-manager src/PVE/HA/Groups.pm and Rules.pm, the
    migration in src/PVE/HA/Manager.pm 862ff at b71218f2: group nodes -> rule nodes, restricted -> strict, the
    resources' group -> the rule's resources), with the resources in it. Other rules stay as they are."""
    kept = []
    for rule in rules:
        members = [sid.strip() for sid in str(rule.get("resources", "")).split(",") if sid.strip()]
        if rule.get("type") != "node-affinity" or not members:
            kept.append(rule)
            continue
        group = {"group": rule["rule"], "nodes": rule.get("nodes", "")}
        if rule.get("strict"):
            group["restricted"] = 1
        if rule.get("comment"):
            group["comment"] = rule["comment"]
        groups.append(group)
        for resource in resources:
            if str(resource.get("sid")) in members or f"vm:{resource.get('sid')}" in members:
                resource["group"] = rule["rule"]
    return kept


def _set_up_ha(cluster: FakeCluster, spec: HASpec) -> None:
    if spec.shutdown_policy is not None:
        located(spec.where, lambda: setattr(cluster.ha, "shutdown_policy", spec.shutdown_policy), "shutdown_policy")
    resources = [dict(entry) for entry in spec.resources]
    groups = [dict(entry) for entry in spec.groups]
    rules = [dict(entry) for entry in spec.rules]
    if rules and not cluster.has("ha-rules"):
        rules = _rules_as_groups(rules, groups, resources)
    cluster.ha.load(resources, groups, rules)
    if spec.chaos is not None:
        cluster.ha.enable_chaos(**spec.chaos)
