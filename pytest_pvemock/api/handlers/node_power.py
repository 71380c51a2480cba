"""A node's power: ``POST /nodes/{node}/status`` (reboot, shutdown) and its guests' ``startall``, ``stopall``,
``suspendall`` and ``migrateall``.

pve-manager ``PVE/API2/Nodes.pm`` at 14a22df3: ``node_cmd`` answers at once and reboots or powers off the node two
seconds later (``(sleep 2;/sbin/reboot)&``); ``startall``/``stopall`` check VM.PowerMgmt on ``/``, or on each VMID
``vms`` names, before their worker (``model/start_stop_all.py``); ``suspendall`` (2469-2588) VM.PowerMgmt and
VM.Config.Disk on ``/``, else VM.PowerMgmt on each VMID; ``migrateall`` (2657-2793) VM.Migrate likewise, then the
target (not this node, a cluster node), quorum and the number of workers.
"""

from __future__ import annotations

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import ParameterError, PermissionDenied, PVEError
from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.model.guests import Guest
from pytest_pvemock.model.start_stop_all import migrate_all, start_all, stop_all, suspend_all, vmstate_storage
from pytest_pvemock.schema.formats.checks import split_list

#: ``node_cmd``'s ``system("(sleep 2;/sbin/reboot)&")``: the node goes down after the answer.
POWER_DELAY = 2


@handles("POST", "/nodes/{node}/status")
def node_command(ctx: HandlerContext) -> None:
    """``node_cmd``: ``reboot`` or ``shutdown`` two seconds after the answer (a clean one: HA's shutdown policy
    applies, guests are stopped); a shut down node stays off until it is powered on (``pvemock ctl``/Python)."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    action = node.reboot if ctx.params["command"] == "reboot" else node.shutdown
    clock = ctx.cluster.clock
    if clock.instant:
        action()
    else:
        clock.call_at(clock.now() + POWER_DELAY, action)
    return None


@handles("POST", "/nodes/{node}/startall")
def start_all_guests(ctx: HandlerContext) -> str:
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    vmids = _checked_vmids(ctx)
    return start_all(ctx.cluster, node, ctx.principal.authid, bool(ctx.params.get("force")), vmids).upid


@handles("POST", "/nodes/{node}/stopall")
def stop_all_guests(ctx: HandlerContext) -> str:
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    vmids = _checked_vmids(ctx)
    force_stop = bool(ctx.params.get("force-stop", 1))
    return stop_all(ctx.cluster, node, ctx.principal.authid, vmids, ctx.params.get("timeout"), force_stop).upid


@handles("POST", "/nodes/{node}/suspendall")
def suspend_all_guests(ctx: HandlerContext) -> str:
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    vmids = _checked_vmids(ctx, ("VM.PowerMgmt", "VM.Config.Disk"))
    checker, authid = PermissionChecker(ctx.cluster), ctx.principal.authid

    def may_suspend(guest: Guest) -> None:  # what vm_suspend checks of the caller before its worker
        checker.check(authid, f"/vms/{guest.vmid}", ["VM.Config.Disk"])
        checker.check(authid, f"/storage/{vmstate_storage(ctx.cluster, guest)}", ["Datastore.AllocateSpace"])

    return suspend_all(ctx.cluster, node, authid, vmids, may_suspend).upid


@handles("POST", "/nodes/{node}/migrateall")
def migrate_all_guests(ctx: HandlerContext) -> str:
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"]).name
    vmids = _checked_vmids(ctx, ("VM.Migrate",))
    target = str(ctx.params["target"])
    if target == node:
        raise ParameterError({"target": "target is local node."})
    cluster.require_quorum()
    if cluster.find_node(target) is None:  # PVE::Cluster::check_node_exists
        raise PVEError(f"no such cluster node '{target}'")
    datacenter = config_store_of(cluster).option_set("/cluster/options")
    workers = ctx.params.get("max-workers") or ctx.params.get("maxworkers") or datacenter.get("max_workers")
    if not workers:
        raise PVEError("either 'max-workers' parameter or max_workers in datacenter.cfg must be set!")
    local_disks = ctx.params.get("with-local-disks")
    with_local_disks = None if local_disks is None else bool(local_disks)
    return migrate_all(cluster, node, ctx.principal.authid, target, vmids, with_local_disks).upid


def _checked_vmids(ctx: HandlerContext, privileges: tuple[str, ...] = ("VM.PowerMgmt",)) -> list[int] | None:
    """``vms`` as VMIDs; the privileges on ``/``, or the first of them on each VMID (Nodes.pm 2174-2183,
    2372-2381, 2528-2535, 2717-2724)."""
    vmids = [int(vmid) for vmid in split_list(str(ctx.params.get("vms") or ""))] or None
    checker, authid = PermissionChecker(ctx.cluster), ctx.principal.authid
    if not checker.check(authid, "/", list(privileges), noerr=True):
        if vmids is None:
            raise PermissionDenied(f"Permission check failed (/, {' && '.join(privileges)})")
        for vmid in vmids:
            checker.check(authid, f"/vms/{vmid}", [privileges[0]])
    return vmids
