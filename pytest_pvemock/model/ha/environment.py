"""The boundary between the HA stack and the world it runs in.

pve-ha-manager reaches the cluster through ``PVE::HA::Env``: the clock, quorum, the cluster file system
(``manager_status``, ``lrm_status_<node>``, ``resources.cfg``, ``rules.cfg``, ``crm_commands``), cluster locks,
watchdogs and the guests themselves. :class:`HAHost` is that boundary as a Protocol. The case simulator
(:mod:`.simulator`) implements it with fake hardware; the FakeCluster implements it with its own model.

Each daemon (CRM or LRM of a node) sees the host through a :class:`DaemonEnv`, which adds the node name,
the daemon's own clock reading and its log prefix.
"""

from __future__ import annotations

from typing import Any, Protocol

from .locks import ClusterLocks, Watchdogs


class ClusterFSError(Exception):
    """The cluster file system refused a read or write (pmxcfs not mounted or read-only)."""


class HAConfigError(Exception):
    """A configuration change the HA stack cannot apply (e.g. moving a guest whose config moved meanwhile)."""


class GuestMigration(Protocol):
    """A migration or relocation the host runs as a worker of the LRM (PVE forks it: LRM.pm run_workers 632-670)."""

    def outcome(self) -> bool | None:
        """``None`` while it runs; then whether the guest moved to the target."""
        ...


class HAHost(Protocol):
    """What the HA stack needs from the cluster it manages. Times are integer seconds."""

    cluster_locks: ClusterLocks
    watchdogs: Watchdogs

    def now(self) -> int:
        """The cluster clock."""
        ...

    def write_log(self, level: str, time: int, origin: str, message: str) -> None:
        """Record one log line from ``origin`` (``node1/crm``, ``node1/lrm``)."""
        ...

    def node_membership(self) -> tuple[dict[str, bool], bool]:
        """``({node: online}, quorate)``: online means a member of the quorate partition."""
        ...

    def cluster_fs_ok(self, node: str, what: str) -> bool:
        """Whether ``node`` can use the cluster file system: ``what`` is ``rw`` or ``update``."""
        ...

    def node_shutdown_request(self, node: str) -> tuple[bool, bool]:
        """``(shutdown, reboot)`` if the node is being shut down or rebooted."""
        ...

    def read_manager_status(self) -> dict[str, Any]:
        """The last ``manager_status`` written (treat as read-only)."""
        ...

    def write_manager_status(self, status: dict[str, Any]) -> None: ...

    def read_lrm_status(self, node: str) -> dict[str, Any]:
        """The last ``lrm_status`` of ``node``, ``{}`` if none (treat as read-only)."""
        ...

    def write_lrm_status(self, node: str, status: dict[str, Any]) -> None: ...

    def read_service_config(self) -> dict[str, dict[str, Any]]:
        """``resources.cfg`` with defaults filled in: ``{sid: {node, type, state, max_restart, ...}}`` (read-only)."""
        ...

    def update_service_config(self, changes: dict[str, dict[str, Any]]) -> None:
        """Set keys of existing resources: ``{sid: {key: value}}``."""
        ...

    def change_service_location(self, sid: str, current_node: str, new_node: str) -> None:
        """Move a guest's configuration to ``new_node`` (migration end, or recovery stealing it)."""
        ...

    def pop_crm_commands(self) -> list[str]:
        """Read and empty the CRM command queue."""
        ...

    def new_uid(self, state: str) -> str:
        """A service command uid not used before in this HA cluster (PVE draws a random one:
        ``compute_new_uuid``, src/PVE/HA/Manager.pm:387 at pve-ha-manager b71218f2); the same sequence for the same
        cluster history."""
        ...

    def any_pending_crm_command(self) -> bool: ...

    def read_rules_config(self) -> str:
        """The text of ``rules.cfg`` (PVE 9), ``""`` if none."""
        ...

    def write_rules_config(self, text: str) -> None: ...

    def read_groups_config(self) -> str | None:
        """The text of ``groups.cfg`` (PVE 8), ``None`` if it does not exist."""
        ...

    def delete_groups_config(self) -> None: ...

    def datacenter_settings(self) -> dict[str, Any]:
        """``{"ha": {...}, "crs": {...}}`` from ``datacenter.cfg``."""
        ...

    def static_node_stats(self) -> dict[str, dict[str, Any]]:
        """``{node: {maxcpu, maxmem}}`` for the ``static`` CRS scheduler."""
        ...

    def static_service_stats(self) -> dict[str, dict[str, Any]]:
        """``{sid: {maxcpu, maxmem}}`` (configured CPUs and memory) for the ``static`` CRS scheduler."""
        ...

    def dynamic_node_stats(self) -> dict[str, dict[str, Any]]:
        """``{node: {maxcpu, maxmem}}`` for the ``dynamic`` CRS scheduler."""
        ...

    def dynamic_service_stats(self) -> dict[str, dict[str, Any]]:
        """``{sid: {cpu, mem, maxcpu, maxmem}}`` (current use) for the ``dynamic`` CRS scheduler."""
        ...

    def node_version(self, node: str) -> str:
        """The pve-manager version of ``node``."""
        ...

    # The guests, as the resource agents see them.
    def guest_running(self, node: str, sid: str) -> bool: ...

    def set_guest_running(self, node: str, sid: str, running: bool) -> None: ...

    def forget_guest(self, node: str, sid: str) -> None:
        """The guest left ``node`` (end of a migration): it no longer runs there."""
        ...

    def start_migration(self, node: str, sid: str, target: str, online: bool) -> GuestMigration | None:
        """Start moving the guest from ``node`` to ``target`` (a relocation stops it first) as a worker that takes
        the time a migration takes; ``None``: the host moves it at once (the simulator's timing)."""
        ...

    def guest_lock(self, sid: str) -> str | None:
        """The guest's config lock (``backup``, ``snapshot``, ...), if any."""
        ...

    def remove_guest_lock(self, sid: str, lock: str) -> str | None:
        """Remove ``lock`` if the guest holds exactly that lock; return it, else ``None``."""
        ...


