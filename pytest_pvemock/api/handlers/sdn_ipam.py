"""The PVE IPAM's entries: ``GET /cluster/sdn/ipams/{ipam}/status`` and a vnet's IP mappings
(``/cluster/sdn/vnets/{vnet}/ips``), as pve-network answers them (commit ecf98c5d):
src/PVE/API2/Network/SDN/Ipams.pm ``ipamindex`` (290-370), src/PVE/API2/Network/SDN/Ips.pm, and the
``PVE::Network::SDN::Vnets`` / ``Subnets`` helpers they call. The database: :mod:`pytest_pvemock.model.sdn_ipam`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pytest_pvemock.api.collections import _may
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import sdn_ipam

_READ = ["SDN.Audit", "SDN.Allocate"]
_SUBNETS_PM = "/usr/share/perl5/PVE/Network/SDN/Subnets.pm"


def _running_subnets(ctx: HandlerContext, vnet: str) -> dict[str, dict[str, Any]]:
    """``Vnets::get_subnets($vnet, 1)``: the vnet's subnets of the running config, by id."""
    subnets: dict[str, dict[str, Any]] = ctx.cluster.sdn.running.get("subnets") or {}
    return {key: subnets[key] for key in sorted(subnets) if subnets[key].get("vnet") == vnet}


def _subnet_of(ctx: HandlerContext, vnet: str, ip: str) -> tuple[str, str, dict[str, Any]]:
    """``get_subnet_from_vnet_ip`` (Vnets.pm 85-96): the zone (of the written vnet) and the first running subnet,
    sorted by id, holding ``ip`` (``find_ip_subnet``, Subnets.pm 101-118: dies without a newline)."""
    vnet_cfg = ctx.cluster.configs.section("/cluster/sdn/vnets").get(vnet) or {}
    zone = str(vnet_cfg.get("zone") or "")
    for subnet_id, subnet in _running_subnets(ctx, vnet).items():
        try:
            inside = ipaddress.ip_address(ip) in ipaddress.ip_network(str(subnet.get("cidr")), strict=False)
        except ValueError:
            inside = False
        if inside:
            return zone, subnet_id, subnet
    raise PVEError(f"can't find any subnet for ip {ip} at {_SUBNETS_PM} line 115.")


def _zone(ctx: HandlerContext, zone: str) -> dict[str, Any]:
    return ctx.cluster.configs.section("/cluster/sdn/zones").get(zone) or {}


def _canonical(ip: str) -> str:
    """``NetAddr::IP->canon``: IPv6 shortened, IPv4 as written."""
    return str(ipaddress.ip_address(ip))


def _add(ctx: HandlerContext, vnet: str, ip: str, mac: str, vmid: Any = None) -> None:
    """``Vnets::add_ip`` -> ``Subnets::add_ip`` (289-343): nothing to do in a zone without IPAM."""
    zone, _subnet_id, subnet = _subnet_of(ctx, vnet, ip)
    if not sdn_ipam.is_pve_ipam(ctx.cluster, _zone(ctx, zone).get("ipam")):
        return
    entry = {"mac": mac, "vmid": int(vmid) if vmid not in (None, "") else None}
    sdn_ipam.add_ip(ctx.cluster, str(subnet.get("zone") or zone), str(subnet.get("cidr")), _canonical(ip), entry)


def _delete(ctx: HandlerContext, vnet: str, ip: str) -> None:
    zone, _subnet_id, subnet = _subnet_of(ctx, vnet, ip)
    if not sdn_ipam.is_pve_ipam(ctx.cluster, _zone(ctx, zone).get("ipam")):
        return
    sdn_ipam.del_ip(ctx.cluster, str(subnet.get("zone") or zone), str(subnet.get("cidr")), _canonical(ip))


@handles("POST", "/cluster/sdn/vnets/{vnet}/ips")
def create_ip(ctx: HandlerContext) -> None:
    """Ips.pm ``ipcreate``: the MAC's address in the subnet of the vnet that holds it."""
    _add(ctx, str(ctx.params["vnet"]), str(ctx.params["ip"]), str(ctx.params.get("mac") or ""))


@handles("DELETE", "/cluster/sdn/vnets/{vnet}/ips")
def delete_ip(ctx: HandlerContext) -> None:
    """Ips.pm ``ipdelete``: ``del_ip`` in an eval, its error died again with a newline."""
    _delete(ctx, str(ctx.params["vnet"]), str(ctx.params["ip"]))


