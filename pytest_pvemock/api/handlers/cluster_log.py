"""``/cluster/log``: the cluster log (:mod:`pytest_pvemock.model.cluster_log`), as pve-manager
PVE/API2/Cluster.pm ``log`` returns it (commit 14a22df3): newest first, ``max`` entries (0: pmxcfs's 50),
``id`` = ``uid:node``, only the caller's own entries without ``Sys.Syslog`` on ``/``."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered_rows
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.model.cluster_log import cluster_log

DEFAULT_MAX = 50


@handles("GET", "/cluster/log")
def read_cluster_log(ctx: HandlerContext) -> list[dict[str, Any]]:
    authid = ctx.principal.authid
    admin = "Sys.Syslog" in privileges_of(ctx.cluster, authid, "/")
    limit = int(ctx.params.get("max") or 0) or DEFAULT_MAX
    rows = [entry for entry in cluster_log(ctx.cluster) if admin or entry["user"] == authid][:limit]
    for row in rows:
        row["id"] = f"{row['uid']}:{row['node']}"
    return ordered_rows(ctx, rows)
