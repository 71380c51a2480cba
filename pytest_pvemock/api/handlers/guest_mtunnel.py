"""``POST /nodes/{node}/{qemu,lxc}/{vmid}/mtunnel``: the target side of a remote migration opens its tunnel.

qemu-server src/PVE/API2/Qemu.pm ``mtunnel`` 6638-7236 (``$check_storage_access_migrate`` 325-335) at e6352be6,
pve-container src/PVE/API2/LXC.pm ``mtunnel`` 3066-3370 at 94f55852. Not proxied: the node answering must be the
one named (or ``localhost``); each storage asked must be enabled there, allow ``Datastore.AllocateSpace`` and hold
VM images (a container's: root directories); each bridge must exist (pve-common
src/PVE/Network.pm ``read_bridge_mtu``); the cluster quorate; the VMID unused: an empty config locked ``create``
is written. The worker (``qmtunnel``/``vztunnel``) then waits 300 s for the source to connect through
``mtunnelwebsocket``; without a connection it removes the socket and the temporary config and fails.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.auth import TicketSigner
from pytest_pvemock.api.collections import config_store, store_name
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.guests import Container, Guest, QemuVM
from pytest_pvemock.model.storage_content import check_enabled
from pytest_pvemock.schema.formats.checks import split_list

ACCEPT_TIMEOUT = 300


def _bridges(ctx: HandlerContext, node: str) -> set[str]:
    section = config_store(ctx.cluster).section(store_name("/nodes/{node}/network", {"node": node}))
    if not section.seeded:
        return {"vmbr0"}  # the installer's bridge
    return {key for key, record in section.records.items() if record.get("type") in ("bridge", "OVSBridge")}


def _check_storage(ctx: HandlerContext, storage_id: str, node: str, kind: str) -> None:
    """``$check_storage_access_migrate``: enabled on the node, ``Datastore.AllocateSpace``, VM images (a
    container's: root directories, pve-container src/PVE/API2/LXC.pm 62-72)."""
    storage = check_enabled(ctx.cluster, storage_id, node)
    PermissionChecker(ctx.cluster).check(ctx.principal.authid, f"/storage/{storage_id}", ["Datastore.AllocateSpace"])
    if kind == "qemu" and "images" not in storage.content:
        raise PVEError(f"storage '{storage_id}' does not support vm images", 500)
    if kind == "lxc" and "rootdir" not in storage.content:
        raise PVEError(f"storage '{storage_id}' does not support CT rootdirs", 500)


def _mtunnel(ctx: HandlerContext, kind: str) -> dict[str, Any]:
    cluster = ctx.cluster
    node, vmid = str(ctx.params["node"]), int(ctx.params["vmid"])
    local = ctx.entry_node
    if node not in ("localhost", local):
        raise ParameterError({"node": f"node needs to be 'localhost' or local hostname '{local}'"})
    for storage_id in split_list(str(ctx.params.get("storages") or "")):
        _check_storage(ctx, storage_id, local, kind)
    for bridge in split_list(str(ctx.params.get("bridges") or "")):
        if bridge not in _bridges(ctx, local):
            raise PVEError(f"bridge '{bridge}' does not exist", 500)
    cluster.require_quorum()
    noun = "VM" if kind == "qemu" else "CT"
    existing = cluster.find_guest(vmid)
    if existing is not None:  # PVE::Cluster::check_vmid_unused
        owner = "VM" if existing.kind == "qemu" else "CT"
        taken = f"{owner} {vmid} already exists on node '{existing.node}'\n"
        raise ParameterError({"vmid": f"unable to create empty {noun} config - {taken}"})
    guest: Guest = (QemuVM if kind == "qemu" else Container)(cluster, vmid, local, {"lock": "create"})
    cluster.register_guest(guest)
    socket = f"/run/qemu-server/{vmid}.mtunnel" if kind == "qemu" else f"/run/pve/ct-{vmid}.mtunnel"

    task_type = "qmtunnel" if kind == "qemu" else "vztunnel"
    task = cluster.tasks.begin(local, task_type, vmid, ctx.principal.authid, log=["mtunnel started"])

    def no_connection() -> None:
        # a worker waiting for a client, as the console proxies do: it ends when the clock passes its timeout
        task.log.extend(["Failed to accept tunnel connection - got timeout", "Removing tunnel socket..",
                         f"Removing temporary {noun} config.."])  # fmt: skip
        if cluster.find_guest(vmid) is guest and guest.lock == "create":
            cluster.unregister_guest(vmid)
        cluster.tasks.end(task, "Exiting mtunnel")

    cluster.clock.call_at(cluster.clock.now() + ACCEPT_TIMEOUT, no_connection)
    # pve-access-control AccessControl.pm assemble_tunnel_ticket: the user's ticket for the socket
    signer = TicketSigner(cluster.access.ticket_secret, cluster.clock.now)
    ticket = signer.short_lived_ticket("PVETUNNEL", ctx.principal.authid, f"/socket/{socket}")
    return {"ticket": ticket, "upid": task.upid, "socket": socket}


@handles("POST", "/nodes/{node}/qemu/{vmid}/mtunnel")
def qemu_mtunnel(ctx: HandlerContext) -> dict[str, Any]:
    return _mtunnel(ctx, "qemu")


@handles("POST", "/nodes/{node}/lxc/{vmid}/mtunnel")
def lxc_mtunnel(ctx: HandlerContext) -> dict[str, Any]:
    return _mtunnel(ctx, "lxc")
