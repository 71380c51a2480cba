"""A migration or relocation the HA LRM runs on the FakeCluster's guests, in the cluster's time.

pve-ha-manager b71218f2 src/PVE/HA/Resources/PVEVM.pm ``migrate``: a relocation (``online`` false) of a running VM
shuts it down first (``vm_shutdown``, ``upid_wait``), then ``PVE::API2::Qemu->migrate_vm`` with ``force``,
``with-local-disks`` and ``online``, and waits for the ``qmigrate`` task; PVECT.pm ``migrate`` always relocates
(shutdown, then an offline ``vzmigrate``). Both tasks run on the source node as ``root@pam``; the guest keeps its
``migrate`` lock and stays on the source until the migration task ends. The LRM checks the worker each round
(LRM.pm ``check_active_workers``) and reports its end to the CRM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pytest_pvemock.errors import PVEError

if TYPE_CHECKING:
    from pytest_pvemock.model.clock import Clock
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.tasks import Task, TaskRegistry

HA_USER = "root@pam"


class ClusterMigration:
    """One LRM migration worker: the shutdown task of a relocation, then the migration task."""

    def __init__(self, guest: Guest, target: str, online: bool) -> None:
        self.guest = guest
        self.source = guest.node
        self.target = target
        self.online = online and guest.kind == "qemu"
        self.tasks: list[Task] = []
        self.failed = False
        self.migration: Task | None = None
        if guest.running and not self.online:
            # PVEVM.pm/PVECT.pm migrate: shutdown with the default 60 s timeout and forceStop, then upid_wait
            self.tasks.append(guest._start_task("shutdown", HA_USER, work=self._shut_down))
        else:
            self._migrate()

    def _shut_down(self, task: Task) -> None:
        try:
            self.guest._do_stop(skiplock=False)
        except PVEError:
            self.failed = True
            raise
        self._migrate()

    def _migrate(self) -> None:
        try:
            self.migration = self.guest.migrate(
                self.target, online=self.online, authid=HA_USER, with_local_disks=True, ha_worker=True
            )
        except PVEError:
            self.failed = True
            return
        self.tasks.append(self.migration)

    def outcome(self) -> bool | None:
        """``None`` while a task runs; then whether the guest's config moved to the target (PVEVM.pm: ``-f
        $oldconfig``)."""
        if self.failed:
            return False
        if any(task.running for task in self.tasks) or self.migration is None:
            return None
        return self.guest.node == self.target

    def watch(self, clock: Clock, ended: Callable[[], None]) -> None:
        """Call ``ended`` at the second the worker ends: PVE's LRM waits for its forked workers within its round
        (run_workers polls them for up to 8 s of each 10 s loop), so it reports an end at once, not a round later."""

        def check() -> None:
            if self.outcome() is None:
                clock.call_at(clock.now() + 1, check)
            else:
                ended()

        if self.outcome() is None:
            clock.call_at(clock.now() + 1, check)

    def interrupt(self, tasks: TaskRegistry) -> None:
        """The source node lost power: its tasks die with it and the guest's config stays where it was."""
        for task in self.tasks:
            tasks.stop(task)
        self.failed = True
