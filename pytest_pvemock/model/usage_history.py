"""What ``pvestatd`` wrote into the RRD files: the usage history of nodes, guests and storages, per time frame.

PVE keeps one RRD file per node, guest and storage (pmxcfs creates them: pve-cluster src/pmxcfs/status.c, commit
7091d92e, lines 1100-1190; PVE 8's ``pve2-*`` files at stable-bookworm e18c7928) and ``PVE::RRD::create_rrd_data``
(pve-cluster src/PVE/RRD.pm lines 49-129 at 7091d92e; lines 10-63 at e18c7928 for PVE 8) answers ``rrddata`` from
them: for a time frame, ``count`` rows ``resolution`` seconds apart, the newest ending at the current
resolution boundary, each ``{"time": ..., <data source>: value, ...}`` with unknown values left out.

The fake draws the history from the same figures ``/cluster/resources`` shows now (a guest's CPU fraction and byte
rates of its run, its memory, a node's load and memory, a storage's usage) with a little seeded wobble per row, so
the newest rows agree with the current answers. A guest has figures only while it ran (``pvestatd`` writes only
``maxcpu``, ``maxmem``, ``maxdisk`` and ``disk`` for a stopped one, pve-manager PVE/Service/pvestatd.pm lines
371-395 at 14a22df3); nothing is written while its node is down (before its install, during its last reboot).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model import figures

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.nodes.node import Node
    from pytest_pvemock.model.storage import Storage

# timeframe: (resolution in seconds, rows)
TIMEFRAMES_PVE8 = {
    "hour": (60, 70),
    "day": (60 * 30, 70),
    "week": (60 * 180, 70),
    "month": (60 * 720, 70),
    "year": (60 * 10080, 70),
}
TIMEFRAMES_PVE9 = {
    "hour": (60, 60),
    "day": (60, 1440),
    "week": (60 * 30, 336),
    "month": (60 * 30, 1440),
    "year": (3600 * 6, 1440),
    "decade": (86400 * 7, 570),
}
NODE_SOURCES_PVE8 = ("loadavg", "maxcpu", "cpu", "iowait", "memtotal", "memused", "swaptotal", "swapused",
                     "roottotal", "rootused", "netin", "netout")  # fmt: skip
NODE_SOURCES_PVE9 = (*NODE_SOURCES_PVE8, "memavailable", "arcsize", "pressurecpusome", "pressureiosome",
                     "pressureiofull", "pressurememorysome", "pressurememoryfull")  # fmt: skip
GUEST_SOURCES_PVE8 = ("maxcpu", "cpu", "maxmem", "mem", "maxdisk", "disk", "netin", "netout", "diskread", "diskwrite")
GUEST_SOURCES_PVE9 = (*GUEST_SOURCES_PVE8, "memhost", "pressurecpusome", "pressurecpufull", "pressureiosome",
                      "pressureiofull", "pressurememorysome", "pressurememoryfull")  # fmt: skip
STORAGE_SOURCES = ("total", "used")
SWAP_TOTAL = 8589930496  # what /nodes/{node}/status reports

Figures = Callable[[int, Any], dict[str, float] | None]


def timeframes(cluster: FakeCluster) -> dict[str, tuple[int, int]]:
    """The time frames of the cluster's release and their (resolution, rows)."""
    return TIMEFRAMES_PVE9 if cluster.has("rrd-pve9-format") else TIMEFRAMES_PVE8


