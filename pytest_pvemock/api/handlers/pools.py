"""``/pools``: list, create, read, update and delete resource pools, as pve-manager PVE/API2/Pool.pm (14a22df3).

Writes run inside ``lock_user_config`` on PVE: their errors carry the method's prefix (``update pools failed: ...``).
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.permissions import PermissionChecker, access_control
from pytest_pvemock.api.views.resources import pool_members
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.pools import Pool

_MEMBER_TYPES = {"qemu": ("qemu",), "lxc": ("lxc",), "storage": ("storage",)}


def _pool(ctx: HandlerContext, failure: str = "") -> Pool:
    poolid = ctx.params["poolid"]
    pool = ctx.cluster.pool(poolid)
    if pool is None:
        raise PVEError(f"{failure}: " * bool(failure) + f"pool '{poolid}' does not exist")
    return pool


def _failing(failure: str) -> Any:
    """Re-raise the model's errors with the ``lock_user_config`` prefix of the method."""

    class _Prefix:
        def __enter__(self) -> None:
            return None

        def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
            if isinstance(error, PVEError) and error.code in (None, 500):
                raise PVEError(f"{failure}: {error.message}") from None

    return _Prefix()


def _one_entry_per_storage(ctx: HandlerContext, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pool.pm index 109-131 (pve-manager 14a22df3): guests by VMID sorted as text, then one entry per storage,
    on the answering (first) node when the storage is there, else on the first of its nodes."""
    guests = sorted((m for m in members if m.get("type") != "storage"), key=lambda m: str(m.get("vmid")))
    first = ctx.cluster.nodes[0].name if ctx.cluster.nodes else ""
    storages: dict[str, dict[str, Any]] = {}
    for member in sorted((m for m in members if m.get("type") == "storage"), key=lambda m: str(m.get("node"))):
        chosen = storages.get(member["storage"])
        if chosen is None or (member.get("node") == first and chosen.get("node") != first):
            storages[member["storage"]] = member
    return guests + [storages[name] for name in sorted(storages)]


def _members(ctx: HandlerContext, pool: Pool) -> list[dict[str, Any]]:
    members = _one_entry_per_storage(ctx, pool_members(ctx.cluster, pool))
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
    # Pool.pm index 145-153: sorted, only the pools the caller has Pool.Audit on
    checker = PermissionChecker(ctx.cluster)
    authid = ctx.principal.authid
    pools = sorted(ctx.cluster.pools, key=lambda pool: pool.poolid)
    visible = (pool for pool in pools if checker.check(authid, f"/pool/{pool.poolid}", ["Pool.Audit"], noerr=True))
    return ordered_rows(ctx, (_pool_summary(pool) for pool in visible), key="poolid")


@handles("POST", "/pools")
def create_pool(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()
    poolid = str(ctx.params["poolid"])
    if ctx.cluster.pool(poolid) is None:  # Pool.pm create_pool 191-199, after the exists check
        parent, _, leaf = poolid.rpartition("/")
        if parent and ctx.cluster.pool(parent) is None:
            raise PVEError(f"create pool failed: parent '{parent}' of pool '{poolid}' does not exist")
        if not leaf[:1].isascii() or not leaf[:1].isalpha():
            raise PVEError("create pool failed: pool name must start with a letter")
    ctx.cluster.add_pool(poolid, ctx.params.get("comment", ""))
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
    _pool(ctx, "update pools failed")
    vms = [int(vmid) for vmid in str(params.get("vms", "")).replace(";", ",").split(",") if vmid.strip()]
    storage = [name for name in str(params.get("storage", "")).replace(";", ",").split(",") if name.strip()]
    # Pool.pm update_pool 333, 358, 349-351: the right to modify permissions on every member added or removed,
    # Pool.Allocate on the pool a guest moves from
    checker, authid = PermissionChecker(ctx.cluster), ctx.principal.authid
    for path in [f"/vms/{vmid}" for vmid in vms] + [f"/storage/{name}" for name in storage]:
        checker.may_modify_permissions(authid, path, noerr=False)
    if params.get("allow-move") and not params.get("delete"):
        for vmid in vms:
            current = ctx.cluster.pool_of(vmid)
            if current is not None and current != params["poolid"]:
                checker.check(authid, f"/pool/{current}", ["Pool.Allocate"])
    with _failing("update pools failed"):
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
    poolid = str(ctx.params["poolid"])
    _pool(ctx, "delete pool failed")
    with _failing("delete pool failed"):
        ctx.cluster.remove_pool(poolid)
    # Pool.pm delete_pool 528 (AccessControl.pm delete_pool_acl 1046-1050): the ACL entries on the pool go
    control = access_control(ctx.cluster)
    control.acl = [entry for entry in control.acl if not (entry.path + "/").startswith(f"/pool/{poolid}/")]
    return None


@handles("DELETE", "/pools")
def delete_pool_by_param(ctx: HandlerContext) -> None:
    delete_pool(ctx)
