"""What a node's journal says the cluster did: its boot (systemd starting PVE's services), the tasks its
``pvedaemon`` ran (``<user> starting task UPID...`` / ``<user> end task UPID... OK``, as PVE::RPCEnvironment
logs a worker) and the HA manager's messages from its ``pve-ha-crm`` and ``pve-ha-lrm``.

Lines are ``journalctl -o short``: ``Mon DD HH:MM:SS node ident[pid]: message`` in the cluster's time zone
(pve-common src/PVE/Tools.pm ``dump_journal``, commit f665029e).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pytest_pvemock.model import figures
from pytest_pvemock.model.nodes.services import service_names, service_state

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node

HA_DAEMONS = {"crm": "pve-ha-crm", "lrm": "pve-ha-lrm"}


@dataclass(frozen=True)
class JournalEntry:
    """One line: when (epoch), which unit wrote it (for ``--unit``), and the text as journalctl prints it."""

    time: int
    unit: str
    text: str


def _pid(cluster: FakeCluster, node: Node, unit: str) -> int:
    return figures.seeded(cluster.seed, "daemon-pid", node.name, unit, node.boot_time).randrange(700, 2400)


def journal(cluster: FakeCluster, node: Node) -> list[JournalEntry]:
    """The node's journal since its last boot, oldest first."""
    zone = cluster.tzinfo
    now = cluster.clock.now()

    def line(time: int, unit: str, ident: str, message: str) -> JournalEntry:
        stamp = datetime.fromtimestamp(time, tz=zone).strftime("%b %d %H:%M:%S")
        return JournalEntry(time, unit, f"{stamp} {node.name} {ident}: {message}")

    entries = []
    boot = node.boot_time
    release, build = cluster.kernel
    entries.append(line(boot, "kernel", "kernel", f"Linux version {release} (build@proxmox) {build}"))
    for offset, name in enumerate(service_names(cluster)):
        state = service_state(cluster, name)
        if state["active-state"] == "active":
            unit = "ssh" if name == "sshd" else name
            entries.append(
                line(boot + 4 + offset // 4, name, "systemd[1]", f"Started {unit}.service - {state['desc']}.")
            )
    daemon = f"pvedaemon[{_pid(cluster, node, 'pvedaemon')}]"
    for task in cluster.tasks:
        if task.node != node.name or task.starttime < boot:
            continue
        who = f"<{task.user}{'!' + task.tokenid if task.tokenid else ''}>"
        entries.append(line(task.starttime, "pvedaemon", daemon, f"{who} starting task {task.upid}"))
        if task.endtime is not None and task.endtime <= now:
            entries.append(line(task.endtime, "pvedaemon", daemon, f"{who} end task {task.upid} {task.exitstatus}"))
    for text in getattr(cluster.ha, "log", ()):
        parts = text.split(None, 3)
        if len(parts) < 4 or "/" not in parts[2]:
            continue
        origin_node, role = parts[2].rstrip(":").split("/", 1)
        ha_unit = HA_DAEMONS.get(role)
        if origin_node != node.name or ha_unit is None or not parts[1].isdigit() or int(parts[1]) < boot:
            continue
        entries.append(line(int(parts[1]), ha_unit, f"{ha_unit}[{_pid(cluster, node, ha_unit)}]", parts[3]))
    entries.sort(key=lambda entry: entry.time)
    return entries