def row_times(cluster: FakeCluster, timeframe: str) -> tuple[int, list[int]]:
    """(resolution, the rows' times): ``count`` rows ending at the newest boundary before ``now``."""
    resolution, count = timeframes(cluster)[timeframe]
    newest = resolution * (cluster.clock.now() // resolution)
    return resolution, [newest - resolution * (count - 1 - index) for index in range(count)]


def _rows(
    cluster: FakeCluster, subject: str, timeframe: str, cf: str | None, sources: Sequence[str], figures_at: Figures
) -> list[dict[str, Any]]:
    resolution, times = row_times(cluster, timeframe)
    peak = (cf or "AVERAGE") == "MAX"
    # the average over a long bucket wobbles less than a one-minute sample
    spread = 0.25 / max((resolution / 60) ** 0.25, 1.0)
    rows = []
    for time in times:
        rng = figures.seeded(cluster.seed, "rrd", subject, resolution, time)
        wobble = 1 + spread * (rng.random() * 2 - 1) + (spread * 1.5 * rng.random() if peak else 0)
        values = figures_at(time, wobble)
        row: dict[str, Any] = {"time": time}
        if values:
            for name in sources:
                if name in values:
                    row[name] = figures.perl_number(values[name])
        rows.append(row)
    if cluster.has("rrd-pve9-format") and rows and len(rows[-1]) == 1:
        rows.pop()  # PVE 9 drops a newest bucket that holds only its time (pve-cluster RRD.pm line 124)
    return rows


def _covered(time: int, resolution: int, since: int, until: int) -> bool:
    """Whether the bucket ending at ``time`` is known: RRD's xff 0.5 needs half of it inside ``(since, until]``."""
    start = time - resolution
    inside = min(time, until) - max(start, since)
    return inside * 2 >= resolution


def installed_at(cluster: FakeCluster, node: Node) -> int:
    """When the node's RRD files were created (its install): some months before its last boot."""
    return node.boot_time - figures.seeded(cluster.seed, "installed", node.name).randrange(60, 700) * 86400


def _node_up(cluster: FakeCluster, node: Node, time: int, resolution: int) -> bool:
    """Whether ``pvestatd`` wrote the bucket ending at ``time``: after the install, outside the reboot that
    started the current uptime (a few minutes), and up to now (an offline node stopped two minutes ago)."""
    now = cluster.clock.now()
    until = now if node.online else now - 120
    if not _covered(time, resolution, installed_at(cluster, node), until):
        return False
    reboot = (node.boot_time - 240, node.boot_time)
    return not (resolution <= 240 and reboot[0] < time <= reboot[1] + resolution // 2)


def node_history(cluster: FakeCluster, node: Node, timeframe: str, cf: str | None = None) -> list[dict[str, Any]]:
    """``/nodes/{node}/rrddata``: the node's load, memory, root disk and traffic while it ran."""
    resolution = timeframes(cluster)[timeframe][0]
    guests = [guest for guest in cluster.guests_on(node.name) if guest.running]
    traffic_in = sum(guest.usage_rates().get("netin", 0.0) for guest in guests) + 1800.0
    traffic_out = sum(guest.usage_rates().get("netout", 0.0) for guest in guests) + 900.0
    cpu, mem_used = float(node.cpu_load), float(node.mem_used)
    if node.online:  # what /cluster/resources shows for the node now
        load, used = cluster.node_load(node)
        cpu, mem_used = float(load), float(used)
    pve9 = cluster.has("rrd-pve9-format")

    def at(time: int, wobble: float) -> dict[str, float] | None:
        if not _node_up(cluster, node, time, resolution):
            return None
        used = min(mem_used * (0.5 + wobble / 2), node.maxmem * 0.98)
        values = {
            "loadavg": cpu * node.maxcpu * wobble * 1.1,
            "maxcpu": node.maxcpu,
            "cpu": min(cpu * wobble, 1.0),
            "iowait": cpu * 0.02 * wobble,
            "memtotal": node.maxmem,
            "memused": round(used),
            "swaptotal": SWAP_TOTAL,
            "swapused": 0,
            "roottotal": node.maxdisk,
            "rootused": node.disk_used,
            "netin": traffic_in * wobble,
            "netout": traffic_out * wobble,
        }
        if pve9:
            values.update(
                memavailable=round(node.maxmem - used + node.maxmem // 9),
                arcsize=0,
                pressurecpusome=cpu * 0.5 * wobble,
                pressureiosome=cpu * 0.1 * wobble,
                pressureiofull=cpu * 0.05 * wobble,
                pressurememorysome=0,
                pressurememoryfull=0,
            )
        return values

    sources = NODE_SOURCES_PVE9 if pve9 else NODE_SOURCES_PVE8
    return _rows(cluster, f"node/{node.name}", timeframe, cf, sources, at)


def guest_history(cluster: FakeCluster, guest: Guest, timeframe: str, cf: str | None = None) -> list[dict[str, Any]]:
    """``/nodes/{node}/{qemu,lxc}/{vmid}/rrddata``: figures while the current run lasted; sizes only before it."""
    resolution = timeframes(cluster)[timeframe][0]
    now = cluster.clock.now()
    entry = guest.current_figures()
    if cluster.has("rrd-pve9-format"):
        entry["memhost"] = guest.memhost(entry["mem"])
    rates = guest.usage_rates()
    pve9 = cluster.has("rrd-pve9-format")
    qemu = guest.kind == "qemu"
    stopped = {"maxcpu": entry["maxcpu"], "maxmem": entry["maxmem"], "maxdisk": entry["maxdisk"], "disk": 0}
    host = cluster.find_node(guest.node)

    def at(time: int, wobble: float) -> dict[str, float] | None:
        if host is not None and not _node_up(cluster, host, time, resolution):
            return None
        if not rates or not _covered(time, resolution, guest.started_at, now):
            return dict(stopped)
        mem = min(entry["mem"] * (0.6 + 0.4 * wobble), entry["maxmem"])
        values = {
            "maxcpu": entry["maxcpu"],
            "cpu": min(rates["cpu"] * wobble, 1.0),
            "maxmem": entry["maxmem"],
            "mem": round(mem),
            "maxdisk": entry["maxdisk"],
            "disk": entry["disk"],
            "netin": rates["netin"] * wobble,
            "netout": rates["netout"] * wobble,
            "diskread": rates["diskread"] * wobble,
            "diskwrite": rates["diskwrite"] * wobble,
        }
        if pve9:
            if qemu:
                values["memhost"] = round(mem * entry.get("memhost", mem) / max(entry["mem"], 1))
            values.update(
                pressurecpusome=rates["cpu"] * 2 * wobble,
                pressurecpufull=rates["cpu"] * wobble,
                pressureiosome=rates["cpu"] * 0.3 * wobble,
                pressureiofull=rates["cpu"] * 0.2 * wobble,
                pressurememorysome=0,
                pressurememoryfull=0,
            )
        return values

    sources = GUEST_SOURCES_PVE9 if pve9 else GUEST_SOURCES_PVE8
    return _rows(cluster, guest.id, timeframe, cf, sources, at)


def storage_history(
    cluster: FakeCluster, storage: Storage, node: Node, timeframe: str, cf: str | None = None
) -> list[dict[str, Any]]:
    """``/nodes/{node}/storage/{storage}/rrddata``: its size and usage as the node saw them."""
    resolution = timeframes(cluster)[timeframe][0]
    now = cluster.clock.now()
    total, used, _avail = cluster.storage_usage(storage.storage, node.name)

    def at(time: int, wobble: float) -> dict[str, float] | None:
        if not _node_up(cluster, node, time, resolution):
            return None
        # usage grew to today's: older rows hold a little less
        age = max(now - time - resolution, 0) / (400 * 86400)
        return {"total": total, "used": round(min(used * max(1 - age, 0.2), total))}

    return _rows(cluster, f"storage/{node.name}/{storage.storage}", timeframe, cf, STORAGE_SOURCES, at)
