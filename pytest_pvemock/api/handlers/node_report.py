"""``/nodes/{node}/report``: what ``pvereport`` prints (pve-manager PVE/Report.pm ``generate``, commit 14a22df3),
assembled from the node's state: its sections in Report.pm's order with a ``# <command>`` header before each
command's output, for the commands whose output the cluster knows (hostname, date, ``pveversion --verbose``,
``/etc/hosts``, the subscription, ``pvesm status``, ``qm list`` and ``pct list`` with the guests'
configs, ``pvecm nodes``, ``ha-manager status``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.apt import version_rows
from pytest_pvemock.model.guests import masked_config
from pytest_pvemock.model.nodes.files import etc_hosts

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node

MB, GB = 1024**2, 1024**3


def _pveversion(cluster: FakeCluster) -> str:
    lines = []
    for row in version_rows(cluster):
        if row["Package"] == "proxmox-ve":
            lines.append(f"proxmox-ve: {row['Version']} (running kernel: {row['RunningKernel']})")
        elif row["Package"] == "pve-manager":
            lines.append(f"pve-manager: {row['Version']} (running version: {row['ManagerVersion']})")
        else:
            lines.append(f"{row['Package']}: {row['Version']}")
    return "\n".join(lines)


def _config_text(config: dict[str, Any]) -> str:
    # the file holds cipassword's crypt hash; like GET .../config, the answer never carries it
    shown = masked_config(dict(config))
    return "".join(f"{key}: {value}\n" for key, value in shown.items() if not key.startswith("_"))


def _guests(cluster: FakeCluster, node: Node) -> list[str]:
    guests = sorted(cluster.guests_on(node.name), key=lambda guest: int(guest.vmid))
    qm = [
        "# qm list",
        f"{'VMID':>10} {'NAME':<20} {'STATUS':<10} {'MEM(MB)':<10} {'BOOTDISK(GB)':>12} {'PID':<10}",
    ]
    qm += [
        f"{g.vmid:>10} {g.name:<20} {g.status:<10} {g.maxmem // MB:<10} {g.maxdisk / GB:>12.2f} {g.pid or 0:<10}"
        for g in guests
        if g.kind == "qemu"
    ]
    qm.append("# output '/etc/pve/qemu-server/\\d+\\.conf' file(s)")
    for guest in (g for g in guests if g.kind == "qemu"):
        qm += ["", f"# cat /etc/pve/qemu-server/{guest.vmid}.conf", _config_text(guest.config)]
    pct = ["# pct list", f"{'VMID':<10} {'Status':<10} {'Lock':<12} {'Name':<20}"]
    pct += [
        f"{g.vmid:<10} {g.status:<10} {g.config.get('lock', ''):<12} {g.name:<20}" for g in guests if g.kind == "lxc"
    ]
    pct.append("# output '/etc/pve/lxc/\\d+\\.conf' file(s)")
    for guest in (g for g in guests if g.kind == "lxc"):
        pct += ["", f"# cat /etc/pve/lxc/{guest.vmid}.conf", _config_text(guest.config)]
    return [*qm, *pct]


def _storages(cluster: FakeCluster, node: Node) -> list[str]:
    head = f"{'Name':<16} {'Type':>8} {'Status':>8} {'Total':>15} {'Used':>15} {'Available':>15} {'%':>8}"
    lines = ["# pvesm status", head]
    for storage in sorted(cluster.storages_on(node.name), key=lambda s: s.storage):
        total, used, avail = cluster.storage_usage(storage.storage, node.name)
        share = f"{100 * used / total:.2f}%" if total else "0.00%"
        lines.append(
            f"{storage.storage:<16} {storage.plugintype:>8} {'active':>8} {total // 1024:>15} {used // 1024:>15} "
            f"{avail // 1024:>15} {share:>8}"
        )
    return lines


@handles("GET", "/nodes/{node}/report")
def node_report(ctx: HandlerContext) -> str:
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    now = datetime.fromtimestamp(cluster.clock.now(), tz=cluster.tzinfo)
    members = sorted(cluster.nodes, key=lambda n: n.nodeid)
    sections = [
        ("general system info", [
            "# hostname", node.name,
            "# date -R", now.strftime("%a, %d %b %Y %H:%M:%S %z"),
            "# pveversion --verbose", _pveversion(cluster),
            "# cat /etc/hosts", etc_hosts(cluster, node).rstrip("\n"),
            "# pvesubscription get", "message: There is no subscription key\nstatus: notfound" if not node.level
            else f"status: active\nlevel: {node.level}",
        ]),
        ("info about storage", _storages(cluster, node)),
        ("info about virtual guests", _guests(cluster, node)),
        ("info about cluster", [
            "# pvecm nodes", "", "Membership information", "----------------------",
            "    Nodeid      Votes Name",
            *(f"{n.nodeid:>10} {1:>10} {n.name}{' (local)' if n.name == node.name else ''}"
              for n in members if n.online),
            "# ha-manager status", f"quorum {'OK' if cluster.quorate else 'No quorum on node'}",
        ]),
    ]  # fmt: skip
    text = ""
    for title, lines in sections:
        text += f"\n==== {title} ====\n\n" + "\n".join(lines) + "\n"
    return text
