"""``GET /cluster/metrics/export``: the metrics ``pvestatd`` cached on each node, collected as pve-manager
PVE/API2/Cluster/MetricServer.pm ``export`` collects them (lines 309-480, commit 14a22df3): the answering node's
own, then every other online member's (``local-only`` skips them), sorted by time; ``history`` adds the older
rounds (all 181, or those after ``start-time``); an unknown name in ``node-list`` fails the call."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.pull_metrics import KEPT_ROUNDS, ROUND, node_metrics


def _flag(ctx: HandlerContext, name: str) -> bool:
    return str(ctx.params.get(name, 0)).lower() in ("1", "true")


@handles("GET", "/cluster/metrics/export")
def export_metrics(ctx: HandlerContext) -> dict[str, Any]:
    """The answering node (the first online one) first, then the other online members, sorted by timestamp."""
    cluster = ctx.cluster
    now = cluster.clock.now()
    start = ctx.params.get("start-time")
    # get_last(N) gives the newest round and N older ones; pvestatd runs every 10 s
    older = 0
    if _flag(ctx, "history"):
        older = (now - int(start)) // ROUND if start is not None else KEPT_ROUNDS
    rounds = 1 + older
    members = {node.name: node for node in cluster.nodes}
    answering = next((node for node in cluster.nodes if node.online), None)
    wanted = [name.strip() for name in str(ctx.params.get("node-list") or "").replace(";", ",").split(",")]
    wanted = [name for name in wanted if name]
    metrics: list[dict[str, Any]] = []
    if answering is not None and (not wanted or answering.name in wanted):
        metrics.extend(node_metrics(cluster, answering, rounds))
        if start is not None:
            metrics = [metric for metric in metrics if metric["timestamp"] > int(start)]
    if not _flag(ctx, "local-only") or wanted:
        unknown = [name for name in wanted if name not in members]
        if unknown:
            raise PVEError("Requested node-list contains unknown nodes - " + ", ".join(unknown))
        for name in wanted or sorted(members):
            node = members[name]
            if node is answering or not node.online:
                continue
            remote = node_metrics(cluster, node, rounds)
            if start is not None:
                remote = [metric for metric in remote if metric["timestamp"] > int(start)]
            metrics.extend(remote)
    metrics.sort(key=lambda metric: metric["timestamp"])
    return {"data": metrics}
