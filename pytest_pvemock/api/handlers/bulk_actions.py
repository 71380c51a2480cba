"""``POST /cluster/bulk-action/guest/{start,shutdown,suspend,migrate}`` (PVE 9): the checks before the worker, then
the ``bulk-<action>`` task of :mod:`pytest_pvemock.model.bulk_actions`.

pve-manager 14a22df35955d97dfc1af21e117dc894a29df0c9 ``PVE/API2/Cluster/BulkAction/Guest.pm``:
``check_guest_permissions`` 218-226 (the privileges on each VMID of ``vms``, else on ``/``), ``get_max_workers``
248-258 (the parameter, its alias, datacenter.cfg's ``max_workers``, else the action's default), ``suspend`` 610-619
(``to-disk``: VM.Config.Disk too, Datastore.AllocateSpace on the state storage).
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import PermissionDenied
from pytest_pvemock.model.bulk_actions import bulk_migrate, bulk_shutdown, bulk_start, bulk_suspend
from pytest_pvemock.model.config_store import config_store_of

BASE = "/cluster/bulk-action/guest"


def _vmids(ctx: HandlerContext) -> list[int] | None:
    given = ctx.params.get("vms")
    if given is None:
        return None
    values = given if isinstance(given, list) else str(given).replace(";", ",").split(",")
    return [int(value) for value in values if str(value).strip()] or None


def check_guest_permissions(ctx: HandlerContext, vmids: list[int] | None, privileges: list[str]) -> None:
    """``check_guest_permissions``: each VMID of ``vms``, or ``/`` (PVE's ``raise_perm_exc`` wording)."""
    checker, authid = PermissionChecker(ctx.cluster), ctx.principal.authid
    if vmids:
        for vmid in vmids:
            checker.check(authid, f"/vms/{vmid}", privileges)
    elif not checker.check(authid, "/", privileges, noerr=True):
        raise PermissionDenied(f"Permission check failed (/, {', '.join(privileges)})")


def _max_workers(ctx: HandlerContext, default: int) -> int:
    params: dict[str, Any] = ctx.params
    datacenter = config_store_of(ctx.cluster).option_set("/cluster/options")
    return int(params.get("max-workers") or params.get("maxworkers") or datacenter.get("max_workers") or default)


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "on", "yes")


@handles("POST", f"{BASE}/start")
def bulk_start_guests(ctx: HandlerContext) -> str:
    vmids = _vmids(ctx)
    check_guest_permissions(ctx, vmids, ["VM.PowerMgmt"])
    timeout = ctx.params.get("timeout")
    task = bulk_start(ctx.cluster, ctx.principal.authid, vmids, timeout, _max_workers(ctx, 4))
    return task.upid


@handles("POST", f"{BASE}/shutdown")
def bulk_shutdown_guests(ctx: HandlerContext) -> str:
    vmids = _vmids(ctx)
    check_guest_permissions(ctx, vmids, ["VM.PowerMgmt"])
    timeout = ctx.params.get("timeout")
    force_stop = _flag(ctx.params.get("force-stop", 1))
    task = bulk_shutdown(ctx.cluster, ctx.principal.authid, vmids, timeout, force_stop, _max_workers(ctx, 4))
    return task.upid


@handles("POST", f"{BASE}/suspend")
def bulk_suspend_guests(ctx: HandlerContext) -> str:
    vmids = _vmids(ctx)
    check_guest_permissions(ctx, vmids, ["VM.PowerMgmt"])
    to_disk = _flag(ctx.params.get("to-disk", 0))
    statestorage = ctx.params.get("statestorage")
    if to_disk:
        check_guest_permissions(ctx, vmids, ["VM.Config.Disk"])
        if statestorage:
            PermissionChecker(ctx.cluster).check(
                ctx.principal.authid, f"/storage/{statestorage}", ["Datastore.AllocateSpace"]
            )
    task = bulk_suspend(
        ctx.cluster, ctx.principal.authid, vmids, to_disk, statestorage if to_disk else None, _max_workers(ctx, 4)
    )
    return task.upid


@handles("POST", f"{BASE}/migrate")
def bulk_migrate_guests(ctx: HandlerContext) -> str:
    vmids = _vmids(ctx)
    check_guest_permissions(ctx, vmids, ["VM.Migrate"])
    online = ctx.params.get("online")
    local_disks = ctx.params.get("with-local-disks")
    task = bulk_migrate(
        ctx.cluster,
        ctx.principal.authid,
        vmids,
        str(ctx.params["target"]),
        None if online is None else _flag(online),
        None if local_disks is None else _flag(local_disks),
        _max_workers(ctx, 1),
    )
    return task.upid