@handles("PUT", "/cluster/sdn/vnets/{vnet}/ips")
def update_ip(ctx: HandlerContext) -> None:
    """Ips.pm ``ipupdate``: the MAC's old address of that IP version goes, the new one is added (with the guest's
    vmid); when the new one is refused, the old one is put back."""
    vnet, ip, mac = str(ctx.params["vnet"]), str(ctx.params["ip"]), str(ctx.params.get("mac") or "")
    vmid = ctx.params.get("vmid")
    vnet_cfg = ctx.cluster.configs.section("/cluster/sdn/vnets").get(vnet)
    old4 = old6 = None
    if vnet_cfg is not None:  # Vnets::get_ips_from_mac (193-205): only in a zone with IPAM and DHCP
        zone = str(vnet_cfg.get("zone") or "")
        zone_cfg = _zone(ctx, zone)
        if zone_cfg.get("ipam") and zone_cfg.get("dhcp"):
            old4, old6 = sdn_ipam.ips_from_mac(ctx.cluster, zone, mac)
    old = old4 if ipaddress.ip_address(ip).version == 4 else old6
    if old is None:  # del_ip of no address: find_ip_subnet finds no subnet for it
        raise PVEError(f"can't find any subnet for ip  at {_SUBNETS_PM} line 115.")
    old_entry = _entry_of(ctx, vnet, old)
    _delete(ctx, vnet, old)
    try:
        _add(ctx, vnet, ip, mac, vmid)
    except PVEError:
        _add(ctx, vnet, old, mac, vmid if vmid is not None else old_entry.get("vmid"))
        raise


def _entry_of(ctx: HandlerContext, vnet: str, ip: str) -> dict[str, Any]:
    zone, _subnet_id, subnet = _subnet_of(ctx, vnet, ip)
    subnets = sdn_ipam.ipam_db(ctx.cluster)["zones"].get(str(subnet.get("zone") or zone), {}).get("subnets", {})
    entry: dict[str, Any] = subnets.get(str(subnet.get("cidr")), {}).get("ips", {}).get(_canonical(ip), {})
    return entry


@handles("GET", "/cluster/sdn/ipams/{ipam}/status")
def ipam_status(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Ipams.pm ``ipamindex``: only the ``pve`` IPAM; the entries of the zones whose running config has IPAM
    ``pve`` and DHCP, subnet by subnet, each with its zone, subnet, IP and vnet (the vnet whose running subnets
    hold the subnet's network address), those the caller may see on ``/sdn/zones/<zone>/<vnet>``. PVE walks
    hashes (no order); the fake sorts."""
    if str(ctx.params["ipam"]) != "pve":
        where = "/usr/share/perl5/PVE/API2/Network/SDN/Ipams.pm line 319."
        raise PVEError(f"Currently only PVE IPAM is supported! at {where}")
    running = ctx.cluster.sdn.running
    zones_cfg: dict[str, dict[str, Any]] = running.get("zones") or {}
    vnets_cfg: dict[str, dict[str, Any]] = running.get("vnets") or {}
    rows: list[dict[str, Any]] = []
    db = sdn_ipam.ipam_db(ctx.cluster)
    for zone_id in sorted(db["zones"]):
        zone = zones_cfg.get(zone_id)
        if not zone or zone.get("ipam") != "pve" or not zone.get("dhcp"):
            continue
        vnets = sorted(vnet for vnet, record in vnets_cfg.items() if record.get("zone") == zone_id)
        for cidr in sorted(db["zones"][zone_id]["subnets"]):
            network = str(ipaddress.ip_network(cidr, strict=False).network_address)
            vnet = next((name for name in vnets if _holds(ctx, name, network)), None)
            if vnet is None or not _may(ctx, f"/sdn/zones/{zone_id}/{vnet}", _READ):
                continue
            ips = db["zones"][zone_id]["subnets"][cidr]["ips"]
            for ip in sorted(ips, key=lambda text: ipaddress.ip_address(text)):
                rows.append({**ips[ip], "zone": zone_id, "subnet": cidr, "ip": ip, "vnet": vnet})
    return rows


def _holds(ctx: HandlerContext, vnet: str, ip: str) -> bool:
    try:
        _subnet_of(ctx, vnet, ip)
    except PVEError:
        return False
    return True
