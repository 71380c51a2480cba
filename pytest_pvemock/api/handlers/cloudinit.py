"""``GET /nodes/{node}/qemu/{vmid}/cloudinit/dump``: the user data, network config or metadata qemu-server would
write on the VM's cloud-init drive (qemu-server src/PVE/API2/Qemu.pm ``cloudinit_generated_config_dump`` lines
6595-6640, commit e6352be6: the password masked unless the caller has VM.Config.Cloudinit on the VM)."""

from __future__ import annotations

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.model.cloudinit import meta_data, network_config, user_data


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
