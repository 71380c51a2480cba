"""``/cluster``: the index, ``status``, ``resources`` and ``nextid``, all computed from the model."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.api.handlers.shaping import ordered_rows
from pytest_pvemock.api.index import pve_index_listing
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.api.views.resources import cluster_resources_answer
from pytest_pvemock.api.visibility import Visibility
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.corosync import config_version


@handles("GET", "/cluster")
def cluster_index(ctx: HandlerContext) -> list[dict[str, str]]:
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


@handles("GET", "/cluster/status")
def cluster_status(ctx: HandlerContext) -> list[dict[str, Any]]:
    """The cluster entry (when there is more than one node), then one entry per node; ``local`` marks the first."""
    cluster = ctx.cluster
    rows: list[dict[str, Any]] = []
    nodes = cluster.nodes
    if len(nodes) > 1:
        rows.append(
            {
                "type": "cluster",
                "id": "cluster",
                "name": cluster.name,
                "nodes": len(nodes),
                "quorate": int(cluster.quorate),
                "version": config_version(cluster),
            }
        )
    for index, node in enumerate(nodes):
        rows.append(
            {
                "type": "node",
                "id": f"node/{node.name}",
                "name": node.name,
                "nodeid": node.nodeid,
                "ip": node.ip,
                "online": int(node.online),
                "local": int(index == 0),
                "level": node.level,
            }
        )
    return ordered_rows(ctx, rows)


@handles("GET", "/cluster/resources")
def cluster_resources(ctx: HandlerContext) -> Result:
    rows, snapshot = cluster_resources_answer(ctx.cluster, ctx.params.get("type"))
    seen = Visibility(ctx)
    if not seen.everything:  # filtered per caller after the view, as Cluster.pm resources 536-700 filters
        return Result(seen.resources(rows))
    return Result(rows, snapshot=snapshot)


@handles("GET", "/cluster/nextid")
def cluster_nextid(ctx: HandlerContext) -> str:
    """The next free VMID, as a string (PVE's Perl value has been used as a hash key by then)."""
    cluster = ctx.cluster
    wanted = ctx.params.get("vmid")
    if wanted is not None:
        if cluster.find_guest(wanted) is not None:
            raise ParameterError({"vmid": f"VM {wanted} already exists"})
        return str(wanted)
    # Cluster.pm nextid 1041-1051 (pve-manager 14a22df3): within the datacenter's next-id range, upper excluded
    bounds = dict(
        part.partition("=")[::2]
        for part in str(cluster.configs.option_set("/cluster/options").get("next-id") or "").split(",")
        if "=" in part
    )
    lower, upper = int(bounds.get("lower") or 100), int(bounds.get("upper") or 1_000_000)
    vmid = cluster.next_vmid(lower)
    if vmid >= upper:
        raise PVEError(f"unable to get any free VMID in range [{lower}, {upper}]")
    return str(vmid)


@handles("GET", "/cluster/tasks")
def cluster_tasks(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Recent tasks of every node, newest first; without Sys.Audit on / only the caller's own: Cluster.pm tasks
    758-766 (pve-manager 14a22df3) compares the task's user, its token split off, with the caller (so a token
    without Sys.Audit sees none)."""
    authid = ctx.principal.authid
    everything = "Sys.Audit" in privileges_of(ctx.cluster, authid, "/")
    tasks = sorted(
        (task for task in ctx.cluster.tasks if everything or task.user == authid),
        key=lambda task: (task.starttime, task.pid),
        reverse=True,
    )
    return ordered_rows(ctx, (task.list_entry() for task in tasks), key="upid")
