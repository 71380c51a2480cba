"""The PVE IPAM: ``/etc/pve/priv/ipam.db``, what the built-in ``pve`` IPAM plugin keeps per zone and subnet
(pve-network src/PVE/Network/SDN/Ipams/PVEPlugin.pm, commit c64dd31b).

A subnet enters the database when it is written into a zone whose ``ipam`` is a PVE IPAM, with its gateway
(``SubnetPlugin::on_update_hook``, src/PVE/Network/SDN/SubnetPlugin.pm 195-262: not for an IPv4 /32
point-to-point subnet); a zone's IPAM cannot change while it has subnets (API2/Network/SDN/Zones.pm 503-513), so the
subnets and gateways are read from the written config. What clients add (``/cluster/sdn/vnets/{vnet}/ips``: a MAC's
IP, a guest's) is kept in :attr:`SdnState.ipam_ips <pytest_pvemock.model.sdn.SdnState>`.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.sdn import VNETS, ZONES, subnets_section

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

IPAMS = "/cluster/sdn/ipams"


def is_pve_ipam(cluster: FakeCluster, ipam: Any) -> bool:
    """Whether ``ipam`` names a PVE IPAM (``pve`` is always there: Ipams.pm ``config`` adds it, 101-106)."""
    if not ipam:
        return False
    record = cluster.configs.section(IPAMS).get(str(ipam))
    return str(ipam) == "pve" or (record is not None and record.get("type") == "pve")


def _written_subnets(cluster: FakeCluster) -> list[tuple[str, str, dict[str, Any]]]:
    """(zone, CIDR, subnet) of every written subnet, by vnet."""
    store = cluster.configs
    found = []
    for vnet, record in store.section(VNETS).records.items():
        for subnet in store.section(subnets_section(vnet)).records.values():
            found.append((str(record.get("zone") or subnet.get("zone") or ""), str(subnet.get("cidr")), subnet))
    return found


def ipam_db(cluster: FakeCluster) -> dict[str, Any]:
    """``read_db``: ``{"zones": {zone: {"subnets": {cidr: {"ips": {ip: entry}}}}}}``."""
    zones_cfg = cluster.configs.section(ZONES).records
    zones: dict[str, Any] = {}
    for zone, cidr, subnet in _written_subnets(cluster):
        if not is_pve_ipam(cluster, (zones_cfg.get(zone) or {}).get("ipam")):
            continue
        ips: dict[str, dict[str, Any]] = zones.setdefault(zone, {"subnets": {}})["subnets"].setdefault(
            cidr, {"ips": {}}
        )["ips"]
        network = ipaddress.ip_network(cidr, strict=False)
        gateway = subnet.get("gateway")
        if gateway and not (network.version == 4 and network.prefixlen == 32):
            ips[str(ipaddress.ip_address(str(gateway)))] = {"gateway": 1}
    for zone, subnets in cluster.sdn.ipam_ips.items():
        for cidr, entries in subnets.items():
            if zone in zones and cidr in zones[zone]["subnets"]:
                zones[zone]["subnets"][cidr]["ips"].update(copy.deepcopy(entries))
    return {"zones": zones}


def add_ip(cluster: FakeCluster, zone: str, cidr: str, ip: str, entry: dict[str, Any]) -> None:
    """PVEPlugin.pm ``add_ip`` (113-151) of a client's address: the zone and the subnet must be in the database,
    the address not yet."""
    db = ipam_db(cluster)
    dbzone = db["zones"].get(zone)
    if dbzone is None:
        raise PVEError(f"zone '{zone}' doesn't exist in IPAM DB")
    dbsubnet = dbzone["subnets"].get(cidr)
    if dbsubnet is None:
        raise PVEError(f"subnet '{cidr}' doesn't exist in IPAM DB")
    if ip in dbsubnet["ips"]:
        raise PVEError(f"IP '{ip}' already exist")
    cluster.sdn.ipam_ips.setdefault(zone, {}).setdefault(cidr, {})[ip] = {
        key: value for key, value in entry.items() if value not in (None, "")
    }
    cluster.revision.touch()


def del_ip(cluster: FakeCluster, zone: str, cidr: str, ip: str) -> None:
    """PVEPlugin.pm ``del_ip`` (251-274): its first two messages die without a newline (Perl names the line)."""
    where = "/usr/share/perl5/PVE/Network/SDN/Ipams/PVEPlugin.pm"
    db = ipam_db(cluster)
    if zone not in db["zones"]:
        raise PVEError(f"zone {zone} don't exist in ipam db at {where} line 263.")
    if cidr not in db["zones"][zone]["subnets"]:
        raise PVEError(f"subnet {cidr} don't exist in ipam db at {where} line 265.")
    if ip not in db["zones"][zone]["subnets"][cidr]["ips"]:
        raise PVEError(f"IP '{ip}' does not exist in IPAM DB")
    stored = cluster.sdn.ipam_ips.get(zone, {}).get(cidr, {})
    stored.pop(ip, None)  # a gateway stays: it belongs to the subnet's config
    cluster.revision.touch()


def ips_from_mac(cluster: FakeCluster, zone: str, mac: str) -> tuple[str | None, str | None]:
    """PVEPlugin.pm ``get_ips_from_mac`` (276-308): the zone's first IPv4 and IPv6 address of ``mac``."""
    db = ipam_db(cluster)
    if zone not in db["zones"]:
        where = "/usr/share/perl5/PVE/Network/SDN/Ipams/PVEPlugin.pm"
        raise PVEError(f"zone {zone} don't exist in ipam db at {where} line 285.")
    ip4 = ip6 = None
    for entries in db["zones"][zone]["subnets"].values():
        for ip, entry in entries["ips"].items():
            if str(entry.get("mac") or "").lower() == mac.lower():
                if ipaddress.ip_address(ip).version == 4:
                    ip4 = ip4 or ip
                else:
                    ip6 = ip6 or ip
    return ip4, ip6


def mac_addresses(cluster: FakeCluster, zone: str) -> dict[str, str]:
    """The zone's IPAM addresses by MAC (lower case): what a guest with that MAC was given."""
    found: dict[str, str] = {}
    for entries in ipam_db(cluster)["zones"].get(zone, {}).get("subnets", {}).values():
        for ip, entry in sorted(entries["ips"].items()):
            if entry.get("mac"):
                found.setdefault(str(entry["mac"]).lower(), ip)
    return found
