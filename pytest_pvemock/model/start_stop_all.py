"""A node's ``startall`` and ``stopall`` workers: its guests started or shut down in their ``startup`` order.

pve-manager ``PVE/API2/Nodes.pm`` (commit 14a22df3): ``get_filtered_vmlist`` 2025-2066 and ``get_start_stop_list``
2068-2093 choose the guests (on the node, no templates, HA-managed ones only when ``vms`` names them, ``onboot`` for
a start without ``force``), ordered by ``startup``'s ``order`` (unset: last); ``startall`` (2128-2295) starts them
lowest order first, lowest VMID first, ``stopall`` (2318-2456) shuts them down highest first, each as its own task
(``qmstart``/``vzstart``, ``qmshutdown``/``vzshutdown``) started by the worker for the caller.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.guest_config import memory_mib
from pytest_pvemock.model.storage import Volume

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.tasks import Task

#: ``LONG_MAX``: the order of a guest whose ``startup`` names none.
LAST = 2**63 - 1


def startup_of(guest: Guest) -> dict[str, int]:
    """``PVE::JSONSchema::pve_parse_startup_order`` of the guest's ``startup`` (``order=1,up=30,down=60``)."""
    text = str(guest.config.get("startup") or "")
    parsed: dict[str, int] = {}
    for part in filter(None, text.split(",")):
        key, _, value = part.partition("=")
        if not value:  # a bare number is the order
            key, value = "order", key
        if key in ("order", "up", "down") and re.fullmatch(r"\d+", value):
            parsed[key] = int(value)
    return parsed


def start_stop_list(
    cluster: FakeCluster, node: str, autostart: bool, vmids: list[int] | None
) -> list[tuple[int, Guest, dict[str, int]]]:
    """(order, guest, startup) of the guests ``startall``/``stopall`` consider, lowest order and VMID first."""
    chosen = []
    for guest in cluster.guests_on(node):
        if vmids is not None and guest.vmid not in vmids:
            continue
        if guest.template or (vmids is None and guest.ha_status().get("managed")):
            continue
        if autostart and not guest.config.get("onboot"):
            continue
        startup = startup_of(guest)
        chosen.append((startup.get("order", LAST), guest, startup))
    return sorted(chosen, key=lambda entry: (entry[0], entry[1].vmid))


def start_all(cluster: FakeCluster, node: str, authid: str, force: bool, vmids: list[int] | None) -> Task:
    """``POST /nodes/{node}/startall``: a ``startall`` worker starting each chosen guest that is not running."""
    guests = start_stop_list(cluster, node, autostart=not force, vmids=vmids)
    # the worker waits 'up' seconds after each start (3 s for a VM without one: Nodes.pm 2248, 2261-2268); a guest
    # already running is skipped before that wait
    delay = sum(startup.get("up", 3 if guest.kind == "qemu" else 0) for _, guest, startup in guests
                if not guest.running)  # fmt: skip

    def work(task: Task) -> None:
        for _, guest, startup in guests:
            if guest.running:
                continue
            label = "CT" if guest.kind == "lxc" else "VM"
            task.log.append(f"Starting {label} {guest.vmid}")
            try:
                started = guest.start(authid)
            except PVEError as error:  # 'warn $@ if $@'
                task.log.append(error.message.rstrip("\n"))
                continue
            if "up" in startup:
                task.log.append(f"Waiting for {startup['up']} seconds (startup delay)")
            if not started.running and not started.ok:
                task.log.append(f"Starting {label} {guest.vmid} failed: {started.exitstatus}")

    return cluster.tasks.start(node, "startall", "", authid, duration=delay, work=work)


def stop_all(
    cluster: FakeCluster, node: str, authid: str, vmids: list[int] | None, timeout: int | None, force_stop: bool
) -> Task:
    """``POST /nodes/{node}/stopall``: a ``stopall`` worker shutting down each chosen running guest, highest order
    and VMID first, each with its ``down`` timeout or the given one (180 s by default)."""
    guests = list(reversed(start_stop_list(cluster, node, autostart=False, vmids=vmids)))

    def work(task: Task) -> None:
        for _, guest, startup in guests:
            if not guest.running:
                continue
            seconds = startup.get("down", 180 if timeout is None else timeout)
            task.log.append(
                f"Stopping {'CT' if guest.kind == 'lxc' else 'VM'} {guest.vmid} (timeout = {seconds} seconds)"
            )
            try:
                guest.shutdown(authid, force_stop=force_stop, timeout=seconds)
            except PVEError as error:
                task.log.append(error.message.rstrip("\n"))

    return cluster.tasks.start(node, "stopall", "", authid, work=work)


