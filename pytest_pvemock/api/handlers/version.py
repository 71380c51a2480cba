"""``GET /version``: the API server's version, as pve-manager reports it."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered


@handles("GET", "/version")
def get_version(ctx: HandlerContext) -> dict[str, Any]:
    cluster = ctx.cluster
    release = cluster.release
    return ordered(ctx, {"version": release.version, "release": release.minor, "repoid": cluster.repoid})
