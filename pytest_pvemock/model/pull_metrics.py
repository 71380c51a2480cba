"""What ``pvestatd`` leaves in a node's metrics cache for ``GET /cluster/metrics/export``.

Every ``pvestatd`` round (10 s) stores the node's, its guests' and its storages' status in a shared cache that keeps
the newest round and 180 older ones (pve-manager PVE/PullMetric.pm, PVE/Service/pvestatd.pm lines 172-291, 444,
732, 758; commit 14a22df3). ``PullMetric.pm`` turns each round into metrics: gauges (uptime, CPU, memory, sizes)
and ``derive`` counters (bytes through the physical NICs since boot; a guest's traffic and disk I/O since it
started). The fake derives each round from the figures ``/cluster/resources`` shows now: the newest round agrees
with it, older rounds hold the counters as they were then and the loads with a little seeded wobble.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.model import figures
from pytest_pvemock.model.usage_history import SWAP_TOTAL

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.nodes.node import Node

ROUND = 10  # seconds between two pvestatd rounds
KEPT_ROUNDS = 180 + 1  # PullMetric::max_generations: OLD_GENERATIONS plus the newest
NODE_TRAFFIC_IN, NODE_TRAFFIC_OUT = 1800.0, 900.0  # the host's own bytes per second (as usage_history draws them)
_LOADS = (("cpu_avg1", 1.3), ("cpu_avg5", 1.1), ("cpu_avg15", 0.9))  # as /nodes/{node}/status derives loadavg
_GUEST_COUNTERS = (("net_in", "netin"), ("net_out", "netout"), ("disk_read", "diskread"), ("disk_write", "diskwrite"))


def _metric(kind: str, subject: str, time: int, metric: str, value: float) -> dict[str, Any]:
    return {"metric": metric, "id": subject, "value": figures.perl_number(value), "timestamp": time, "type": kind}


def round_times(cluster: FakeCluster, node: Node, rounds: int) -> list[int]:
    """The times of the node's newest ``rounds`` pvestatd rounds since its boot, oldest first."""
    offset = figures.seeded(cluster.seed, "pvestatd", node.name).randrange(ROUND)
    now = cluster.clock.now()
    newest = now - (now - offset) % ROUND
    times = [newest - ROUND * index for index in range(min(rounds, KEPT_ROUNDS))]
    return sorted(time for time in times if time > node.boot_time + 30)


def node_metrics(cluster: FakeCluster, node: Node, rounds: int = 1) -> list[dict[str, Any]]:
    """``get_local_metrics`` of ``node``: its newest ``rounds`` rounds (node, QEMU, LXC, storage), oldest first."""
    now = cluster.clock.now()
    load, used = cluster.node_load(node)
    entry = {"cpu": load, "mem": used}
    guests = cluster.guests_on(node.name)
    running = [guest for guest in guests if guest.running]
    rates_in = sum(guest.usage_rates().get("netin", 0.0) for guest in running) + NODE_TRAFFIC_IN
    rates_out = sum(guest.usage_rates().get("netout", 0.0) for guest in running) + NODE_TRAFFIC_OUT
    entries = {guest.vmid: guest.current_figures() for guest in guests}
    storages = [
        (storage, cluster.storage_usage(storage.storage, node.name)) for storage in cluster.storages_on(node.name)
    ]
    metrics: list[dict[str, Any]] = []
    times = round_times(cluster, node, rounds)
    node_id = f"node/{node.name}"
    for time in times:
        # the newest round is what /cluster/resources shows now; older ones wobble around it
        rng = figures.seeded(cluster.seed, "pvestatd", node.name, time)
        wobble = 1.0 if time == times[-1] else 1 + 0.2 * (rng.random() - 0.5)
        uptime = time - node.boot_time
        cpu = min(float(entry["cpu"]) * wobble, 1.0)
        mem_used = min(round(int(entry["mem"]) * wobble), node.maxmem)
        gauges = [
            ("uptime", uptime),
            *((name, float(f"{cpu * node.maxcpu * factor:.2f}")) for name, factor in _LOADS),
            ("cpu_max", node.maxcpu),
            ("cpu_current", cpu),
            ("cpu_iowait", cpu * 0.02),
            ("mem_total", node.maxmem),
            ("mem_used", mem_used),
            ("swap_total", SWAP_TOTAL),
            ("swap_used", 0),
            ("disk_total", node.maxdisk),
            ("disk_used", node.disk_used),
        ]
        metrics.extend(_metric("gauge", node_id, time, name, value) for name, value in gauges)
        metrics.append(_metric("derive", node_id, time, "net_in", round(rates_in * uptime)))
        metrics.append(_metric("derive", node_id, time, "net_out", round(rates_out * uptime)))
        for guest in guests:
            metrics.extend(_guest_metrics(guest, entries[guest.vmid], time, now, wobble))
        for storage, (total, used, _avail) in storages:
            storage_id = f"storage/{node.name}/{storage.storage}"
            metrics.append(_metric("gauge", storage_id, time, "disk_total", total))
            metrics.append(_metric("gauge", storage_id, time, "disk_used", used))
    return metrics


def _guest_metrics(guest: Guest, entry: dict[str, Any], time: int, now: int, wobble: float) -> list[dict[str, Any]]:
    """``get_qemu_metrics`` / ``get_lxc_metrics`` for one guest: loads and counters only while it runs."""
    kind = guest.kind
    subject = f"{kind}/{guest.vmid}"
    metrics = []
    rates = guest.usage_rates()
    ran = bool(rates) and guest.started_at <= time
    if ran:
        metrics.append(_metric("gauge", subject, time, "cpu_current", min(float(entry["cpu"]) * wobble, 1.0)))
        metrics.append(_metric("gauge", subject, time, "mem_used", min(round(entry["mem"] * wobble), entry["maxmem"])))
        for metric, key in _GUEST_COUNTERS:
            then = max(round(entry[key] - rates[key] * (now - time)), 0)
            metrics.append(_metric("derive", subject, time, metric, then))
        if kind == "lxc":
            metrics.append(_metric("gauge", subject, time, "disk_used", entry["disk"]))
    uptime = time - guest.started_at if ran else 0
    metrics.append(_metric("gauge", subject, time, "uptime", uptime))
    metrics.append(_metric("gauge", subject, time, "cpu_max", entry["maxcpu"]))
    metrics.append(_metric("gauge", subject, time, "mem_total", entry["maxmem"]))
    metrics.append(_metric("gauge", subject, time, "disk_total", entry["maxdisk"]))
    return metrics
