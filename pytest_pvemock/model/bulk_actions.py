"""PVE 9's cluster-wide bulk actions on guests: ``POST /cluster/bulk-action/guest/{start,shutdown,suspend,migrate}``.

A port of pve-manager 14a22df35955d97dfc1af21e117dc894a29df0c9 ``PVE/API2/Cluster/BulkAction/Guest.pm``: one
``bulk-<action>`` worker walks the guests of ``get_start_stop_list`` (every node; HA-managed ones only when ``vms``
names them) by ``startup`` order (``handle_task_foreach_guest`` 120-194: ascending for start, the orders negated for
shutdown and suspend; VMIDs ascending within an order), starts one guest task at a time up to ``max-workers``
(4 by default; migrate: ``max_workers`` of datacenter.cfg or 1), waits for each order to finish, logs what it skips
(``WARN:``) and what failed, and dies listing the guests that failed. Migrate takes every guest
(``get_filtered_vmlist`` with templates and HA-managed ones) in one group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.start_stop_all import start_stop_list, suspend_to_disk

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.tasks import Task

#: What a guest's start returns when nothing needs a task (``return 1``).
SKIP = "skip"
FAILED_WORDS = {"start": "Some guests failed to start: ", "shutdown": "Some guests failed to shutdown ",
                "suspend": "Some guests failed to suspend ", "migrate": "Some guests failed to migrate "}  # fmt: skip


@dataclass
class BulkRun:
    """One bulk action: the worker, the guests still to do per order, the running guest tasks."""

    cluster: FakeCluster
    task: Task
    action: str
    groups: list[list[tuple[Guest, dict[str, int]]]]
    max_workers: int
    start_one: Callable[[Guest, dict[str, int]], Task | str | None]
    check: Callable[[Guest, dict[str, int], bool, Task | None], int]
    workers: list[tuple[Guest, dict[str, int], Task]] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    #: The worker sleeps (a start's ``up`` delay) until then.
    asleep_until: int = 0


def type_text(guest: Guest) -> str:
    """``get_type_text``: CT or VM."""
    return "CT" if guest.kind == "lxc" else "VM"


def _warn(task: Task, line: str) -> None:
    task.log.append(f"WARN: {line}")
    task.warnings += 1


def bulk_guests(cluster: FakeCluster, vmids: list[int] | None) -> list[list[tuple[Guest, dict[str, int]]]]:
    """``get_start_stop_list(undef, undef, $vms)``: every node's guests, grouped by ``startup`` order ascending."""
    groups: dict[int, list[tuple[Guest, dict[str, int]]]] = {}
    for node in cluster.nodes:
        for order, guest, startup in start_stop_list(cluster, node.name, autostart=False, vmids=vmids):
            groups.setdefault(order, []).append((guest, startup))
    return [sorted(groups[order], key=lambda entry: entry[0].vmid) for order in sorted(groups)]


def start_action_line(vmids: list[int] | None, prefix: str, suffix: str = "") -> str:
    """``print_start_action``."""
    suffix = f" {suffix}" if suffix else ""
    if vmids:
        return f"{prefix} guests{suffix}: " + ", ".join(str(vmid) for vmid in vmids)
    return f"{prefix} all guests{suffix}"


def run_bulk(
    cluster: FakeCluster,
    authid: str,
    action: str,
    groups: list[list[tuple[Guest, dict[str, int]]]],
    max_workers: int,
    first_line: str,
    start_one: Callable[[Task, Guest, dict[str, int]], Task | str | None],
    check: Callable[[Task, Guest, dict[str, int], bool, Task | None], int],
) -> Task:
    """Start the ``bulk-<action>`` worker on the node that answers the call (the first online one)."""
    node = next((node.name for node in cluster.nodes if node.online), cluster.nodes[0].name)
    task = cluster.tasks.begin(node, f"bulk-{action}", "", authid)
    task.log.append(first_line)
    run = BulkRun(
        cluster,
        task,
        action,
        [list(group) for group in groups if group],
        max(1, max_workers),
        lambda guest, startup: start_one(task, guest, startup),
        lambda guest, startup, is_error, child: check(task, guest, startup, is_error, child),
    )
    _step(run)
    return task


