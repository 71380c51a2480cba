"""The fake cluster: nodes, guests, storage, pools, users, tasks and one clock, changed by tests and the API alike.

    cluster = FakeCluster.default()            # the built-in 3-node scenario
    vm = cluster.guest(100)
    vm.start()                                 # a qmstart task; instant by default
    cluster.node("pve2").go_offline()
    cluster.inject_error("POST", "/nodes/{node}/qemu/{vmid}/status/start", 500, "boom")

High availability (``cluster.ha``, :class:`~pytest_pvemock.model.cluster_ha.ClusterHA`) runs PVE's HA
manager on the clock, one round every 10 s of cluster time; dormant until a resource exists:

    cluster.ha.add_resource("vm:100", state="started", max_restart=1, max_relocate=1)  # or ha_resources=[...]
    cluster.node("pve1").power_off()           # also power_on, cut_network, restore_network, reboot,
    cluster.clock.advance(70)                  # shutdown, restart_lrm, enable/disable_maintenance
    cluster.guest(100).hastate                 # 'fence'; after ~120 s 'started' on another node
    cluster.is_primary(100, "pve2")            # running there with HA state 'started'
    cluster.primary_node(100)                  # the node where it is primary, or None
    cluster.ha.migrate("vm:100", "pve3")       # relocate, stop, set_state, fail_starts, fail_migrations,
    cluster.ha.shutdown_policy = "migrate"     # set_error, enable_chaos(seed), log, manager_status

In task mode ``instant`` HA requests settle at once (no clock movement); node failures need ``clock.advance``.

Everything the API answers is computed from this object, so every view agrees with every other one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.access.acl import AccessControl
from pytest_pvemock.model.access.directory import Directories
from pytest_pvemock.model.access.users import DEFAULT_ROOT_PASSWORD, AccessStore
from pytest_pvemock.model.apt_sources import AptSources
from pytest_pvemock.model.backup_schedule import BackupScheduler
from pytest_pvemock.model.backups import add_backup
from pytest_pvemock.model.builders.from_recording import spec_from_answers
from pytest_pvemock.model.builders.scenario import scenario_spec
from pytest_pvemock.model.builders.spec import DEFAULT_VERSION, ClusterSpec
from pytest_pvemock.model.ceph import CephCluster, build_ceph
from pytest_pvemock.model.clock import DEFAULT_EPOCH, Clock
from pytest_pvemock.model.cluster_ha import ClusterHA
from pytest_pvemock.model.config_store import ConfigStore
from pytest_pvemock.model.consoles import Consoles
from pytest_pvemock.model.faults import FaultRule
from pytest_pvemock.model.guest_agent_state import GuestAgents
from pytest_pvemock.model.guest_config import (
    new_lxc_config,
    new_qemu_config,
)
from pytest_pvemock.model.guest_exec import GuestFiles, GuestPrograms
from pytest_pvemock.model.guests import Container, Guest, QemuVM
from pytest_pvemock.model.key_order import KeyOrder
from pytest_pvemock.model.node_certificates import NodeCertificates
from pytest_pvemock.model.node_disks import NodeDiskState, backing_figures
from pytest_pvemock.model.nodes.node import Node
from pytest_pvemock.model.notifications import NotificationLog
from pytest_pvemock.model.pools import Pool
from pytest_pvemock.model.provisioning import as_base_volume, default_boot_order, fill_in_options, volume_names
from pytest_pvemock.model.realm_sync import RealmSyncScheduler
from pytest_pvemock.model.release_platform import has_feature, platform_of
from pytest_pvemock.model.replication import ReplicationState
from pytest_pvemock.model.request_log import RequestLog
from pytest_pvemock.model.revision import Revision
from pytest_pvemock.model.sdn import SdnState
from pytest_pvemock.model.storage import Storage, Volume
from pytest_pvemock.model.tasks import Task, TaskRegistry
from pytest_pvemock.model.time_zone import zone_info
from pytest_pvemock.model.volumes import allocate_volname, container_format
from pytest_pvemock.schema.registry import get_registry, resolve_release, supported_release

NO_QUORUM = "cluster not ready - no quorum?"
NODE_UNREACHABLE = "Errors during connection establishment, proxy handshake: No route to host"


class NotInClusterError(LookupError):
    """``cluster.node(name)`` or ``cluster.guest(vmid)`` for one the cluster does not have."""


def _listed(keyed: dict[Any, Any]) -> str:
    names = [str(key) for key in keyed]
    return ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "") if names else "none"


class HaStatusProvider(Protocol):
    """What the HA manager (model/ha) tells the rest of the model; ``None`` where HA does not apply."""

    def guest_hastate(self, guest: Guest) -> str | None: ...

    def guest_ha_status(self, guest: Guest) -> dict[str, Any] | None: ...

    def node_hastate(self, node: Node) -> str | None: ...

    # Optional: ``request_guest_state(guest, "started" | "stopped", authid[, timeout=]) -> Task | None``; when
    # present and it returns a task, start/stop/shutdown of that guest go through HA (``hastart``/``hastop``)
    # instead; likewise ``request_guest_migration(guest, target, authid)`` for ``migrate`` (``hamigrate``).


class ClusterLock:
    """A reentrant lock that copies (``copy.deepcopy``, pickle) as a new, free lock: a copy is another cluster."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()

    def __reduce__(self) -> tuple[type[ClusterLock], tuple[()]]:
        return (ClusterLock, ())


