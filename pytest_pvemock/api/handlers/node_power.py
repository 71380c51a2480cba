"""A node's power: ``POST /nodes/{node}/status`` (reboot, shutdown) and its guests' ``startall`` and ``stopall``.

pve-manager ``PVE/API2/Nodes.pm`` at 14a22df3: ``node_cmd`` answers at once and reboots or powers off the node two
seconds later (``(sleep 2;/sbin/reboot)&``); ``startall``/``stopall`` check VM.PowerMgmt on ``/``, or on each VMID
``vms`` names, before their worker (``model/start_stop_all.py``).
"""

from __future__ import annotations

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import PermissionDenied
from pytest_pvemock.model.start_stop_all import start_all, stop_all
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


def _checked_vmids(ctx: HandlerContext) -> list[int] | None:
    """``vms`` as VMIDs; VM.PowerMgmt on ``/``, or on each of them (Nodes.pm 2174-2183, 2372-2381)."""
    vmids = [int(vmid) for vmid in split_list(str(ctx.params.get("vms") or ""))] or None
    checker, authid = PermissionChecker(ctx.cluster), ctx.principal.authid
    if not checker.check(authid, "/", ["VM.PowerMgmt"], noerr=True):
        if vmids is None:
            raise PermissionDenied("Permission check failed (/, VM.PowerMgmt)")
        for vmid in vmids:
            checker.check(authid, f"/vms/{vmid}", ["VM.PowerMgmt"])
    return vmids
