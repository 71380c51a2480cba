"""How long a guest's migration takes and what its task log says, step by step (``qmigrate``/``vzmigrate``).

A migration copies what the target lacks over the migration network: a running VM's memory (qemu-server
QemuMigrate.pm phase2), the volumes on local storage (phase1 ``storage_migrate``, or the NBD drive mirror of a live
migration with ``with-local-disks``). The fake copies at :data:`LINK_MIB_PER_SECOND` (a 1 GbE cluster network, the
speed PVE reports there as ``average migration speed``).

Each line is written at the moment of the migration it belongs to (``AbstractMigrate.pm`` ``log``: ``%F %H:%M:%S``
in the node's local time, then the message), so a client that polls the task log sees it grow.
qemu-server e6352be6 src/PVE/QemuMigrate.pm 831 (phase1), 989-1433 (phase2 start), 1488-1546 (progress, end);
pve-container 94f55852 src/PVE/LXC/Migrate.pm 168 (restart: shutdown), 336-422 (volumes), 522-559 (cleanup, start).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_pvemock.model.guests import Guest

MIB = 1024 * 1024
#: What a 1 GbE migration network carries (PVE logs about 112 MiB/s there).
LINK_MIB_PER_SECOND = 112
#: Seconds of a live migration outside the copy: starting the VM on the target, tunnel, final switch-over.
LIVE_OVERHEAD = 3
#: Seconds of a container restart migration outside the copy: shutdown of the CT, start on the target.
RESTART_OVERHEAD = 4


def render_bytes(value: float) -> str:
    """PVE::Tools::render_bytes($value, 1): ``2.0 GiB``, ``112.0 MiB``."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    index = 0
    while value >= 1024 and index < len(units) - 1:
        value /= 1024
        index += 1
    return f"{value:.1f} {units[index]}"


def _duration(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dataclass
class MigrationPlan:
    """The log of one migration as (seconds after its start, message), and how long it takes in all."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    seconds: int = 0

    def add(self, offset: int, message: str) -> None:
        self.lines.append((offset, message))


def migration_plan(
    guest: Guest, target: str, target_ip: str, online: bool, restart: bool, local_volumes: list[tuple[str, int]]
) -> MigrationPlan:
    """The task log and duration of migrating ``guest`` (as it is now) to ``target``.

    ``local_volumes`` are the (volid, bytes) the migration copies; ``online``: a live VM migration; ``restart``: a
    container's restart migration (it is running and stopped first)."""
    speed = float(LINK_MIB_PER_SECOND * MIB)
    plan = MigrationPlan()
    noun = "VM" if guest.kind == "qemu" else "CT"
    vmid = guest.vmid
    t = 0
    if guest.kind == "lxc" and restart:
        plan.add(t, f"shutdown CT {vmid}")
        t += RESTART_OVERHEAD // 2
    plan.add(t, f"starting migration of {noun} {vmid} to node '{target}' ({target_ip})")
    found = "found local disk" if guest.kind == "qemu" else "found local volume"
    for volid, _size in local_volumes:
        plan.add(t, f"{found} '{volid}' ({'attached' if guest.kind == 'qemu' else 'in current VM config'})")
    if guest.kind == "qemu" and online:
        plan.add(t, f"starting VM {vmid} on remote node '{target}'")
        t += 1
        plan.add(t, "start remote tunnel")
        plan.add(t, "ssh tunnel ver 1")
        if local_volumes:
            plan.add(t, "starting storage migration")
            t = _copy_volumes(plan, t, local_volumes, speed, mirror=True)
        memory = guest.maxmem
        plan.add(t, f"starting online/live migration on unix:/run/qemu-server/{vmid}.migrate")
        plan.add(t, "set migration capabilities")
        plan.add(t, "migration downtime limit: 100 ms")
        plan.add(t, f"migration cachesize: {render_bytes(_power_of_two(memory // 10))}")
        plan.add(t, "set migration parameters")
        plan.add(t, f"start migrate command to unix:/run/qemu-server/{vmid}.migrate")
        copy = max(1, round(memory / speed))
        for second in range(1, copy):
            moved = min(memory, speed * second)
            line = f"migration active, transferred {render_bytes(moved)} of {render_bytes(memory)} VM-state, "
            plan.add(t + second, line + f"{render_bytes(speed)}/s")
        t += copy
        plan.add(t, f"average migration speed: {render_bytes(memory / copy)}/s - downtime 45 ms")
        plan.add(t, f"migration completed, transferred {render_bytes(memory)} VM-state")
        plan.add(t, "migration status: completed")
        if local_volumes:
            t += 1
            plan.add(t, "stopping NBD storage migration server on target.")
        t += LIVE_OVERHEAD - 1
    else:
        if local_volumes and guest.kind == "qemu":
            plan.add(t, "copying local disk images")
        t = _copy_volumes(plan, t, local_volumes, speed, mirror=False)
        if guest.kind == "lxc":
            plan.add(t, "start final cleanup")
            if restart:
                plan.add(t, "start container on target node")
                t += RESTART_OVERHEAD - RESTART_OVERHEAD // 2
    t = max(t, 1)
    plan.add(t, f"migration finished successfully (duration {_duration(t)})")
    plan.seconds = t
    return plan


def _copy_volumes(plan: MigrationPlan, t: int, volumes: list[tuple[str, int]], speed: float, mirror: bool) -> int:
    for volid, size in volumes:
        seconds = max(1, round(size / speed))
        if mirror:
            plan.add(t, f"drive mirror is starting for {volid}")
        t += seconds
        plan.add(t, f"{size} bytes ({render_bytes(size)}) copied, {seconds} s, {render_bytes(size / seconds)}/s")
        if not mirror:
            plan.add(t, f"volume '{volid}' is '{volid}' on the target")
    if mirror and volumes:
        plan.add(t, "all 'mirror' jobs are ready")
    return t


def _power_of_two(value: int) -> int:
    """round_powerof2 of PVE::QemuServer::Helpers: the next power of two at or above ``value``."""
    power = 1
    while power < value:
        power <<= 1
    return power


def log_stamp(moment: int, tz: dt.tzinfo) -> str:
    """``2026-12-05 13:00:00``: how AbstractMigrate.pm's ``log`` prefixes each line (local time)."""
    return dt.datetime.fromtimestamp(moment, tz).strftime("%Y-%m-%d %H:%M:%S")


def schedule_lines(
    plan: MigrationPlan,
    start: int,
    tz: dt.tzinfo,
    call_at: Callable[[int, Callable[[], None]], Any],
    write: Callable[[str], None],
) -> None:
    """Hand each line of ``plan`` but the closing one to ``write`` at its moment (lines due at the start at once)."""
    for offset, message in plan.lines:
        if offset >= plan.seconds:
            continue  # the closing line is the task's work's
        line = f"{log_stamp(start + offset, tz)} {message}"
        if offset == 0:
            write(line)
        else:
            call_at(start + offset, functools.partial(write, line))