def _is_error(child: Task) -> bool:
    """``PVE::UPID::status_is_error``: anything but OK and WARNINGS."""
    status = child.exitstatus or ""
    return status != "OK" and not status.startswith("WARNINGS")


def _step(run: BulkRun) -> None:
    """Run the worker's loop as far as it goes now; come back a second later while guest tasks run."""
    clock = run.cluster.clock
    while True:
        if clock.now() < run.asleep_until:
            break
        finished = [entry for entry in run.workers if not entry[2].running]
        for entry in finished:
            run.workers.remove(entry)
            guest, startup, child = entry
            error = _is_error(child)
            if error:
                run.failed.append(guest.vmid)
            delay = run.check(guest, startup, error, child)
            if delay > 0 and not clock.instant:  # an instant clock does not wait
                run.asleep_until = clock.now() + delay
        if clock.now() < run.asleep_until:
            break
        if not run.groups:
            if not run.workers:
                _finish(run)
                return
            break
        group = run.groups[0]
        if group and len(run.workers) < run.max_workers:
            guest, startup = group.pop(0)
            try:
                started = run.start_one(guest, startup)
            except PVEError as error:  # 'log_warn("$@") if $@', the guest counts as failed
                _warn(run.task, error.message.rstrip("\n"))
                started = None
            if started is None:
                run.failed.append(guest.vmid)
            elif not isinstance(started, str):
                run.workers.append((guest, startup, started))
            continue
        if not group and not run.workers:  # the order is finished
            run.groups.pop(0)
            continue
        if not finished:
            break
    clock.call_at(max(clock.now() + 1, run.asleep_until), lambda: _step(run))


def _finish(run: BulkRun) -> None:
    task = run.task
    if run.failed:
        run.cluster.tasks.end(task, FAILED_WORDS[run.action] + ", ".join(str(vmid) for vmid in run.failed))
        return
    run.cluster.tasks.end(task, f"WARNINGS: {task.warnings}" if task.warnings else "OK")


# ---- the four actions ----------------------------------------------------------------------------------------


def bulk_start(cluster: FakeCluster, authid: str, vmids: list[int] | None, timeout: int | None, workers: int) -> Task:
    """``start`` (Guest.pm 262-372): start each guest that is not running, resume a paused one (and, as PVE's
    check reads ``qmpstatus``, any running container), wait its ``up`` delay after it started."""

    def start_one(task: Task, guest: Guest, startup: dict[str, int]) -> Task | str | None:
        label = type_text(guest)
        operation = "start"
        if guest.running:
            if guest.kind == "qemu" and guest.run_state != "paused":
                _warn(task, f"Skipping {label} {guest.vmid}, already running.")
                return SKIP
            operation = "resume"
        task.log.append(f"Starting {label} {guest.vmid}")
        return guest.resume(authid) if operation == "resume" else guest.start(authid)

    def check(task: Task, guest: Guest, startup: dict[str, int], is_error: bool, child: Task | None) -> int:
        if is_error:
            status = child.exitstatus if child is not None else "could not query task status"
            _warn(task, f"Starting {type_text(guest)} {guest.vmid} failed: {status}")
            return 0
        if startup.get("up"):
            task.log.append(f"Waiting for {startup['up']} seconds (startup delay)")
        return int(startup.get("up", 0))

    groups = bulk_guests(cluster, vmids)
    return run_bulk(cluster, authid, "start", groups, workers, start_action_line(vmids, "Starting"), start_one, check)


