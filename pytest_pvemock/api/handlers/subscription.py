"""``/nodes/{node}/subscription``: the node's subscription as ``pvesubscription get/set/update/delete`` handle it.

A node built without a support ``level`` has no key (``/etc/subscription`` absent): PVE answers ``notfound`` with a
message and the shop's URL, and no date (pve-manager PVE/API2/Subscription.pm lines 211-229, commit 14a22df3).
A node with a level holds a checked key of that level for its socket count. ``PUT`` sets a key and checks it with
the shop (``model/nodes/subscription.py``: the keys the shop knows are a fact of the node), ``POST`` checks again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.nodes.node import Node
from pytest_pvemock.model.nodes.subscription import (
    SOCKETS,
    SubscriptionError,
    SubscriptionRecord,
    built_record,
    check_is_recent,
    checked_key,
    shop_check,
)

SHOP_URL = "https://www.proxmox.com/en/proxmox-virtual-environment/pricing"


def server_id(node: Node, seed: int | str) -> str:
    """The node's server ID: 32 upper-case hex digits (PVE hashes the host's SSH key; the fake hashes its seed)."""
    return hashlib.md5(f"{seed}/{node.name}/ssh_host_rsa_key.pub".encode()).hexdigest().upper()


def stored_subscription(ctx: HandlerContext, node: Node) -> SubscriptionRecord | None:
    """``/etc/subscription`` of the node: the key last set through the API, else the key of its support level."""
    if node.subscription is not None:
        return node.subscription
    if not node.level:
        return None
    return built_record(ctx.cluster.seed, node.name, node.level, node.boot_time, ctx.cluster.clock.now())


def _shop_knows(ctx: HandlerContext, node: Node, key: str) -> bool:
    if key in node.shop_keys:
        return True
    return bool(node.level) and key == built_record(ctx.cluster.seed, node.name, node.level, node.boot_time, 0).key


def _store(node: Node, record: SubscriptionRecord) -> None:
    """write_etc_subscription; pvestatd then reports the level of an active key only (read_etc_subscription)."""
    node.subscription = record
    node.level = record.level if record.status == "active" else ""


def _checked(key: str) -> None:
    try:
        checked_key(key)
    except SubscriptionError as error:
        raise PVEError(str(error), 500) from None


@handles("GET", "/nodes/{node}/subscription")
def get_subscription(ctx: HandlerContext) -> dict[str, Any]:
    """``notfound`` without a key; the key's status, level, product, dates and last check with one; the key and
    ``serverid`` only for callers with ``Sys.Audit`` on the node (PVE: the same check with ``noerr``)."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    audit = "Sys.Audit" in privileges_of(cluster, ctx.principal.authid, f"/nodes/{node.name}")
    record = stored_subscription(ctx, node)
    if record is None:
        answer: dict[str, Any] = {"status": "notfound", "message": "There is no subscription key", "url": SHOP_URL}
        if audit:
            answer["serverid"] = server_id(node, cluster.seed)
        return ordered(ctx, answer, node.name)
    if not audit:
        answer = {"status": record.status, "url": SHOP_URL}
        if record.message:
            answer["message"] = record.message
        return ordered(ctx, answer, node.name)
    answer = {"status": record.status, "key": record.key, "checktime": record.checktime}
    for name in ("level", "productname", "regdate", "nextduedate", "message"):
        if getattr(record, name):
            answer[name] = getattr(record, name)
    answer.update(serverid=server_id(node, cluster.seed), sockets=SOCKETS, url=SHOP_URL)
    return ordered(ctx, answer, node.name)


@handles("PUT", "/nodes/{node}/subscription")
def set_subscription(ctx: HandlerContext) -> None:
    """Subscription.pm ``set`` (313-368, 14a22df3): the trimmed key passes ``check_key`` (sockets, architecture),
    is written as ``New``, checked with the shop and written as the shop answered: ``active`` with the key's level,
    product and dates, or ``invalid`` for a key the shop does not know."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    key = str(ctx.params["key"]).strip()
    _checked(key)
    now = ctx.cluster.clock.now()
    _store(node, shop_check(key, _shop_knows(ctx, node, key), stored_subscription(ctx, node), now))


@handles("POST", "/nodes/{node}/subscription")
def update_subscription(ctx: HandlerContext) -> None:
    """Subscription.pm ``update`` (255-311, 14a22df3): nothing without a key; an active key checked within 15 days
    is not checked again unless ``force``; otherwise ``check_key`` and the shop's answer refresh ``checktime``."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    record = stored_subscription(ctx, node)
    if record is None:
        return None
    now = ctx.cluster.clock.now()
    if not ctx.params.get("force") and check_is_recent(record, now):
        return None
    _checked(record.key)
    _store(node, shop_check(record.key, _shop_knows(ctx, node, record.key), record, now))
    return None


@handles("DELETE", "/nodes/{node}/subscription")
def delete_subscription(ctx: HandlerContext) -> None:
    """Subscription.pm ``delete`` (370-393, 14a22df3): ``/etc/subscription`` unlinked (nothing to do without one);
    the node answers ``notfound`` from then on and ``/cluster/resources`` shows no support level."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    node.subscription = None
    node.level = ""
