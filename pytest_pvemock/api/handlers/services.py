"""``/nodes/{node}/services`` and ``.../{service}/state``: pve-manager PVE/API2/Services.pm (commit 14a22df3,
lines 19-43 for the list, 225-260 for the index): every known unit, sorted, with ``systemctl show``'s description
and states (:mod:`pytest_pvemock.model.nodes.services`); ``start``, ``stop``, ``restart`` and ``reload`` run
``systemctl`` in a worker (343-493)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.model.nodes.services import service_command, service_names, service_state


@handles("GET", "/nodes/{node}/services")
def list_services(ctx: HandlerContext) -> list[dict[str, Any]]:
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    rows = [service_state(ctx.cluster, name, node) for name in service_names(ctx.cluster)]
    return ordered_rows(ctx, rows, key="service")


@handles("GET", "/nodes/{node}/services/{service}/state")
def get_service_state(ctx: HandlerContext) -> dict[str, Any]:
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    return ordered(ctx, service_state(ctx.cluster, ctx.params["service"], node), ctx.params["service"])


def _command(ctx: HandlerContext, command: str) -> str:
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    return service_command(ctx.cluster, node, ctx.params["service"], command, ctx.principal.authid).upid


@handles("POST", "/nodes/{node}/services/{service}/start")
def start_service(ctx: HandlerContext) -> str:
    return _command(ctx, "start")


@handles("POST", "/nodes/{node}/services/{service}/stop")
def stop_service(ctx: HandlerContext) -> str:
    return _command(ctx, "stop")


@handles("POST", "/nodes/{node}/services/{service}/restart")
def restart_service(ctx: HandlerContext) -> str:
    return _command(ctx, "restart")


@handles("POST", "/nodes/{node}/services/{service}/reload")
def reload_service(ctx: HandlerContext) -> str:
    return _command(ctx, "reload")