def vmstate_storage(cluster: FakeCluster, guest: Guest) -> str:
    """qemu-server ``PVE::QemuConfig::find_vmstate_storage`` (QemuConfig.pm at e6352be6): ``vmstatestorage``, else
    a shared storage the VM has a disk on, else a local one (a file-based one preferred), else ``local``."""
    if guest.config.get("vmstatestorage"):
        return str(guest.config["vmstatestorage"])
    shared: str | None = None
    local: str | None = None
    for storeid, _volid, _size in guest.volume_list():
        definition = cluster.storage(storeid)
        if definition is None:
            continue
        if definition.shared:
            if shared is None or definition.path:
                shared = storeid
        elif local is None or definition.path:
            local = storeid
    return shared or local or "local"


def suspend_to_disk(cluster: FakeCluster, guest: Guest, authid: str, statestorage: str | None = None) -> Task:
    """``POST .../status/suspend`` with ``todisk``: a ``qmsuspend`` task that saves the RAM to a state volume
    (``vm-<vmid>-state-suspend-<date>``, twice the memory plus 500 MiB) and quits QEMU, leaving the VM stopped with
    ``lock: suspended`` and ``vmstate``; a start resumes it. qemu-server e6352be6 ``src/PVE/API2/Qemu.pm``
    ``vm_suspend`` (the checks before the worker), ``src/PVE/QemuServer/RunState.pm`` ``vm_suspend`` and
    ``src/PVE/QemuConfig.pm`` ``__snapshot_save_vmstate``."""
    if not guest.running:
        raise PVEError(f"VM {guest.vmid} not running")
    if guest.ha_status().get("managed"):
        raise PVEError("Cannot suspend HA managed VM to disk")
    if any(re.fullmatch(r"hostpci\d+", key) for key in guest.config):
        raise PVEError(
            "cannot suspend VM to disk due to passed-through PCI device(s), which lack the possibility to "
            "save/restore their internal state"
        )
    target = statestorage or vmstate_storage(cluster, guest)
    memory = memory_mib(guest.config.get("memory", 512))

    def save(task: Task) -> None:
        if guest.lock == "backup":
            raise PVEError("cannot suspend to disk during backup")
        guest.check_lock()
        storage = cluster.storage(target)
        if storage is None:
            raise PVEError(f"storage '{target}' does not exist")
        date = dt.datetime.fromtimestamp(cluster.clock.now(), cluster.tzinfo).strftime("%Y-%m-%d")
        name = f"vm-{guest.vmid}-state-suspend-{date}"
        volname = f"{guest.vmid}/{name}.raw" if storage.path else name
        size = (memory * 2 + 500) * 1024 * 1024
        storage.volumes.append(
            Volume(
                f"{target}:{volname}",
                "images",
                size,
                "raw",
                cluster.clock.now(),
                vmid=guest.vmid,
                node=None if storage.shared else guest.node,
            )
        )
        task.log.append("State saved, quitting")
        guest._halt()
        guest.config["vmstate"] = f"{target}:{volname}"
        guest.config["lock"] = "suspended"
        cluster.revision.touch()

    seconds = max(2, memory // 512)  # savevm writes the RAM: about 512 MiB/s
    return cluster.tasks.start(guest.node, "qmsuspend", guest.vmid, authid, duration=seconds, work=save)


def resume_from_disk(cluster: FakeCluster, guest: Guest) -> None:
    """``vm_start`` of a VM with ``lock: suspended``: QEMU resumes from the state volume, which is then freed with
    the ``vmstate`` and the lock (qemu-server ``src/PVE/QemuServer.pm`` ``vm_start_nolock``)."""
    volid = str(guest.config.pop("vmstate", "") or "")
    guest.config.pop("lock", None)
    storage = cluster.storage(volid.split(":", 1)[0]) if volid else None
    if storage is not None:
        storage.volumes = [volume for volume in storage.volumes if volume.volid != volid]


def suspend_all(
    cluster: FakeCluster,
    node: str,
    authid: str,
    vmids: list[int] | None,
    may_suspend: Callable[[Guest], None] | None = None,
) -> Task:
    """``POST /nodes/{node}/suspendall`` (Nodes.pm 2458-2588): a ``suspendall`` worker hibernating each running VM
    of ``get_start_stop_list`` (HA-managed ones only when named), highest order and VMID first; containers are
    skipped with a warning, stopped VMs with a line. ``may_suspend`` raises what the per-VM API call's permission
    checks raise (``vm_suspend``: VM.Config.Disk, Datastore.AllocateSpace on the state storage)."""
    guests = list(reversed(start_stop_list(cluster, node, autostart=False, vmids=vmids)))
    task = cluster.tasks.begin(node, "suspendall", "", authid)
    children: list[Task] = []

    def work(task: Task) -> None:
        for _, guest, _startup in guests:
            if guest.kind != "qemu":
                task.log.append(f"WARN: skipping {guest.vmid}, only VMs can be suspended")
                task.warnings += 1
                continue
            if not guest.running:
                task.log.append(f"VM {guest.vmid} not running, skipping suspension")
                continue
            task.log.append(f"Suspending VM {guest.vmid}")
            try:
                if may_suspend is not None:
                    may_suspend(guest)
                children.append(suspend_to_disk(cluster, guest, authid))
            except PVEError as error:  # 'warn $@ if $@'
                task.log.append(error.message.rstrip("\n"))

    work(task)
    _end_after(cluster, task, children, lambda: f"WARNINGS: {task.warnings}" if task.warnings else "OK")
    return task


def _end_after(cluster: FakeCluster, task: Task, children: list[Task], status: Callable[[], str]) -> None:
    """End ``task`` once every task it started has ended (the worker polls its children once a second)."""
    if any(child.running for child in children):
        cluster.clock.call_at(cluster.clock.now() + 1, lambda: _end_after(cluster, task, children, status))
        return
    cluster.tasks.end(task, status())


def migrate_all(
    cluster: FakeCluster,
    node: str,
    authid: str,
    target: str,
    vmids: list[int] | None,
    with_local_disks: bool | None,
) -> Task:
    """``POST /nodes/{node}/migrateall`` (Nodes.pm 2590-2793): a ``migrateall`` worker migrating every guest of
    the node (templates and HA-managed ones too) in VMID order, each in its own task; a VM whose preconditions
    fail is skipped with the reasons; ``no migrations worker started...`` when none could start."""
    chosen = sorted(
        (guest for guest in cluster.guests_on(node) if vmids is None or guest.vmid in vmids),
        key=lambda guest: str(guest.vmid),  # 'sort keys %$vmlist': the VMIDs as strings
    )

    task = cluster.tasks.begin(node, "migrateall", "", authid)
    children: list[Task] = []

    def work(task: Task) -> int:
        started = 0
        for guest in chosen:
            try:
                if guest.kind == "lxc":
                    task.log.append(f"Migrating CT {guest.vmid}")
                    children.append(guest.migrate(target, authid=authid, restart=guest.running))
                else:
                    problems = _migration_preconditions(cluster, guest, target, with_local_disks)
                    if problems:
                        task.log.append(f"Check VM {guest.vmid}: skip VM {guest.vmid} - precondition check failed:")
                        task.log.extend(problems)
                        continue
                    task.log.append(f"Check VM {guest.vmid}: precondition check passed")
                    task.log.append(f"Migrating VM {guest.vmid}")
                    children.append(guest.migrate(target, online=guest.running, authid=authid,
                                                  with_local_disks=bool(with_local_disks)))  # fmt: skip
                started += 1
            except PVEError as error:  # 'warn $@ if $@'
                task.log.append(error.message.rstrip("\n"))
        return started

    if not chosen:
        task.log.append("no virtual guests matched, nothing to do..")
        cluster.tasks.end(task)
        return task
    started = work(task)

    def closing() -> str:
        if not started:
            return "no migrations worker started..."
        task.log.append(f"All jobs finished, used {started} workers in total.")
        return "OK"

    _end_after(cluster, task, children, closing)
    return task


def _migration_preconditions(
    cluster: FakeCluster, guest: Guest, target: str, with_local_disks: bool | None
) -> list[str]:
    """``$create_migrate_worker``'s reading of ``migrate_vm_precondition``: the lines of what blocks the VM."""
    lines = []
    local = [
        volid
        for storeid, volid, _size in guest.volume_list()
        if (definition := cluster.storage(storeid)) is not None and not definition.shared
    ]
    if guest.running and not with_local_disks and local:
        lines.append("  Has local disks: " + ", ".join(local))
    missing = sorted(
        {storeid for storeid, _volid, _size in guest.volume_list()
         if (definition := cluster.storage(storeid)) is not None and not definition.available_on(target)}
    )  # fmt: skip
    if missing:
        lines.append("  Has unavailable storages: " + ", ".join(missing))
    return lines
