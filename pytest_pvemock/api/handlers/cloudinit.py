"""``GET /nodes/{node}/qemu/{vmid}/cloudinit``: the pending cloud-init changes; ``PUT``: regenerate the drive.

``GET /nodes/{node}/qemu/{vmid}/cloudinit/dump``: the user data, network config or metadata qemu-server would
write on the VM's cloud-init drive (qemu-server src/PVE/API2/Qemu.pm ``cloudinit_generated_config_dump`` lines
6595-6640, commit e6352be6: the password masked unless the caller has VM.Config.Cloudinit on the VM)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.model.cloudinit import meta_data, network_config, user_data
from pytest_pvemock.model.cloudinit_pending import has_cloudinit_drive, pending_rows, regenerate_drive


@handles("GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump")
def dump_cloudinit(ctx: HandlerContext) -> str:
    """``user``, ``network`` or ``meta``: the file as text, PVE's die (no MAC, no prefix) as a 500."""
    cluster = ctx.cluster
    cluster.require_node_reachable(ctx.params["node"])
    guest = cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "qemu")
    kind = str(ctx.params["type"])
    if kind == "user":
        allowed = "VM.Config.Cloudinit" in privileges_of(cluster, ctx.principal.authid, f"/vms/{guest.vmid}")
        return user_data(guest, mask_password=not allowed)
    if kind == "network":
        return network_config(cluster, guest)
    return meta_data(cluster, guest)


@handles("GET", "/nodes/{node}/qemu/{vmid}/cloudinit")
def cloudinit_pending(ctx: HandlerContext) -> list[dict[str, Any]]:
    """What the cloud-init drive holds and what changed since (qemu-server src/PVE/API2/Qemu.pm ``cloudinit_pending``,
    lines 1970-2011 at e6352be6)."""
    cluster = ctx.cluster
    cluster.require_node_reachable(ctx.params["node"])
    guest = cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "qemu")
    return pending_rows(guest.config, guest.cloudinit_section)


@handles("PUT", "/nodes/{node}/qemu/{vmid}/cloudinit")
def cloudinit_update(ctx: HandlerContext) -> None:
    """Regenerate the drive (``cloudinit_update``, lines 2032-2048: under the config lock, refused while locked;
    ``vmconfig_update_cloudinit_drive`` does nothing for a VM without a cloud-init drive)."""
    cluster = ctx.cluster
    cluster.require_node_reachable(ctx.params["node"])
    guest = cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "qemu")
    guest.check_lock()
    if has_cloudinit_drive(guest.config) and regenerate_drive(guest.cloudinit_section):
        cluster.revision.touch()
    return None
