"""``GET /version`` and ``GET /nodes/{node}/version``: the release a node runs, as pve-manager reports it."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered


@handles("GET", "/version")
def get_version(ctx: HandlerContext) -> dict[str, Any]:
    cluster = ctx.cluster
    release = cluster.release
    return ordered(ctx, {"version": release.version, "release": release.minor, "repoid": cluster.repoid})


@handles("GET", "/nodes/{node}/version")
def node_version(ctx: HandlerContext) -> dict[str, Any]:
    """``PVE::pvecfg::version_info()`` on that node (pve-manager 14a22df3 ``PVE/API2/Nodes.pm`` 278-313): what
    ``/version`` answers without the datacenter's ``console``; every node of the cluster runs the same release."""
    ctx.cluster.require_node_reachable(ctx.params["node"])
    cluster = ctx.cluster
    release = cluster.release
    return ordered(ctx, {"version": release.version, "release": release.minor, "repoid": cluster.repoid})
