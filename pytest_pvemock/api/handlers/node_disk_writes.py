"""``/nodes/{node}/disks`` writes: ``initgpt``, ``wipedisk`` and the LVM, LVM-thin, directory and ZFS setups and
their removal, answered by :mod:`pytest_pvemock.model.node_disk_writes` (each a worker's UPID). ``add_storage``
defines the storage through :func:`~pytest_pvemock.api.handlers.storage_config.define_storage`, as PVE calls
``PVE::API2::Storage::Config->create``; it and ``cleanup-config`` need ``Datastore.Allocate`` on ``/storage``
besides the schema's ``Sys.Modify`` on ``/``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.storage_config import define_storage
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.model import node_disk_writes


def _node(ctx: HandlerContext) -> str:
    return ctx.cluster.require_node_reachable(str(ctx.params["node"])).name


def _may_allocate(ctx: HandlerContext) -> Callable[[], None]:
    def check() -> None:
        PermissionChecker(ctx.cluster).check(ctx.principal.authid, "/storage", ["Datastore.Allocate"])

    return check


def _define(ctx: HandlerContext) -> Callable[[dict[str, Any]], None]:
    def define(settings: dict[str, Any]) -> None:
        define_storage(ctx, settings)

    return define


@handles("POST", "/nodes/{node}/disks/initgpt")
def init_gpt(ctx: HandlerContext) -> str:
    return node_disk_writes.init_gpt(ctx.cluster, _node(ctx), ctx.params, ctx.principal.authid).upid


@handles("PUT", "/nodes/{node}/disks/wipedisk")
def wipe_disk(ctx: HandlerContext) -> str:
    return node_disk_writes.wipe_disk(ctx.cluster, _node(ctx), ctx.params, ctx.principal.authid).upid


@handles("POST", "/nodes/{node}/disks/lvm")
def create_lvm(ctx: HandlerContext) -> str:
    node, authid = _node(ctx), ctx.principal.authid
    return node_disk_writes.create_lvm(ctx.cluster, node, ctx.params, authid, _may_allocate(ctx), _define(ctx)).upid


@handles("POST", "/nodes/{node}/disks/lvmthin")
def create_lvmthin(ctx: HandlerContext) -> str:
    node, authid = _node(ctx), ctx.principal.authid
    task = node_disk_writes.create_lvmthin(ctx.cluster, node, ctx.params, authid, _may_allocate(ctx), _define(ctx))
    return task.upid


@handles("POST", "/nodes/{node}/disks/directory")
def create_directory(ctx: HandlerContext) -> str:
    node, authid = _node(ctx), ctx.principal.authid
    task = node_disk_writes.create_directory(ctx.cluster, node, ctx.params, authid, _may_allocate(ctx), _define(ctx))
    return task.upid


@handles("POST", "/nodes/{node}/disks/zfs")
def create_zpool(ctx: HandlerContext) -> str:
    node, authid = _node(ctx), ctx.principal.authid
    return node_disk_writes.create_zpool(ctx.cluster, node, ctx.params, authid, _may_allocate(ctx), _define(ctx)).upid


def _remove(ctx: HandlerContext, remove: Callable[..., Any]) -> str:
    name = str(ctx.params["name"])
    return str(remove(ctx.cluster, _node(ctx), name, ctx.params, ctx.principal.authid, _may_allocate(ctx)).upid)


@handles("DELETE", "/nodes/{node}/disks/lvm/{name}")
def remove_lvm(ctx: HandlerContext) -> str:
    return _remove(ctx, node_disk_writes.remove_lvm)


@handles("DELETE", "/nodes/{node}/disks/lvmthin/{name}")
def remove_lvmthin(ctx: HandlerContext) -> str:
    return _remove(ctx, node_disk_writes.remove_lvmthin)


@handles("DELETE", "/nodes/{node}/disks/directory/{name}")
def remove_directory(ctx: HandlerContext) -> str:
    return _remove(ctx, node_disk_writes.remove_directory)


@handles("DELETE", "/nodes/{node}/disks/zfs/{name}")
def remove_zpool(ctx: HandlerContext) -> str:
    return _remove(ctx, node_disk_writes.remove_zpool)
