"""``/nodes/{node}/subscription``: the node's subscription as ``pvesubscription get`` reports it.

A node built without a support ``level`` has no key (``/etc/subscription`` absent): PVE answers ``notfound`` with a
message and the shop's URL, and no date (pve-manager PVE/API2/Subscription.pm lines 211-229, commit 14a22df3).
A node with a level holds a checked key of that level for its socket count.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.model import figures
from pytest_pvemock.model.nodes.node import Node

SHOP_URL = "https://www.proxmox.com/en/proxmox-virtual-environment/pricing"
LEVEL_NAMES = {"c": "Community", "b": "Basic", "s": "Standard", "p": "Premium"}
SOCKETS = 1  # /nodes/{node}/status reports one socket for every fake node
YEAR = 365 * 86400


def server_id(node: Node, seed: int | str) -> str:
    """The node's server ID: 32 upper-case hex digits (PVE hashes the host's SSH key; the fake hashes its seed)."""
    return hashlib.md5(f"{seed}/{node.name}/ssh_host_rsa_key.pub".encode()).hexdigest().upper()


def _date(epoch: int, with_time: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d")


@handles("GET", "/nodes/{node}/subscription")
def get_subscription(ctx: HandlerContext) -> dict[str, Any]:
    """``notfound`` without a key; the key's level, product, dates and last check with one; ``serverid`` only for
    callers with ``Sys.Audit`` on the node (PVE: the same check with ``noerr``)."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    audit = "Sys.Audit" in privileges_of(cluster, ctx.principal.authid, f"/nodes/{node.name}")
    if not node.level:
        answer: dict[str, Any] = {"status": "notfound", "message": "There is no subscription key", "url": SHOP_URL}
        if audit:
            answer["serverid"] = server_id(node, cluster.seed)
        return ordered(ctx, answer, node.name)
    if not audit:
        return ordered(ctx, {"status": "active", "url": SHOP_URL}, node.name)
    now = cluster.clock.now()
    rng = figures.seeded(cluster.seed, "subscription", node.name)
    registered = node.boot_time - rng.randrange(30 * 86400, 300 * 86400)
    next_due = registered + YEAR * (1 + (now - registered) // YEAR)
    answer = {
        "status": "active",
        "key": f"pve{SOCKETS}{node.level}-{figures.hex_string(rng, 10)}",
        "level": node.level,
        "productname": f"Proxmox VE {LEVEL_NAMES[node.level]} Subscription {SOCKETS} CPU/year",
        "regdate": _date(registered, with_time=True),
        "nextduedate": _date(next_due),
        "checktime": now - (now - registered) % 86400,
        "serverid": server_id(node, cluster.seed),
        "sockets": SOCKETS,
        "url": SHOP_URL,
    }
    return ordered(ctx, answer, node.name)


@handles("DELETE", "/nodes/{node}/subscription")
def delete_subscription(ctx: HandlerContext) -> None:
    """Subscription.pm ``delete`` (370-393, 14a22df3): ``/etc/subscription`` unlinked (nothing to do without one);
    the node answers ``notfound`` from then on and ``/cluster/resources`` shows no support level."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    node.level = ""