def bulk_shutdown(
    cluster: FakeCluster, authid: str, vmids: list[int] | None, timeout: int | None, force_stop: bool, workers: int
) -> Task:
    """``shutdown`` (Guest.pm 374-541): the orders from the highest; each running guest shut down with its
    ``down`` timeout or the given one (180); a paused VM skipped unless ``force-stop``."""

    def start_one(task: Task, guest: Guest, startup: dict[str, int]) -> Task | str | None:
        label = type_text(guest)
        if not guest.running:
            _warn(task, f"Skipping {label} {guest.vmid}, not running.")
            return SKIP
        if guest.kind == "qemu" and guest.run_state == "paused" and not force_stop:
            _warn(task, f"Skipping {label} {guest.vmid}, resume paused VM before shutdown.")
            return SKIP
        seconds = int(startup.get("down", 180 if timeout is None else timeout))
        task.log.append(f"Shutting down {label} {guest.vmid} (Timeout = {seconds} seconds)")
        return guest.shutdown(authid, force_stop=force_stop, timeout=seconds)

    groups = list(reversed(bulk_guests(cluster, vmids)))
    line = start_action_line(vmids, "Shutting down")
    return run_bulk(cluster, authid, "shutdown", groups, workers, line, start_one, _warn_stopping_failed)


def _warn_stopping_failed(task: Task, guest: Guest, startup: dict[str, int], is_error: bool, child: Task | None) -> int:
    """The shutdown's and the suspend's check of a finished guest task (PVE words both 'Stopping')."""
    if is_error:
        status = child.exitstatus if child is not None else "could not query task status"
        _warn(task, f"Stopping {type_text(guest)} {guest.vmid} failed: {status}")
    return 0


def bulk_suspend(
    cluster: FakeCluster, authid: str, vmids: list[int] | None, to_disk: bool, statestorage: str | None, workers: int
) -> Task:
    """``suspend`` (Guest.pm 543-665): each running VM paused, or hibernated with ``to-disk``; containers and
    stopped VMs skipped with a warning."""

    def start_one(task: Task, guest: Guest, startup: dict[str, int]) -> Task | str | None:
        if guest.kind != "qemu":
            _warn(task, f"skipping {guest.vmid}, only VMs can be suspended")
            return SKIP
        if not guest.running:
            _warn(task, f"Skipping VM {guest.vmid}, not running.")
            return SKIP
        task.log.append(f"Suspending VM {guest.vmid}")
        if to_disk:
            return suspend_to_disk(cluster, guest, authid, statestorage)
        return guest.suspend(authid)

    groups = list(reversed(bulk_guests(cluster, vmids)))
    line = start_action_line(vmids, "Suspending")
    return run_bulk(cluster, authid, "suspend", groups, workers, line, start_one, _warn_stopping_failed)


def bulk_migrate(
    cluster: FakeCluster,
    authid: str,
    vmids: list[int] | None,
    target: str,
    online: bool | None,
    with_local_disks: bool | None,
    workers: int,
) -> Task:
    """``migrate`` (Guest.pm 667-819): every guest (templates and HA-managed ones too) not already on ``target``
    migrated there as ``POST .../migrate`` would, ``online`` passed as a VM's ``online`` and a CT's ``restart``."""
    chosen = sorted(
        (guest for guest in cluster.guests if vmids is None or guest.vmid in vmids), key=lambda guest: guest.vmid
    )

    def start_one(task: Task, guest: Guest, startup: dict[str, int]) -> Task | str | None:
        label = type_text(guest)
        if guest.node == target:
            _warn(task, f"{label} {guest.vmid} already on {guest.node}, skipping.")
            return SKIP
        task.log.append(f"Migrating {label} {guest.vmid}")
        if guest.kind == "lxc":
            return guest.migrate(target, authid=authid, restart=bool(online))
        return guest.migrate(target, online=bool(online), authid=authid, with_local_disks=bool(with_local_disks))

    def check(task: Task, guest: Guest, startup: dict[str, int], is_error: bool, child: Task | None) -> int:
        if is_error:
            status = child.exitstatus if child is not None else "could not query task status"
            _warn(task, f"Migrating {type_text(guest)} {guest.vmid} failed: {status}")
        return 0

    groups: list[list[tuple[Guest, dict[str, int]]]] = [[(guest, {}) for guest in chosen]]
    line = start_action_line(vmids, "Migrating", f"to {target}")
    return run_bulk(cluster, authid, "migrate", groups, workers, line, start_one, check)
