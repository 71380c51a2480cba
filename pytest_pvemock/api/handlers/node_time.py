"""``/nodes/{node}/time``: the server time and time zone (the cluster's zone; see ``FakeCluster.timezone``)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered
from pytest_pvemock.errors import ParameterError
from pytest_pvemock.model.time_zone import local_epoch


@handles("GET", "/nodes/{node}/time")
def get_time(ctx: HandlerContext) -> dict[str, Any]:
    cluster = ctx.cluster
    cluster.require_node_reachable(ctx.params["node"])
    now = cluster.clock.now()
    return ordered(ctx, {"timezone": cluster.timezone, "time": now, "localtime": local_epoch(now, cluster.tzinfo)})


@handles("PUT", "/nodes/{node}/time")
def set_timezone(ctx: HandlerContext) -> None:
    """Set the zone (of every node: the fake keeps one zone per cluster); an unknown name is refused like PVE does."""
    cluster = ctx.cluster
    cluster.require_node_reachable(ctx.params["node"])
    try:
        cluster.timezone = ctx.params["timezone"]
    except ValueError:
        raise ParameterError({"timezone": "No such timezone"}) from None
