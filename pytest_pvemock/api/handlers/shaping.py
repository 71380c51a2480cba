"""How answers are shaped on the way out: object keys in a per-object order, as PVE's Perl hashes give them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_pvemock.api.handler import HandlerContext


def ordered(ctx: HandlerContext, obj: dict[str, Any], identity: str = "") -> dict[str, Any]:
    """``obj`` with its keys in the cluster's order for ``identity`` (unchanged when shuffling is off)."""
    return ctx.cluster.key_order.apply(obj, identity)


def ordered_rows(ctx: HandlerContext, rows: Iterable[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """Each row reordered by its own identity (the value of ``key``)."""
    apply = ctx.cluster.key_order.apply
    return [apply(row, str(row.get(key, ""))) for row in rows]
