"""What BGP EVPN carries for an applied EVPN zone, derived from the guests on its vnets.

A running guest's NIC on an EVPN vnet is a MAC (and, once it spoke, an IP) its node's VTEP originates as an EVPN
type-2 route; every node of the zone learns it (``show bgp l2vpn evpn route vni <tag> type 2 json``, read by
proxmox-perl-rs pve-rs/src/bindings/sdn/fabrics.rs ``l2vpn_routes`` 872-895, ``status::get_l2vpn_routes``: the best
path's MAC, IP and first nexthop, only routes with an IP; commit 1fa643dc). The zone's VRF on a node
(``show ip route vrf vrf_<zone> json``, ``l3vpn_routes`` 852-864) holds the vnets' subnets on their bridges and the
guests of other nodes as /32 (/128) BGP routes over their node's VTEP; the node's own guests are reached through the
vnet bridge and are not listed (Nodes/Zone.pm ``ip-vrf`` returns description).

The guest's IP: the zone's IPAM entry for its MAC, else its static address (``ipconfigN`` of a VM, ``ip=`` of a
container); a guest with neither has not been learned with an IP. The VTEP is the node's cluster address.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model.guest_config import property_option
from pytest_pvemock.model.sdn_ipam import mac_addresses

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

_NET = re.compile(r"^net(\d+)$")
_MAC = re.compile(r"(?:^|,)(?:virtio|e1000e?|rtl8139|vmxnet3|hwaddr)=([0-9A-Fa-f:]{17})")


@dataclass(frozen=True)
class VnetHost:
    """A guest NIC on a vnet as EVPN announces it."""

    vmid: int
    node: str
    mac: str
    ip: str | None
    vtep: str


def vnet_hosts(cluster: FakeCluster, vnet: str) -> list[VnetHost]:
    """The running guests' NICs on ``vnet`` (the running config's), guest by guest."""
    vnets: dict[str, dict[str, Any]] = cluster.sdn.running.get("vnets") or {}
    zone = str((vnets.get(vnet) or {}).get("zone") or "")
    known = mac_addresses(cluster, zone)
    hosts = []
    for guest in sorted(cluster.guests, key=lambda guest: guest.vmid):
        if not guest.running:
            continue
        node = cluster.find_node(guest.node)
        for key in sorted(guest.config, key=lambda name: (len(str(name)), str(name))):
            match = _NET.match(str(key))
            text = str(guest.config[key])
            if match is None or property_option(text, "bridge") != vnet or property_option(text, "link_down") == "1":
                continue
            found = _MAC.search(text)
            if found is None:
                continue
            mac = found.group(1).upper()
            static = (
                property_option(text, "ip")
                if guest.kind == "lxc"
                else property_option(str(guest.config.get(f"ipconfig{match.group(1)}", "")), "ip")
            )
            ip = known.get(mac.lower())
            if ip is None and static and "/" in static:
                ip = static.split("/", 1)[0]
            hosts.append(VnetHost(guest.vmid, guest.node, mac, ip, str(getattr(node, "ip", ""))))
    return hosts


def mac_vrf(cluster: FakeCluster, vnet: str) -> list[dict[str, Any]]:
    """The vnet's MAC VRF as a node of the zone holds it: one row per guest NIC with an IP."""
    return [{"ip": host.ip, "mac": host.mac.lower(), "nexthop": host.vtep} for host in vnet_hosts(cluster, vnet)
            if host.ip]  # fmt: skip


def ip_vrf(cluster: FakeCluster, zone: str, node: str) -> list[dict[str, Any]]:
    """The zone's VRF on ``node``: each subnet of its vnets connected on the vnet bridge, then the other nodes'
    guests as BGP host routes over their VTEP (FRR's JSON is keyed by prefix: sorted by network)."""
    running = cluster.sdn.running
    vnets = sorted(vnet for vnet, record in (running.get("vnets") or {}).items() if record.get("zone") == zone)
    rows: list[tuple[Any, dict[str, Any]]] = []
    for subnet in (running.get("subnets") or {}).values():
        if subnet.get("vnet") in vnets and subnet.get("cidr"):
            network = ipaddress.ip_network(str(subnet["cidr"]), strict=False)
            route = {"ip": str(network), "metric": 0, "nexthops": [str(subnet["vnet"])], "protocol": "connected"}
            rows.append((network, route))
    for vnet in vnets:
        for host in vnet_hosts(cluster, vnet):
            if host.node == node or not host.ip:
                continue
            network = ipaddress.ip_network(host.ip)
            rows.append((network, {"ip": str(network), "metric": 0, "nexthops": [host.vtep], "protocol": "bgp"}))
    rows.sort(key=lambda item: (item[0].version, int(item[0].network_address), item[0].prefixlen))
    return [route for _network, route in rows]