class FakeCluster:
    """A Proxmox VE cluster in memory. Build it empty, from a scenario, or with :meth:`default`."""

    def __init__(
        self,
        name: str = "pvemock",
        version: str = DEFAULT_VERSION,
        host: str = "pve.test",
        port: int = 8006,
        task_mode: str = "instant",
        seed: int | str | None = None,
        shuffle_keys: bool = True,
        start_time: int = DEFAULT_EPOCH,
        timezone: str = "UTC",
    ) -> None:
        version = supported_release(version)
        self.name = name
        #: The release the cluster answers as (``"8.2.5"``, ``"7.2-3"``), resolved from what was given
        #: (``"8.2"``: its last release, ``"8"``: its newest, ``"latest"``) by ``schema.registry.resolve_release``.
        self.version = version
        self.release = resolve_release(version)
        self.host = host
        self.port = port
        #: Figures are drawn from the seed (0 unless given); ticket and token secrets only when one is given.
        self.seed: int | str = 0 if seed is None else seed
        self.timezone = timezone
        self.revision = Revision()
        #: Held by every transport (in-process patches, pvesh, the HTTPS server) while it answers a request, so
        #: that concurrent clients see each change whole; hold it too to change the cluster while clients talk.
        self.lock = ClusterLock()
        self.clock = Clock(start_time, task_mode)
        self.access = AccessStore(seed, self.clock.now)
        #: Roles, groups and ACL entries (the rest of ``user.cfg``); see :class:`~.access.acl.AccessControl`.
        self.acl = AccessControl(version=self.release.version)
        #: The LDAP/AD servers the ``ldap``/``ad`` realms sync from and log in against: ``directories.of(realm)``.
        self.directories = Directories()
        #: What clients write to PVE's small config files (jobs, firewall, SDN, options ...); see ``config_store``.
        self.configs = ConfigStore()
        #: SDN's applied state: the running config and each node's generated file; see :mod:`.sdn`.
        self.sdn = SdnState()
        self.tasks = TaskRegistry(self.clock, self._process_ids)
        self.faults: list[FaultRule] = []
        #: The PVE API requests answered, secrets masked (see :mod:`.request_log`); kept across a reset.
        self.requests = RequestLog()
        #: Per-test answers that replace the API's own: ``(method, template or path) -> callback(ctx)``.
        self.api_overrides: dict[tuple[str, str], Callable[[Any], Any]] = {}
        self.key_order = KeyOrder(self.seed, shuffle_keys)
        #: The HA manager (``pve-ha-manager`` on the cluster clock); see :class:`~.cluster_ha.ClusterHA`.
        self.ha = ClusterHA(self)
        self.ha_provider: HaStatusProvider | None = self.ha
        self.scenario_name: str | None = None
        #: The scenario's ``setup`` writes its API has still to answer (``model.builders.spec.SetupRequest``).
        self.setup_requests: list[Any] = []
        self._nodes: dict[str, Node] = {}
        self._guests: dict[int, Guest] = {}
        self._storages: dict[str, Storage] = {}
        self._pools: dict[str, Pool] = {}
        self._quorum_override: bool | None = None
        self._pool_index: tuple[tuple[tuple[str, int], ...], dict[int, str]] | None = None
        self.repoid = self.release.repoid
        #: The hyper-converged Ceph cluster (``None``: not installed, as on a fresh PVE); see :meth:`enable_ceph`.
        self.ceph: CephCluster | None = None
        #: What ``/nodes/{node}/disks`` wrote on each node: spare disks, volume groups, pools, mounts
        #: (see :mod:`.node_disks`).
        self.node_disks: dict[str, NodeDiskState] = {}
        #: What commands run through a VM's guest agent answer (``guest_programs.register(...)``) and the processes
        #: the agents run; the files ``agent/file-write`` wrote (see :mod:`.guest_exec`).
        self.guest_programs = GuestPrograms()
        self.guest_files = GuestFiles()
        #: Each node's custom certificate files (``pveproxy-ssl.pem``/``.key``) and what its pveproxy presents.
        self.node_certificates = NodeCertificates()
        #: Each node's APT repository files, as ``/nodes/{node}/apt/repositories`` writes them (:mod:`.apt_sources`).
        self.apt_sources = AptSources()
        #: Each VM's agent: frozen file systems, trims, sleep, passwords set (see :mod:`.guest_agent_state`).
        self.guest_agents = GuestAgents()
        #: The VMs whose ``pve-dbus-vmstate@<vmid>`` helper runs (``POST .../dbus-vmstate``).
        self.dbus_vmstate_helpers: set[int] = set()
        #: When the first node was set up (``pvecm create``): the date of the cluster's root CA.
        self.created_at = int(start_time) - figures.seeded(self.seed, "cluster-created").randrange(90, 700) * 86400
        #: The console proxies (VNC, terminal, SPICE) the nodes run, and the ports they hold (see :mod:`.consoles`).
        self.consoles = Consoles(self)
        #: What the notification targets sent (``POST /cluster/notifications/targets/{name}/test``); see
        #: :mod:`.notifications`.
        self.notifications = NotificationLog()
        #: ``pvescheduler``: the vzdump jobs of ``/cluster/backup`` run at their schedule (see :mod:`.backup_schedule`).
        self.backup_schedule = BackupScheduler(self)
        #: ``pvescheduler``: the realm-sync jobs run at their schedule (see :mod:`.realm_sync`).
        self.realm_sync_schedule = RealmSyncScheduler(self)
        #: Storage replication's state on the nodes: job states, logs, ZFS snapshots (see :mod:`.replication`).
        self.replication = ReplicationState(self)

    # ---- construction ------------------------------------------------------------------------------------------

    @classmethod
    def from_scenario(cls, name_or_path: str | Path = "default", **overrides: Any) -> FakeCluster:
        """A cluster from a built-in scenario name (``default``, ``single-node``, ...) or a YAML file path."""
        return scenario_spec(name_or_path, **overrides).build(cls)

    @classmethod
    def from_cassette(cls, path: str | Path, **overrides: Any) -> FakeCluster:
        """A cluster built from the GET answers recorded in a cassette (see ``model/builders/from_recording.py``).

        Cassette files are data (:mod:`pytest_pvemock.cassette`), read here as the model reads scenario files.
        """
        # imported here for its weight, not for a cycle: reading a cassette loads vcrpy (and aiohttp, ~0.2 s)
        from pytest_pvemock.cassette.answers import answers_by_request, read_answers

        return spec_from_answers(answers_by_request(read_answers(path)), **overrides).build(cls)

    @classmethod
    def from_spec(cls, spec: ClusterSpec) -> FakeCluster:
        """A cluster holding what ``spec`` describes (``model/builders/spec.py``; ``spec_from_cluster`` makes one)."""
        return spec.build(cls)

    @classmethod
    def default(cls, **overrides: Any) -> FakeCluster:
        """The built-in default scenario: 3 nodes, a few VMs and containers, local and shared storage, a pool."""
        return cls.from_scenario("default", **overrides)

    # ---- reaching it -------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def hosts(self) -> list[str]:
        """Every host name a client may use for this cluster: its own, each node's name and each node's IP."""
        names = [self.host]
        for node in self._nodes.values():
            names.extend(name for name in (node.name, node.ip) if name not in names)
        return names

    @property
    def user(self) -> str:
        return "root@pam"

    @property
    def password(self) -> str:
        root = self.access.users.get("root@pam")
        return root.password if root is not None and root.password else DEFAULT_ROOT_PASSWORD

    @property
    def full_version(self) -> str:
        """The release (``"9.1.5"``): what ``GET /version`` answers as ``version``; the same as :attr:`version`."""
        return self.version

    @property
    def kernel(self) -> tuple[str, str]:
        """``uname -r`` and ``uname -v`` of the release's nodes (``model/release_platform.py``)."""
        platform = platform_of(self.version)
        return platform.kernel, platform.kernel_build

    def has(self, feature: str) -> bool:
        """Whether the cluster's release has an API behaviour of ``release_platform.FEATURES`` (``"ha-rules"``)."""
        return has_feature(self.version, feature)

    def version_at_least(self, major: int) -> bool:
        """Whether the cluster runs PVE ``major`` or newer."""
        return self.release.major >= major

    @property
    def timezone(self) -> str:
        """The servers' time zone (an IANA name, default ``UTC``): PVE writes the HA status texts in local time."""
        return self._timezone

    @timezone.setter
    def timezone(self, name: str) -> None:
        self.tzinfo = zone_info(name)
        self._timezone = name

    # ---- high availability -------------------------------------------------------------------------------------

    @property
    def ha_resources(self) -> list[dict[str, Any]]:
        """The HA resources as scenarios write them: ``[{"sid": "vm:100", "state": "started", ...}]``."""
        return [{"sid": sid, **(self.ha.resource(sid) or {})} for sid in self.ha.service_config]

    @ha_resources.setter
    def ha_resources(self, resources: list[dict[str, Any]]) -> None:
        self.ha.load(resources, self.ha.groups, self.ha.rules)

    @property
    def ha_groups(self) -> list[dict[str, Any]]:
        """HA groups (PVE 8): ``[{"group": "g1", "nodes": "pve1,pve2:2", "restricted": 1}]``."""
        return [{k: v for k, v in entry.items() if k != "type"} for entry in self.ha.group_entries()]

    @ha_groups.setter
    def ha_groups(self, groups: list[dict[str, Any]]) -> None:
        self.ha.set_groups([dict(group) for group in groups])

    @property
    def ha_rules(self) -> list[dict[str, Any]]:
        """HA rules (PVE 9): ``[{"rule": "r1", "type": "node-affinity", "resources": "vm:100", "nodes": "pve1"}]``."""
        return self.ha.rule_entries()

    @ha_rules.setter
    def ha_rules(self, rules: list[dict[str, Any]]) -> None:
        self.ha.set_rules([dict(rule) for rule in rules])

    def is_primary(self, vmid: int | str, node: str) -> bool:
        """Is guest ``vmid`` primary on ``node``: running there and, if HA manages it, HA state ``started``
        there? False in every transitional HA state (migrate, relocate, fence, recovery, freeze, request_*,
        error) and for a guest on a node that lost power or network. A guest HA does not manage is primary
        wherever it runs."""
        guest = self.find_guest(vmid)
        if guest is None:
            return False
        return self.ha.is_primary(guest, node)

    def primary_node(self, vmid: int | str) -> str | None:
        """The node on which guest ``vmid`` is primary (see :meth:`is_primary`), or ``None``."""
        guest = self.find_guest(vmid)
        if guest is None:
            return None
        return guest.node if self.ha.is_primary(guest, guest.node) else None

    # ---- quorum and reachability -------------------------------------------------------------------------------

    @property
    def quorate(self) -> bool:
        if self._quorum_override is not None:
            return self._quorum_override
        online = sum(1 for node in self._nodes.values() if node.online)
        return not self._nodes or online * 2 > len(self._nodes)

    def set_quorum(self, quorate: bool | None) -> None:
        """Force quorum on or off; ``None`` goes back to counting online nodes (a majority is quorate)."""
        self._quorum_override = quorate

    def require_quorum(self) -> None:
        if not self.quorate:
            raise PVEError(NO_QUORUM, 500)

    def require_node_reachable(self, name: str) -> Node:
        """The node, or PVE's error for a node that does not exist or cannot be reached (595)."""
        node = self._nodes.get(name)
        if node is None:
            raise PVEError(
                f"hostname lookup '{name}' failed - failed to get address info for: {name}: Name or service not known",
                500,
            )
        if not node.online:
            raise PVEError(NODE_UNREACHABLE, 595)
        return node

    # ---- nodes -------------------------------------------------------------------------------------------------

    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    def node(self, name: str) -> Node:
        """The node ``name``; :class:`NotInClusterError` (a ``LookupError``) naming the nodes there are if none."""
        node = self._nodes.get(name)
        if node is None:
            raise NotInClusterError(f"no node {name!r} in cluster {self.name!r} (nodes: {_listed(self._nodes)})")
        return node

    def find_node(self, name: str) -> Node | None:
        """The node ``name``, or ``None``."""
        return self._nodes.get(name)

    def add_node(self, name: str, spare_disks: int = 0, **options: Any) -> Node:
        """Add a node; ``options``: ip, cpus, memory_gib, disk_gib, level, online (see :meth:`Node.build`);
        ``spare_disks``: empty disks besides the system disk, for ``/nodes/{node}/disks`` to set up."""
        if name in self._nodes:
            raise ValueError(f"node '{name}' already exists")
        if not 0 <= spare_disks <= 24:
            raise ValueError(f"spare_disks must be between 0 and 24, not {spare_disks}")
        self.node_disks[name] = NodeDiskState(spare_count=spare_disks)
        nodeid = max((node.nodeid for node in self._nodes.values()), default=0) + 1
        node = Node.build(name, nodeid, self.seed, self.clock.now(), **options)
        node._on_change = self.revision.touch
        node._cluster = self
        self._nodes[name] = node
        self.ha.node_added(name)
        self.revision.touch()
        return node

    def remove_node(self, name: str) -> None:
        guests = [guest.vmid for guest in self.guests_on(name)]
        if guests:
            raise PVEError(f"cannot remove node '{name}': guests {guests} are still on it")
        self._nodes.pop(name, None)
        self.ha.node_removed(name)
        self.revision.touch()

    def set_node_online(self, name: str, online: bool = True) -> None:
        """Power ``name`` on or off (off: its guests stop at once; HA fences and recovers them)."""
        self._need_node(name)
        self.ha.set_power(name, online)

    def _need_node(self, name: str) -> Node:
        node = self._nodes.get(name)
        if node is None:
            raise KeyError(f"no such node '{name}'")
        return node

    def _process_ids(self, node_name: str, now: int) -> tuple[int, int]:
        node = self._nodes.get(node_name)
        if node is None:
            return 4242, now
        return node.next_process(now)

    # ---- guests ------------------------------------------------------------------------------------------------

    @property
    def guests(self) -> list[Guest]:
        return [self._guests[vmid] for vmid in sorted(self._guests)]

    @property
    def vms(self) -> list[QemuVM]:
        return [guest for guest in self.guests if isinstance(guest, QemuVM)]

    @property
    def containers(self) -> list[Container]:
        return [guest for guest in self.guests if isinstance(guest, Container)]

    def guest(self, vmid: int | str) -> Guest:
        """The VM or container ``vmid``; :class:`NotInClusterError` (a ``LookupError``) naming the guests if none."""
        guest = self.find_guest(vmid)
        if guest is None:
            raise NotInClusterError(f"no guest {vmid!r} in cluster {self.name!r} (guests: {_listed(self._guests)})")
        return guest

    def find_guest(self, vmid: int | str) -> Guest | None:
        """The VM or container ``vmid``, or ``None`` (also for a ``vmid`` that is not a number)."""
        try:
            return self._guests.get(int(vmid))
        except (TypeError, ValueError):
            return None

    def guests_on(self, node: str, kind: str | None = None) -> list[Guest]:
        return [guest for guest in self.guests if guest.node == node and (kind is None or guest.kind == kind)]

    def guest_on(self, node: str, vmid: int | str, kind: str) -> Guest:
        """The guest ``vmid`` of ``kind`` on ``node``, or PVE's error for a config file that does not exist."""
        guest = self._guests.get(int(vmid))
        if guest is None or guest.node != node or guest.kind != kind:
            directory = "qemu-server" if kind == "qemu" else "lxc"
            raise PVEError(f"Configuration file 'nodes/{node}/{directory}/{vmid}.conf' does not exist", 500)
        return guest

    def next_vmid(self, start: int = 100) -> int:
        vmid = start
        while vmid in self._guests:
            vmid += 1
        return vmid

    def add_vm(
        self,
        vmid: int | None = None,
        node: str | None = None,
        name: str | None = None,
        status: str = "stopped",
        cores: int = 2,
        sockets: int = 1,
        memory: int = 2048,
        disk_gib: int = 32,
        storage: str = "local-lvm",
        tags: Iterable[str] | str = (),
        template: bool = False,
        pool: str | None = None,
        lock: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> QemuVM:
        """Put a QEMU VM into the cluster as if it had always been there (no task)."""
        vmid, node = self._place(vmid, node)
        rng = figures.seeded(self.seed, "qemu", vmid)
        ctime = self.clock.now() - rng.randrange(86_400, 40_000_000)
        volname = self._first_volname("qemu", storage, vmid, disk_gib, template)
        base = new_qemu_config(
            vmid,
            name or f"vm{vmid}",
            rng,
            self.version,
            ctime,
            storage,
            cores,
            sockets,
            memory,
            disk_gib,
            volname=volname,
        )
        vm = QemuVM(self, vmid, node, self._finish_config(base, config, tags, template, lock), status)
        self.register_guest(vm, pool=pool)
        return vm

    def add_container(
        self,
        vmid: int | None = None,
        node: str | None = None,
        name: str | None = None,
        status: str = "stopped",
        cores: int = 1,
        memory: int = 512,
        swap: int = 512,
        disk_gib: int = 8,
        storage: str = "local-lvm",
        tags: Iterable[str] | str = (),
        template: bool = False,
        pool: str | None = None,
        lock: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> Container:
        """Put an LXC container into the cluster as if it had always been there (no task)."""
        vmid, node = self._place(vmid, node)
        rng = figures.seeded(self.seed, "lxc", vmid)
        volname = self._first_volname("lxc", storage, vmid, disk_gib, template)
        base = new_lxc_config(name or f"ct{vmid}", vmid, rng, storage, cores, memory, swap, disk_gib, volname=volname)
        ct = Container(self, vmid, node, self._finish_config(base, config, tags, template, lock), status)
        self.register_guest(ct, pool=pool)
        return ct

    def _first_volname(self, kind: str, storage: str, vmid: int, disk_gib: int, template: bool) -> str:
        """The name of a scenario guest's first volume as its storage type names it (``base-`` for templates)."""
        definition = self._storages.get(storage)
        plugintype = definition.plugintype if definition is not None else "lvmthin"
        fmt = container_format(plugintype, disk_gib) if kind == "lxc" else None
        volname = allocate_volname(plugintype, storage, vmid, volume_names(self, storage), fmt)
        return as_base_volume(f"{storage}:{volname}").split(":", 1)[1] if template else volname

    def _place(self, vmid: int | None, node: str | None) -> tuple[int, str]:
        vmid = self.next_vmid() if vmid is None else int(vmid)
        if vmid in self._guests:
            raise PVEError(f"VM {vmid} already exists on node '{self._guests[vmid].node}'")
        if node is None:
            if not self._nodes:
                raise ValueError("add a node before adding guests")
            node = next(iter(self._nodes))
        self._need_node(node)
        return vmid, node

    @staticmethod
    def _finish_config(
        base: dict[str, Any],
        extra: dict[str, Any] | None,
        tags: Iterable[str] | str,
        template: bool,
        lock: str | None,
    ) -> dict[str, Any]:
        config = {**base, **(extra or {})}
        tag_text = tags if isinstance(tags, str) else ";".join(tags)
        if tag_text:
            config["tags"] = tag_text
        if template:
            config["template"] = 1
        if lock:
            config["lock"] = lock
        return config

    def register_guest(self, guest: Guest, pool: str | None = None) -> None:
        if guest.vmid in self._guests:
            raise PVEError(f"VM {guest.vmid} already exists on node '{self._guests[guest.vmid].node}'")
        self._guests[guest.vmid] = guest
        if pool:
            self._need_pool(pool).vmids.append(guest.vmid)
        self.revision.touch()

    def unregister_guest(self, vmid: int) -> None:
        self._guests.pop(int(vmid), None)
        for pool in self._pools.values():
            if vmid in pool.vmids:
                pool.vmids.remove(vmid)
        self.revision.touch()

    def remove_guest(self, vmid: int) -> None:
        """Take a guest out of the cluster at once, whatever its state (no task, no checks)."""
        self.unregister_guest(vmid)

    def create_guest(self, kind: str, node: str, vmid: int, options: dict[str, Any], authid: str = "root@pam") -> Task:
        """``POST /nodes/{node}/qemu|lxc``: allocate volumes, write the config (locked ``create``), run the task."""
        self.require_quorum()
        self.require_node_reachable(node)
        noun = "VM" if kind == "qemu" else "CT"
        if vmid in self._guests:
            existing = self._guests[vmid]
            raise PVEError(f"unable to create {noun} {vmid} - {noun} {vmid} already exists on node '{existing.node}'")
        options = dict(options)
        start = bool(options.pop("start", 0))
        pool = options.pop("pool", None)
        if pool is not None and pool not in self._pools:
            raise PVEError(f"pool '{pool}' does not exist")
        config, log = self._config_from_create_options(kind, vmid, options)
        config["lock"] = "create"
        guest: Guest = (QemuVM if kind == "qemu" else Container)(self, vmid, node, config)
        self.register_guest(guest, pool=pool)

        def finish(task: Task) -> None:
            task.log.extend(log)
            guest.config.pop("lock", None)
            if start:
                guest._boot()

        return self.tasks.start(node, ("qm" if kind == "qemu" else "vz") + "create", vmid, authid, work=finish)

    def _config_from_create_options(
        self, kind: str, vmid: int, options: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """The new guest's config (volumes allocated, NICs completed, PVE's defaults) and the task's log lines."""
        rng = figures.seeded(self.seed, "create", kind, vmid)
        given = {
            key: value
            for key, value in options.items()
            if key not in ("ostemplate", "password", "ssh-public-keys", "storage", "unique", "force", "archive")
        }
        if kind == "lxc" and "rootfs" not in given:
            # pve-container LXC.pm create_vm: without rootfs, a 4 GiB volume on ``storage`` (default ``local``)
            given["rootfs"] = f"{options.get('storage', 'local')}:4"
        config, log = fill_in_options(self, kind, vmid, given, template=bool(given.get("template")))
        if kind == "qemu":
            if not config.get("boot"):
                boot = default_boot_order(config)
                if boot:
                    config["boot"] = boot
            config.setdefault("memory", "512")
            config.setdefault("smbios1", f"uuid={figures.uuid4(rng)}")
            config.setdefault("vmgenid", figures.uuid4(rng))
            qemu = platform_of(self.version).qemu
            config.setdefault("meta", f"creation-qemu={qemu},ctime={self.clock.now()}")
        else:
            config.setdefault("memory", 512)
            config.setdefault("swap", 512)
            config.setdefault("arch", "amd64")
            config.setdefault("ostype", "debian")
        return config, log

    # ---- storage -----------------------------------------------------------------------------------------------

    @property
    def storages(self) -> list[Storage]:
        return list(self._storages.values())

    def storage(self, storage_id: str) -> Storage | None:
        return self._storages.get(storage_id)

    def add_storage(
        self,
        storage: str,
        plugintype: str = "dir",
        content: Iterable[str] = ("images", "rootdir"),
        shared: bool = False,
        nodes: Iterable[str] | None = None,
        size_gib: float = 100,
        used_fraction: float = 0.2,
        path: str | None = None,
        enabled: bool = True,
        options: dict[str, str | int] | None = None,
    ) -> Storage:
        """Define a storage; ``options`` are its other ``storage.cfg`` properties (``server``, ``export``...)."""
        if storage in self._storages:
            raise ValueError(f"storage '{storage}' already exists")
        entry = Storage.build(
            storage,
            plugintype,
            list(content),
            self.seed,
            size_gib=size_gib,
            used_fraction=used_fraction,
            shared=shared,
            nodes=list(nodes) if nodes else None,
            path=path,
            enabled=enabled,
            options=options,
        )
        entry._on_change = self.revision.touch
        self._storages[storage] = entry
        self.revision.touch()
        return entry

    def remove_storage(self, storage: str) -> None:
        """Drop a storage definition (guest disks that name it stay in their configs, as in PVE), its ACL entries
        and its pool memberships (pve-access-control ``remove_storage_access``)."""
        self._storages.pop(storage, None)
        path = f"/storage/{storage}"
        self.acl.acl = [entry for entry in self.acl.acl if entry.path != path and not entry.path.startswith(path + "/")]
        for pool in self._pools.values():
            if storage in pool.storages:
                pool.storages.remove(storage)
        self.revision.touch()

    def add_volume(self, storage: str, name: str, content: str, size: int, format: str = "raw") -> Volume:
        """A static volume (ISO, container template, backup) on ``storage``: ``name`` like ``iso/debian.iso``."""
        target = self._storages[storage]
        volume = Volume(f"{storage}:{name}", content, size, format, self.clock.now() - 864_000 - len(name) * 3_607)
        target.volumes.append(volume)
        return volume

    def storage_cfg_digest(self) -> str:
        """The SHA-1 of ``storage.cfg``, the ``digest`` every definition carries (``PVE::SectionConfig``)."""
        text = "\n".join(storage.cfg_section() for storage in self._storages.values())
        return hashlib.sha1(text.encode()).hexdigest()

    def add_backup(
        self, storage: str, vmid: int, ctime: int | None = None, notes: str | None = None, protected: bool = False
    ) -> Volume:
        """A vzdump archive of guest ``vmid`` on ``storage``, made at ``ctime`` (default: now) with the guest's config
        as it is now (:func:`pytest_pvemock.model.backups.add_backup`)."""
        return add_backup(self, storage, vmid, ctime=ctime, notes=notes, protected=protected)

    def storages_on(self, node: str) -> list[Storage]:
        return [storage for storage in self._storages.values() if storage.available_on(node)]

    def guest_volumes(self, storage: str, node: str | None = None) -> list[tuple[Guest, str, int]]:
        """(guest, volid, size) for each guest disk on ``storage`` (on ``node`` unless the storage is shared)."""
        target = self._storages.get(storage)
        found: list[tuple[Guest, str, int]] = []
        for guest in self.guests:
            if node is not None and target is not None and not target.shared and guest.node != node:
                continue
            found.extend((guest, volid, size) for where, volid, size in guest.volume_list() if where == storage)
        return found

    def allocations(self) -> dict[tuple[str, str | None], int]:
        """Bytes of guest volumes per (storage, node); shared storages count under (storage, None)."""
        totals: dict[tuple[str, str | None], int] = {}
        shared = {name for name, storage in self._storages.items() if storage.shared}
        freed = {name: storage.freed for name, storage in self._storages.items() if storage.freed}
        for guest in self._guests.values():
            for storage, volid, size in guest.volume_list():
                if volid in freed.get(storage, ()):
                    continue  # deleted through DELETE .../content while a config still names it
                key = (storage, None if storage in shared else guest.node)
                totals[key] = totals.get(key, 0) + size
        return totals

    def storage_usage(
        self, storage: str, node: str, allocations: dict[tuple[str, str | None], int] | None = None
    ) -> tuple[int, int, int]:
        target = self._storages[storage]
        if self.ceph is not None and (on_ceph := self.ceph.storage_usage(self, target)) is not None:
            return on_ceph
        totals = self.allocations() if allocations is None else allocations
        allocated = totals.get((storage, None if target.shared else node), 0)
        backing = backing_figures(self, target, node)
        if backing is not None:  # set up through /nodes/{node}/disks: its size is the disks'
            total, base_used = backing
            used = min(base_used + allocated + target.stored_on(node), total)
            return total, used, total - used
        return target.usage(allocated, node)

    def enable_ceph(
        self,
        nodes: Iterable[str] | None = None,
        osds_per_node: int = 2,
        device_class: str = "nvme",
        pools: list[dict[str, Any]] | None = None,
        cephfs: dict[str, Any] | None = None,
        initialized: bool = True,
        spare_disks: int = 0,
    ) -> CephCluster:
        """Install and set up Ceph as ``pveceph`` does: a monitor and a manager on each of ``nodes`` (default: all),
        ``osds_per_node`` OSDs of ``device_class`` (nvme, ssd, hdd), the ``.mgr`` pool and ``pools`` (default one
        ``ceph-vm``; ``{"name", "pg_num", "size", "min_size", "storage": True}``), each with its RBD storage, and
        with ``cephfs`` (``{"name": "cephfs"}``) a CephFS, an MDS per node and its storage. ``initialized=False``:
        the packages only, no ceph.conf (what ``pveceph init`` starts from); ``spare_disks``: empty disks per node
        for ``pveceph osd create``."""
        build_ceph(
            self,
            nodes=list(nodes) if nodes is not None else None,
            osds_per_node=osds_per_node,
            device_class=device_class,
            pools=pools,
            cephfs=cephfs,
            initialized=initialized,
            spare_disks=spare_disks,
        )
        self.revision.touch()
        assert self.ceph is not None
        return self.ceph

    # ---- pools -------------------------------------------------------------------------------------------------

    @property
    def pools(self) -> list[Pool]:
        return list(self._pools.values())

    def pool(self, poolid: str) -> Pool | None:
        return self._pools.get(poolid)

    def add_pool(self, poolid: str, comment: str = "", vms: Iterable[int] = (), storage: Iterable[str] = ()) -> Pool:
        if poolid in self._pools:
            raise PVEError(f"create pool failed: pool '{poolid}' already exists")
        pool = Pool(poolid, comment)
        self._pools[poolid] = pool
        self.update_pool(poolid, vms=vms, storage=storage)
        return pool

    def update_pool(
        self,
        poolid: str,
        comment: str | None = None,
        vms: Iterable[int] = (),
        storage: Iterable[str] = (),
        delete: bool = False,
        allow_move: bool = False,
    ) -> None:
        """``PUT /pools``: add (or with ``delete``, remove) guests and storages, change the comment; all or nothing.

        pve-manager PVE/API2/Pool.pm update_pool 327-372 (14a22df3): a member added twice, a non-member removed or
        a guest of another pool without ``allow_move`` is refused; guests and storages need not exist.
        """
        pool = self._need_pool(poolid)
        vmids, storages = list(pool.vmids), list(pool.storages)
        moved: dict[str, set[int]] = {}
        for vmid in (int(vmid) for vmid in vms):
            if delete:
                if vmid not in vmids:
                    raise PVEError(f"VM {vmid} is not a pool member")
                vmids.remove(vmid)
                continue
            if vmid in vmids:
                raise PVEError(f"VM {vmid} is already a pool member")
            current = self.pool_of(vmid)
            if current is not None and current != poolid:
                if not allow_move:
                    raise PVEError(f"VM {vmid} belongs already to pool '{current}' and 'allow-move' is not set")
                moved.setdefault(current, set()).add(vmid)
            vmids.append(vmid)
        for storage_id in storage:
            if delete:
                if storage_id not in storages:
                    raise PVEError(f"Storage '{storage_id}' is not a pool member")
                storages.remove(storage_id)
                continue
            if storage_id in storages:
                raise PVEError(f"Storage '{storage_id}' is already a pool member")
            storages.append(storage_id)
        if comment is not None:
            pool.comment = comment
        pool.vmids, pool.storages = vmids, storages
        for other, gone in moved.items():
            self._pools[other].vmids = [vmid for vmid in self._pools[other].vmids if vmid not in gone]
        self._pool_index = None
        self.revision.touch()

    def remove_pool(self, poolid: str) -> None:
        """Pool.pm delete_pool 512-525: only a pool without existing guests and configured storages goes."""
        pool = self._need_pool(poolid)
        for vmid in sorted(pool.vmids, key=str):
            if vmid in self._guests:
                raise PVEError(f"pool '{poolid}' is not empty (contains VM {vmid})")
        for storage_id in sorted(pool.storages):
            if storage_id in self._storages:
                raise PVEError(f"pool '{poolid}' is not empty (contains storage '{storage_id}')")
        del self._pools[poolid]
        self._pool_index = None
        self.revision.touch()

    def pool_of(self, vmid: int) -> str | None:
        signature = tuple((pool.poolid, len(pool.vmids)) for pool in self._pools.values())
        if self._pool_index is None or self._pool_index[0] != signature:
            index = {member: pool.poolid for pool in self._pools.values() for member in pool.vmids}
            self._pool_index = (signature, index)
        return self._pool_index[1].get(vmid)

    def _need_pool(self, poolid: str) -> Pool:
        pool = self._pools.get(poolid)
        if pool is None:
            raise PVEError(f"pool '{poolid}' does not exist")
        return pool

    # ---- faults ------------------------------------------------------------------------------------------------

    def inject_error(
        self,
        method: str,
        path: str,
        code: int = 500,
        message: str = "injected error",
        times: int | None = 1,
    ) -> FaultRule:
        """Answer ``method path`` with ``code`` and ``message`` the next ``times`` times (``None``: until cleared)."""
        rule = FaultRule(method, path, code, message, times)
        self.faults.append(rule)
        return rule

    def clear_errors(self) -> None:
        self.faults.clear()

    def assert_all_faults_used(self) -> None:
        """Fail (``AssertionError`` naming them) if an injected error has not answered as often as it was meant to
        (``times=None``: not even once), as ``responses``' ``assert_all_requests_are_fired``."""
        unused = [rule for rule in self.faults if rule.unused]
        if unused:
            left = {id(rule): "never used" if rule.times is None else f"{rule.times} left" for rule in unused}
            listed = "; ".join(f"{rule.method} {rule.path} ({rule.code}): {left[id(rule)]}" for rule in unused)
            raise AssertionError(f"injected errors not used up: {listed}")

    def assert_called(self, method: str, path: str, times: int | None = None) -> None:
        """Fail unless ``method path`` (concrete or a template) was requested (``times`` times); see
        :meth:`.request_log.RequestLog.assert_called`."""
        self.requests.assert_called(method, path, times)

    def api_override(self, method: str, path: str, callback: Callable[[Any], Any]) -> None:
        """Answer ``method path`` with ``callback(ctx)`` instead of the fake's own answer, until removed.

        ``path`` is a schema template (``/nodes/{node}/status``: every node) or a concrete path
        (``/nodes/pve1/status``: that node only), without ``/api2/json``. ``callback`` gets the API's
        ``HandlerContext`` (``ctx.params`` checked against the schema, ``ctx.cluster``, ``ctx.principal``) and
        returns what goes into ``{"data": ...}``, or raises ``PVEError`` for PVE's errors. Authentication, injected
        errors, parameter checks and answer validation stay as they are. ``ValueError`` when PVE's schema of the
        cluster's release has no such method.
        """
        method = method.upper()
        path = "/" + path.strip("/")
        if get_registry(self.version).resolve(method, path) is None:
            raise ValueError(f"PVE {self.version} has no method {method} {path}")
        self.api_overrides[(method, path)] = callback

    def remove_api_override(self, method: str, path: str) -> None:
        """Give ``method path`` its own answer back (see :meth:`api_override`)."""
        self.api_overrides.pop((method.upper(), "/" + path.strip("/")), None)

    # ---- load --------------------------------------------------------------------------------------------------

    def node_load(self, node: Node) -> tuple[float, int]:
        """(CPU fraction, memory used in bytes) of ``node`` now, its guests' load included (for an online node)."""
        guests_mem, guests_cpu = self.guest_loads(node.name).get(node.name, (0, 0.0))
        return node.cpu(guests_cpu), node.mem_used + guests_mem

    def guest_loads(self, node_name: str | None = None) -> dict[str, tuple[int, float]]:
        """(memory in bytes, CPU in cores) the guests on each node (or on ``node_name``) use now, by node."""
        loads: dict[str, tuple[int, float]] = {}
        for guest in self._guests.values():
            if node_name is None or guest.node == node_name:
                usage = guest.usage()
                mem, cpu = loads.get(guest.node, (0, 0.0))
                loads[guest.node] = (mem + usage["mem"], cpu + float(usage["cpu"]) * guest.maxcpu)
        return loads

    def __repr__(self) -> str:
        return (
            f"<FakeCluster {self.name!r} PVE {self.version}: {len(self._nodes)} nodes, "
            f"{len(self._guests)} guests, {self.url}>"
        )


__all__ = ["FakeCluster", "HaStatusProvider", "PVEError", "ParameterError"]
