"""``/nodes/{node}/lxc/{vmid}/interfaces``: ``ip --json a`` inside the container's network namespace, reshaped
(pve-container src/PVE/LXC.pm ``get_interfaces`` and src/PVE/API2/LXC.pm lines 2980-3065, commit 94f55852).

A stopped container has no namespace to enter: ``get_interfaces`` returns undef and the answer is ``null``.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.model.guest_network import guest_nics


def _entry(name: str, mac: str, addresses: list[tuple[str, str, int]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name}
    listed = []
    for family, address, prefix in addresses:
        entry[family] = f"{address}/{prefix}"  # the last address of each family, as PVE's loop leaves it
        listed.append({"ip-address-type": family, "ip-address": address, "prefix": prefix})
    entry["ip-addresses"] = listed
    entry["hardware-address"] = mac
    entry["hwaddr"] = mac
    return entry


@handles("GET", "/nodes/{node}/lxc/{vmid}/interfaces")
def container_interfaces(ctx: HandlerContext) -> list[dict[str, Any]] | None:
    """Loopback first, then one interface per ``netN`` with its address and IPv6 link-local address."""
    guest = ctx.cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "lxc")
    if not guest.running:
        return None
    rows = [_entry("lo", "00:00:00:00:00:00", [("inet", "127.0.0.1", 8), ("inet6", "::1", 128)])]
    for nic in guest_nics(ctx.cluster, guest):
        addresses = [("inet", nic.ipv4, nic.prefix)] if nic.ipv4 else []
        rows.append(_entry(nic.name, nic.mac.lower(), [*addresses, ("inet6", nic.ipv6_link_local, 64)]))
    return rows
