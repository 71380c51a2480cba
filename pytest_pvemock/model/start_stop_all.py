"""A node's ``startall`` and ``stopall`` workers: its guests started or shut down in their ``startup`` order.

pve-manager ``PVE/API2/Nodes.pm`` (commit 14a22df3): ``get_filtered_vmlist`` 2025-2066 and ``get_start_stop_list``
2068-2093 choose the guests (on the node, no templates, HA-managed ones only when ``vms`` names them, ``onboot`` for
a start without ``force``), ordered by ``startup``'s ``order`` (unset: last); ``startall`` (2128-2295) starts them
lowest order first, lowest VMID first, ``stopall`` (2318-2456) shuts them down highest first, each as its own task
(``qmstart``/``vzstart``, ``qmshutdown``/``vzshutdown``) started by the worker for the caller.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pytest_pvemock.errors import PVEError

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
