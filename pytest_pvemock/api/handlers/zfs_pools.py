"""``/nodes/{node}/disks/zfs/{name}``: ``zpool status`` of a pool the node has
(:mod:`pytest_pvemock.model.zfs_pools`; pve-storage 0c56bad8 ``src/PVE/API2/Disks/ZFS.pm`` ``detail``)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.model.zfs_pools import zpool_status


@handles("GET", "/nodes/{node}/disks/zfs/{name}")
def zpool_detail(ctx: HandlerContext) -> dict[str, Any]:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"])).name
    return zpool_status(ctx.cluster, node, str(ctx.params["name"]))
