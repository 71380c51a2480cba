"""Resource agents: how the LRM starts, stops and migrates a guest (``PVE::HA::Sim::Resources``).

The agents act on the host's guest primitives (running or not on a node, config location, config lock).
``fa:`` resources inject failures, as in pve-ha-manager's simulator: for ``fa:<a><b><c><d><e><f>``,
b = failed start tries before one succeeds, c = failed migrations, d != 0 -> stop fails, f = fail only on
``node<f>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .environment import DaemonEnv, GuestMigration


def _fault_digits(name: str) -> tuple[int, int, int, int]:
    digits = [int(c) for c in name[1:6]] if name.isdigit() else []
    digits += [0] * (5 - len(digits))
    start, migrate, stop, _exists, limit = digits[:5]
    return start, migrate, stop, limit


@dataclass
class ResourceAgents:
    """The agents of one cluster (fault-injection counters are shared by all nodes, as in the simulator)."""

    start_tries: dict[str, int] = field(default_factory=dict)
    migrate_tries: dict[str, int] = field(default_factory=dict)
    #: Injected faults for any guest: how many of its next starts / migrations fail.
    failing_starts: dict[str, int] = field(default_factory=dict)
    failing_migrations: dict[str, int] = field(default_factory=dict)

    def fail_starts(self, sid: str, count: int) -> None:
        """Make the next ``count`` starts of ``sid`` fail (on any node)."""
        self.failing_starts[sid] = count

    def fail_migrations(self, sid: str, count: int) -> None:
        """Make the next ``count`` migrations or relocations of ``sid`` fail."""
        self.failing_migrations[sid] = count

    @staticmethod
    def _take_fault(faults: dict[str, int], sid: str) -> bool:
        if faults.get(sid, 0) > 0:
            faults[sid] -= 1
            return True
        return False

    @staticmethod
    def known_type(kind: str) -> bool:
        return kind in ("vm", "ct", "fa")

    def check_running(self, env: DaemonEnv, sid: str) -> bool:
        return env.host.guest_running(env.node, sid)

    def start(self, env: DaemonEnv, sid: str) -> None:
        kind, name = sid.split(":", 1)
        if self._take_fault(self.failing_starts, sid):
            return
        if kind == "fa":
            fails, _migrate, _stop, limit = _fault_digits(name)
            if limit == 0 or env.node == f"node{limit}":
                tries = self.start_tries.get(name, 0) + 1
                self.start_tries[name] = tries
                if fails >= tries:
                    return
            self.start_tries[name] = 0
        lock = env.host.guest_lock(sid)
        if lock:
            env.log("err", f"service '{sid}' locked ({lock}), unable to start!")
            return
        env.host.set_guest_running(env.node, sid, True)

    def shutdown(self, env: DaemonEnv, sid: str) -> None:
        kind, name = sid.split(":", 1)
        if kind == "fa" and _fault_digits(name)[2]:
            return
        lock = env.host.guest_lock(sid)
        if lock:
            env.log("err", f"service '{sid}' locked ({lock}), unable to shutdown!")
            return
        env.host.set_guest_running(env.node, sid, False)

    def migrate(self, env: DaemonEnv, sid: str, target: str, online: bool) -> bool | GuestMigration:
        """Move ``sid`` to ``target``: ``True``/``False`` when done within the round, else the running worker
        (:meth:`migration_finished` reports its end)."""
        kind, name = sid.split(":", 1)
        host = env.host
        if kind == "ct" and online and self.check_running(env, sid):
            env.log("warn", "unable to live migrate running container, fallback to relocate")
            online = False
        if self._take_fault(self.failing_migrations, sid):
            return False
        if kind == "fa":
            _start, fails, _stop, limit = _fault_digits(name)
            if limit == 0 or env.node == f"node{limit}":
                tries = self.migrate_tries.get(name, 0) + 1
                self.migrate_tries[name] = tries
                if fails >= tries:
                    return False
            self.migrate_tries[name] = 0
        task = "migrate" if online else "relocate"
        env.log("info", f"service {sid} - start {task} to node '{target}'")
        lock = host.guest_lock(sid)
        if lock:
            env.log("err", f"service '{sid}' locked ({lock}), unable to {task}!")
            return False
        job = host.start_migration(env.node, sid, target, online)
        if job is not None:
            return job
        if not online and self.check_running(env, sid):
            env.log("info", f"stopping service {sid} (relocate)")
            self.shutdown(env, sid)
            env.log("info", f"service status {sid} stopped")
        host.change_service_location(sid, env.node, target)
        env.log("info", f"service {sid} - end {task} to node '{target}'")
        host.forget_guest(env.node, sid)
        return True

    @staticmethod
    def migration_finished(env: DaemonEnv, sid: str, target: str, online: bool, moved: bool) -> None:
        """The end of a migration the host ran as a worker (the log line the inline path writes)."""
        if moved:
            env.log("info", f"service {sid} - end {'migrate' if online else 'relocate'} to node '{target}'")