class DaemonEnv:
    """One daemon's view of the host: its node, its own clock reading and its log origin."""

    def __init__(self, host: HAHost, node: str, daemon: str, seconds_per_round: int = 1) -> None:
        self.host = host
        self.node = node
        self.daemon = daemon
        self.origin = f"{node}/{daemon}"
        self.seconds_per_round = seconds_per_round
        self.cur_time = 0

    def get_time(self) -> int:
        return self.cur_time

    def log(self, level: str, message: str) -> None:
        if level == "debug":
            return
        self.host.write_log(level[:4], self.cur_time, self.origin, message.rstrip("\n"))

    def loop_start_hook(self) -> None:
        self.cur_time = max(self.cur_time, self.host.now())

    def loop_end_hook(self) -> None:
        self.cur_time += self.seconds_per_round

    def quorate(self) -> bool:
        online, quorate = self.host.node_membership()
        return bool(online.get(self.node)) and quorate

    def cluster_state_update(self) -> bool:
        return self.host.cluster_fs_ok(self.node, "update")

    def assert_cfs_rw(self) -> None:
        if not self.host.cluster_fs_ok(self.node, "rw"):
            raise ClusterFSError("cfs connection refused - not mounted?")

    def new_uid(self, state: str) -> str:
        return self.host.new_uid(state)

    def read_manager_status(self) -> dict[str, Any]:
        self.assert_cfs_rw()
        return self.host.read_manager_status()

    def write_manager_status(self, status: dict[str, Any]) -> None:
        self.assert_cfs_rw()
        self.host.write_manager_status(status)

    def read_lrm_status(self, node: str | None = None) -> dict[str, Any]:
        self.assert_cfs_rw()
        return self.host.read_lrm_status(node or self.node)

    def write_lrm_status(self, status: dict[str, Any]) -> None:
        self.assert_cfs_rw()
        self.host.write_lrm_status(self.node, status)

    def read_service_config(self) -> dict[str, dict[str, Any]]:
        self.assert_cfs_rw()
        return self.host.read_service_config()

    def read_crm_commands(self) -> list[str]:
        self.assert_cfs_rw()
        return self.host.pop_crm_commands()

    def any_pending_crm_command(self) -> bool:
        self.assert_cfs_rw()
        return self.host.any_pending_crm_command()

    def steal_service(self, sid: str, current_node: str, new_node: str) -> None:
        self.assert_cfs_rw()
        self.host.change_service_location(sid, current_node, new_node)

    def _lock(self, name: str) -> bool:
        if not self.quorate():
            return False
        got, fresh = self.host.cluster_locks.acquire(name, self.node, self.cur_time)
        if fresh:
            self.log("info", f"got lock '{name}'")
        return got

    def get_ha_manager_lock(self) -> bool:
        return self._lock("ha_manager_lock")

    def release_ha_manager_lock(self) -> bool:
        return self.quorate() and self.host.cluster_locks.release("ha_manager_lock", self.node, self.cur_time)

    def get_ha_agent_lock(self, node: str | None = None) -> bool:
        return self._lock(f"ha_agent_{node or self.node}_lock")

    def release_ha_agent_lock(self) -> bool:
        name = f"ha_agent_{self.node}_lock"
        return self.quorate() and self.host.cluster_locks.release(name, self.node, self.cur_time)

    def watchdog_open(self) -> str:
        return self.host.watchdogs.open(self.node, self.host.now())

    def watchdog_update(self, handle: str) -> None:
        self.host.watchdogs.update(handle, self.host.now())

    def watchdog_close(self, handle: str) -> None:
        self.host.watchdogs.close(handle, self.host.now())
