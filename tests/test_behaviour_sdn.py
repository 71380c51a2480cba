"""SDN writes as pve-network makes them (docs/behaviour.md, "SDN"): what an apply brings to the nodes, the PVE IPAM's
IP mappings, route map entries, and the refusals of zone creates and deletes, on the production scenario (an EVPN
zone 'core' and a simple zone 'lab' with DHCP from the PVE IPAM, applied; a second lab vnet written, not applied).
Sources: pve-network at ecf98c5d unless the row says otherwise."""

from __future__ import annotations

import pytest
from support.clients import refused, task_log, wait

pytestmark = pytest.mark.pve_cluster("production", validate=True)


def test_sdn_apply_brings_the_written_config_to_the_nodes(pve_api, pve_cluster):
    # src/PVE/API2/Network/SDN.pm reload 261-330: the running config gets the next version, each node reloads
    assert [row["vnet"] for row in pve_api.nodes("pve1").sdn.zones("lab").content.get()] == ["labnet"]
    upid = pve_api.cluster.sdn.put()
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert task_log(pve_api, upid)[:3] == [f"{node}: reloading network config" for node in ("pve1", "pve2", "pve3")]
    assert [row["vnet"] for row in pve_api.nodes("pve1").sdn.zones("lab").content.get()] == ["labnet", "labnet2"]
    assert pve_cluster.sdn.interfaces["pve2"].text.startswith("#version:2\n")


def test_sdn_ip_mapping_is_refused_twice_and_outside_the_subnets(pve_api):
    # src/PVE/Network/SDN/Ipams/PVEPlugin.pm add_ip 130-133; src/PVE/Network/SDN/Subnets.pm find_ip_subnet 115
    ips = pve_api.cluster.sdn.vnets("labnet").ips
    error = refused(ips.post, zone="lab", ip="10.10.0.102", mac="BC:24:11:2A:10:99")
    assert (error.status_code, error.content) == (500, "IP '10.10.0.102' already exist")
    error = refused(ips.post, zone="lab", ip="10.99.0.5", mac="BC:24:11:2A:10:99")
    assert error.content.startswith("can't find any subnet for ip 10.99.0.5 at ")


def test_sdn_ip_mapping_update_moves_the_macs_address(pve_api):
    # src/PVE/API2/Network/SDN/Ips.pm ipupdate: the MAC's old address goes, the new one comes with the vmid
    pve_api.cluster.sdn.vnets("labnet").ips.put(zone="lab", ip="10.10.0.120", mac="BC:24:11:2A:10:66", vmid=102)
    rows = {row["ip"]: row for row in pve_api.cluster.sdn.ipams("pve").status.get()}
    assert "10.10.0.102" not in rows and (rows["10.10.0.120"]["mac"], rows["10.10.0.120"]["vmid"]) == (
        "BC:24:11:2A:10:66",
        102,
    )


def test_sdn_vnet_with_subnets_is_not_deleted(pve_api):
    # src/PVE/Network/SDN/VnetPlugin.pm on_delete_hook 99-105
    error = refused(pve_api.cluster.sdn.vnets("corenet").delete)
    assert (error.status_code, error.content) == (
        500,
        "delete sdn vnet object failed: 400 Parameter verification failed.",
    )


def test_sdn_subnet_with_ipam_entries_is_not_deleted(pve_api):
    # src/PVE/Network/SDN/Ipams/PVEPlugin.pm del_subnet 80-110: nothing but the gateway may be left
    subnet = pve_api.cluster.sdn.vnets("corenet").subnets("core-10.20.0.0-24")
    error = refused(subnet.delete)
    assert error.content == "delete sdn subnet object failed: cannot delete subnet '10.20.0.0/24', not empty"
    pve_api.cluster.sdn.vnets("corenet").ips.delete(zone="core", ip="10.20.0.10", mac="BC:24:11:2A:10:64")
    subnet.delete()
    assert pve_api.cluster.sdn.vnets("corenet").subnets.get() == []


def test_sdn_evpn_zone_needs_an_evpn_controller(pve_api):
    # src/PVE/Network/SDN/Zones/EvpnPlugin.pm on_update_hook 349-357
    error = refused(pve_api.cluster.sdn.zones.post, zone="edge", type="evpn", controller="nope", **{"vrf-vxlan": 20000})
    assert error.content == (
        "create sdn zone object failed: controller nope don't exist at "
        "/usr/share/perl5/PVE/Network/SDN/Zones/EvpnPlugin.pm line 354."
    )


def test_sdn_route_map_entry_is_refused_twice(pve_api):
    # src/PVE/API2/Network/SDN/RouteMaps.pm create_route_map_entry; proxmox-perl-rs route_maps.rs create
    entries = pve_api.cluster.sdn("route-maps").entries
    error = refused(entries.post, **{"route-map-id": "lab-out", "order": 10, "action": "deny"})
    assert error.content == (
        "creating route map entry failed: route map entry already exists in configuration: lab-out_10"
    )
