"""A VM's cloud-init: ``GET .../cloudinit`` (its values) and ``GET .../cloudinit/dump`` (the user data, network config
or metadata qemu-server would write on the VM's cloud-init drive: qemu-server src/PVE/API2/Qemu.pm
``cloudinit_generated_config_dump`` lines 6595-6640, commit e6352be6, the password masked unless the caller has
VM.Config.Cloudinit on the VM)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.model.cloudinit import meta_data, network_config, user_data

# qemu-server src/PVE/API2/Qemu.pm 853-862 (e6352be6): the options ``cloudinit_pending`` lists
CLOUDINIT_OPTIONS = ("cicustom", "cipassword", "citype", "ciupgrade", "ciuser", "nameserver", "searchdomain", "sshkeys")


@handles("GET", "/nodes/{node}/qemu/{vmid}/cloudinit")
def cloudinit_values(ctx: HandlerContext) -> list[dict[str, Any]]:
    """qemu-server Qemu.pm ``cloudinit_pending`` 1967-2011: every cloud-init option the config sets, its value as
    the drive was made with it, the password as ``**********``. The fake keeps no record of the values a drive was
    made with (qemu-server's ``[special:cloudinit]`` section), so it answers each value as current, none pending."""
    cluster = ctx.cluster
    cluster.require_node_reachable(ctx.params["node"])
    guest = cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "qemu")
    rows = []
    for option in CLOUDINIT_OPTIONS:
        value = guest.config.get(option)
        if value in (None, "", 0, "0"):  # Perl's "next if !$conf->{$opt}"
            continue
        rows.append({"key": option, "value": "**********" if option == "cipassword" else str(value)})
    return rows


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
