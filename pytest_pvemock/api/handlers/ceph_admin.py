"""The Ceph writes: ``pveceph init``, the daemons' create/destroy, start/stop/restart, OSDs, pools and the OSD
map flags, answered by :mod:`pytest_pvemock.model.ceph_admin` (each a worker's UPID, or ``null`` where PVE does it
at once: init, OSD in/out/scrub, one flag)."""

from __future__ import annotations

from collections.abc import Callable

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.model import ceph_admin, ceph_fs, ceph_osds, ceph_pools


def _node(ctx: HandlerContext) -> str:
    return ctx.cluster.require_node_reachable(str(ctx.params["node"])).name


def _may(ctx: HandlerContext, path: str, privilege: str) -> Callable[[], None]:
    def check() -> None:
        PermissionChecker(ctx.cluster).check(ctx.principal.authid, path, [privilege])

    return check


@handles("POST", "/nodes/{node}/ceph/init")
def init(ctx: HandlerContext) -> None:
    ceph_admin.init(ctx.cluster, _node(ctx), ctx.params)


def _service_action(ctx: HandlerContext, action: str) -> str:
    service = ctx.params.get("service")
    task = ceph_admin.service_command(ctx.cluster, _node(ctx), action, service, ctx.principal.authid)
    return task.upid


@handles("POST", "/nodes/{node}/ceph/start")
def start(ctx: HandlerContext) -> str:
    return _service_action(ctx, "start")


@handles("POST", "/nodes/{node}/ceph/stop")
def stop(ctx: HandlerContext) -> str:
    return _service_action(ctx, "stop")


@handles("POST", "/nodes/{node}/ceph/restart")
def restart(ctx: HandlerContext) -> str:
    return _service_action(ctx, "restart")


# ---- daemons ------------------------------------------------------------------------------------------------------


@handles("POST", "/nodes/{node}/ceph/mon/{monid}")
def create_monitor(ctx: HandlerContext) -> str:
    return ceph_admin.create_monitor(ctx.cluster, _node(ctx), ctx.params.get("monid"), ctx.params.get("mon-address"),
                                     ctx.principal.authid).upid  # fmt: skip


@handles("DELETE", "/nodes/{node}/ceph/mon/{monid}")
def destroy_monitor(ctx: HandlerContext) -> str:
    return ceph_admin.destroy_monitor(ctx.cluster, _node(ctx), str(ctx.params["monid"]), ctx.principal.authid).upid


@handles("POST", "/nodes/{node}/ceph/mgr/{id}")
def create_manager(ctx: HandlerContext) -> str:
    return ceph_admin.create_manager(ctx.cluster, _node(ctx), ctx.params.get("id"), ctx.principal.authid).upid


@handles("DELETE", "/nodes/{node}/ceph/mgr/{id}")
def destroy_manager(ctx: HandlerContext) -> str:
    return ceph_admin.destroy_manager(ctx.cluster, _node(ctx), str(ctx.params["id"]), ctx.principal.authid).upid


@handles("POST", "/nodes/{node}/ceph/mds/{name}")
def create_metadata_server(ctx: HandlerContext) -> str:
    node = _node(ctx)
    return ceph_admin.create_metadata_server(ctx.cluster, node, ctx.params.get("name"), ctx.principal.authid).upid


@handles("DELETE", "/nodes/{node}/ceph/mds/{name}")
def destroy_metadata_server(ctx: HandlerContext) -> str:
    node = _node(ctx)
    return ceph_admin.destroy_metadata_server(ctx.cluster, node, str(ctx.params["name"]), ctx.principal.authid).upid


# ---- OSDs ---------------------------------------------------------------------------------------------------------


@handles("POST", "/nodes/{node}/ceph/osd")
def create_osd(ctx: HandlerContext) -> str:
    return ceph_osds.create_osd(ctx.cluster, _node(ctx), ctx.params, ctx.principal.authid).upid


@handles("DELETE", "/nodes/{node}/ceph/osd/{osdid}")
def destroy_osd(ctx: HandlerContext) -> str:
    cleanup = bool(ctx.params.get("cleanup"))
    return ceph_osds.destroy_osd(ctx.cluster, _node(ctx), int(ctx.params["osdid"]), cleanup, ctx.principal.authid).upid


@handles("POST", "/nodes/{node}/ceph/osd/{osdid}/in")
def osd_in(ctx: HandlerContext) -> None:
    ceph_osds.mark_osd(ctx.cluster, _node(ctx), int(ctx.params["osdid"]), True)


@handles("POST", "/nodes/{node}/ceph/osd/{osdid}/out")
def osd_out(ctx: HandlerContext) -> None:
    ceph_osds.mark_osd(ctx.cluster, _node(ctx), int(ctx.params["osdid"]), False)


@handles("POST", "/nodes/{node}/ceph/osd/{osdid}/scrub")
def osd_scrub(ctx: HandlerContext) -> None:
    ceph_osds.scrub_osd(ctx.cluster, _node(ctx), int(ctx.params["osdid"]))


# ---- pools --------------------------------------------------------------------------------------------------------


@handles("POST", "/nodes/{node}/ceph/pool")
def create_pool(ctx: HandlerContext) -> str:
    may = _may(ctx, "/storage", "Datastore.Allocate")
    return ceph_pools.create_pool(ctx.cluster, _node(ctx), ctx.params, ctx.principal.authid, may).upid


@handles("POST", "/nodes/{node}/ceph/pools")  # PVE 7: the old name of the same method
def create_pool_pve7(ctx: HandlerContext) -> str:
    return str(create_pool(ctx))


@handles("PUT", "/nodes/{node}/ceph/pool/{name}")
def set_pool(ctx: HandlerContext) -> str:
    name = str(ctx.params["name"])
    return ceph_pools.set_pool(ctx.cluster, _node(ctx), name, ctx.params, ctx.principal.authid).upid


@handles("PUT", "/nodes/{node}/ceph/pools/{name}")  # PVE 7
def set_pool_pve7(ctx: HandlerContext) -> str:
    return str(set_pool(ctx))


@handles("DELETE", "/nodes/{node}/ceph/pool/{name}")
def destroy_pool(ctx: HandlerContext) -> str:
    may = _may(ctx, "/storage", "Datastore.Allocate")
    name = str(ctx.params["name"])
    return ceph_pools.destroy_pool(ctx.cluster, _node(ctx), name, ctx.params, ctx.principal.authid, may).upid


@handles("DELETE", "/nodes/{node}/ceph/pools/{name}")  # PVE 7
def destroy_pool_pve7(ctx: HandlerContext) -> str:
    return str(destroy_pool(ctx))


@handles("POST", "/nodes/{node}/ceph/fs/{name}")
def create_filesystem(ctx: HandlerContext) -> str:
    return ceph_fs.create_filesystem(ctx.cluster, _node(ctx), ctx.params, ctx.principal.authid).upid


# ---- flags --------------------------------------------------------------------------------------------------------


@handles("PUT", "/cluster/ceph/flags")
def set_flags(ctx: HandlerContext) -> str:
    return ceph_admin.set_flags(ctx.cluster, ctx.params, ctx.principal.authid).upid


@handles("PUT", "/cluster/ceph/flags/{flag}")
def set_flag(ctx: HandlerContext) -> None:
    ceph_admin.set_flag(ctx.cluster, str(ctx.params["flag"]), bool(ctx.params["value"]))
