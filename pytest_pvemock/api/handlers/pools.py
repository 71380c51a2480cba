"""``/pools``: list, create, read, update and delete resource pools."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.views.resources import pool_members
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.pools import Pool

_MEMBER_TYPES = {"qemu": ("qemu",), "lxc": ("lxc",), "storage": ("storage",)}


def _pool(ctx: HandlerContext) -> Pool:
    poolid = ctx.params["poolid"]
    pool = ctx.cluster.pool(poolid)
    if pool is None:
        raise PVEError(f"pool '{poolid}' does not exist")
    return pool


def _members(ctx: HandlerContext, pool: Pool) -> list[dict[str, Any]]:
    members = pool_members(ctx.cluster, pool)
    kind = ctx.params.get("type")
    if kind:
        members = [member for member in members if member["type"] in _MEMBER_TYPES.get(kind, (kind,))]
    return ordered_rows(ctx, members)


def _pool_summary(pool: Pool) -> dict[str, Any]:
    entry: dict[str, Any] = {"poolid": pool.poolid}
    if pool.comment:
        entry["comment"] = pool.comment
    return entry


@handles("GET", "/pools")
def list_pools(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Every pool (``poolid``, ``comment``); with ``poolid`` just that one, with its members."""
    wanted = ctx.params.get("poolid")
    if wanted is not None:
        pool = _pool(ctx)
        entry = _pool_summary(pool)
        entry["members"] = _members(ctx, pool)
        return [ordered(ctx, entry, pool.poolid)]
    return ordered_rows(ctx, (_pool_summary(pool) for pool in ctx.cluster.pools), key="poolid")


@handles("POST", "/pools")
def create_pool(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()
    ctx.cluster.add_pool(ctx.params["poolid"], ctx.params.get("comment", ""))
    return None


@handles("GET", "/pools/{poolid}")
def get_pool(ctx: HandlerContext) -> dict[str, Any]:
    pool = _pool(ctx)
    entry: dict[str, Any] = {"members": _members(ctx, pool)}
    if pool.comment:
        entry["comment"] = pool.comment
    return ordered(ctx, entry, pool.poolid)


def _update(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()
    params = ctx.params
    _pool(ctx)
    vms = [int(vmid) for vmid in str(params.get("vms", "")).replace(";", ",").split(",") if vmid.strip()]
    storage = [name for name in str(params.get("storage", "")).replace(";", ",").split(",") if name.strip()]
    ctx.cluster.update_pool(
        params["poolid"],
        comment=params.get("comment"),
        vms=vms,
        storage=storage,
        delete=bool(params.get("delete")),
        allow_move=bool(params.get("allow-move")),
    )


@handles("PUT", "/pools/{poolid}")
def update_pool(ctx: HandlerContext) -> None:
    _update(ctx)
    return None


@handles("PUT", "/pools")
def update_pool_by_param(ctx: HandlerContext) -> None:
    _update(ctx)
    return None


@handles("DELETE", "/pools/{poolid}")
def delete_pool(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()
    _pool(ctx)
    ctx.cluster.remove_pool(ctx.params["poolid"])
    return None


@handles("DELETE", "/pools")
def delete_pool_by_param(ctx: HandlerContext) -> None:
    delete_pool(ctx)
