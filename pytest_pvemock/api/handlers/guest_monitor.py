"""A VM's QEMU monitor, keys sent to it, its dbus-vmstate helper, and the node's QEMU migration capabilities.

qemu-server (commit e6352be6): ``POST .../monitor`` src/PVE/API2/Qemu.pm 5869-5934 (HMP permissions from
src/PVE/API2/Qemu/HMPPerms.pm since qemu-server 9.0; PVE 8 asked ``Sys.Modify`` on ``/`` for anything but ``info``
and ``help``), ``PUT .../sendkey`` 4214-4256 with ``vm_sendkey`` src/PVE/QemuServer.pm 6401-6415,
``POST .../dbus-vmstate`` 7297-7340, ``GET /nodes/{node}/capabilities/qemu/migration``
src/PVE/API2/NodeCapabilities/Qemu/Migration.pm.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.guests import QemuVM
from pytest_pvemock.model.qemu_monitor import hmp_answer, hmp_command_perms

ROOT = "root@pam"


def _vm(ctx: HandlerContext) -> QemuVM:
    guest = ctx.cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "qemu")
    assert isinstance(guest, QemuVM)
    return guest


def _check_hmp_permission(ctx: HandlerContext, command: str) -> None:
    authid = ctx.principal.authid
    checker = PermissionChecker(ctx.cluster)
    if not ctx.cluster.version_at_least(9):  # qemu-server 8: $is_ro
        if not re.match(r"^\s*info(\s+|$)", command) and not re.match(r"^\s*help\s*$", command):
            checker.check(authid, "/", ["Sys.Modify"])
        return
    match = re.match(r"^\s*(\S+)", command)
    if match is None:
        raise PVEError(f"unexpected command '{command}'", 500)
    name = match[1]
    required = hmp_command_perms().get(name)
    if required is None:
        if authid != ROOT:
            raise PVEError(
                f"command '{name}' non-existent or not assigned a required permission yet, limiting to root user", 500
            )
        required = "root"
    if required == "root" and authid != ROOT:
        raise PVEError(f"root-only command '{name}'", 500)
    if required == "Sys.Modify":
        checker.check(authid, "/", ["Sys.Modify"])


@handles("POST", "/nodes/{node}/qemu/{vmid}/monitor")
def monitor(ctx: HandlerContext) -> str:
    """An HMP command: PVE's permission rules, the VM's config, then the monitor's text (``ERROR: ...`` in the
    answer when QEMU cannot be asked, as PVE's ``eval`` keeps it)."""
    command = str(ctx.params.get("command") or "")
    if not command:
        raise PVEError("no command specified", 500)
    _check_hmp_permission(ctx, command)
    vm = _vm(ctx)
    if not vm.running:
        return f"ERROR: VM {vm.vmid} not running\n"  # Monitor.pm qmp_cmd: '$peer->{name} not running'
    return hmp_answer(ctx.cluster, vm, command.strip())


@handles("PUT", "/nodes/{node}/qemu/{vmid}/sendkey")
def sendkey(ctx: HandlerContext) -> None:
    """``vm_sendkey``: HMP ``sendkey <key>``, whose any output is the error."""
    if ctx.params.get("skiplock") and ctx.principal.authid != ROOT:
        raise ParameterError({"skiplock": "Only root may use this option."})
    vm = _vm(ctx)
    if not vm.running:
        raise PVEError(f"VM {vm.vmid} not running", 500)
    answer = hmp_answer(ctx.cluster, vm, f"sendkey {ctx.params['key']}")
    if answer:
        raise PVEError(answer, 500)
    return None


@handles("POST", "/nodes/{node}/qemu/{vmid}/dbus-vmstate")
def dbus_vmstate(ctx: HandlerContext) -> None:
    """Start or stop the VM's ``pve-dbus-vmstate@<vmid>`` helper (it carries conntrack state in a migration)."""
    node, vmid = str(ctx.params["node"]), int(ctx.params["vmid"])
    guest = ctx.cluster.find_guest(vmid)
    if guest is None or guest.kind != "qemu" or guest.node != node or not guest.running:
        raise ParameterError({"node": f"VM {vmid} not running locally on node '{node}'"})
    helpers = ctx.cluster.dbus_vmstate_helpers
    if ctx.params["action"] == "start":
        helpers.add(vmid)
    else:
        helpers.discard(vmid)
    return None


@handles("GET", "/nodes/{node}/capabilities/qemu/migration")
def qemu_migration_capabilities(ctx: HandlerContext) -> dict[str, Any]:
    """Whether the node has qemu-server's dbus-vmstate helper: it ships with every release that has this call."""
    ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    return {"has-dbus-vmstate": True}
