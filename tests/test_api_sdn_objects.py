"""The SDN objects of the production scenario as a client reads them: an applied EVPN zone (its bridges, MAC VRF and
IP VRF derived from the guests on it), the PVE IPAM's entries and a vnet's IP mappings, an OpenFabric full mesh as
FRR reports it, route maps. Sources: pve-network at commit ecf98c5d (src/...) unless a line says otherwise,
proxmox-perl-rs at 1fa643dc, proxmox-ve-rs at 840d1ede, FRR isisd/isis_misc.c ``time2string``."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
import yaml
from support.clients import refused

from pytest_pvemock.api.app import PveApi
from pytest_pvemock.api.messages import ApiRequest
from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario_dump import scenario_yaml

pytestmark = pytest.mark.pve_cluster("production", validate=True)
WEB01 = "bc:24:11:2a:10:64"  # web01's NIC on the EVPN vnet (pve1), given 10.20.0.10 in the IPAM
DNS01 = "bc:24:11:2a:10:6e"  # dns01's (a container on pve2, static 10.20.0.53/24)


def test_the_applied_zones_are_on_every_node_with_the_guests_ports(pve_api):
    for node in ("pve1", "pve2", "pve3"):
        zones = pve_api.nodes(node).sdn.zones.get()
        assert zones == [{"zone": "core", "status": "available"}, {"zone": "lab", "status": "available"}]
    # Zones/EvpnPlugin.pm generate_sdn_config 203-214, 272-282: the vnet bridge over vxlan_<vnet>; the running
    # web01's second NIC is plugged into it as tap100i1 (pve-common PVE/Network.pm tap_plug)
    (bridge,) = pve_api.nodes("pve1").sdn.zones("core").bridges.get()
    assert bridge["name"] == "corenet" and bridge["vlan_filtering"] == 0
    assert bridge["ports"] == [{"name": "vxlan_corenet"}, {"name": "tap100i1", "vmid": "100", "index": "net1"}]
    # the second lab vnet is written, not applied: no node has it
    assert [row["vnet"] for row in pve_api.nodes("pve1").sdn.zones("lab").content.get()] == ["labnet"]


def test_the_mac_vrf_holds_every_guest_on_the_vnet_with_its_nodes_vtep(pve_api):
    # src/PVE/API2/Network/SDN/Nodes/Vnet.pm mac-vrf 62-147 (1414d17a), pve-rs/src/sdn/status.rs get_l2vpn_routes
    expected = [
        {"ip": "10.20.0.10", "mac": WEB01, "nexthop": "192.168.100.11"},
        {"ip": "10.20.0.53", "mac": DNS01, "nexthop": "192.168.100.12"},
    ]
    assert pve_api.nodes("pve3").sdn.vnets("corenet")("mac-vrf").get() == expected
    error = refused(pve_api.nodes("pve1").sdn.vnets("labnet")("mac-vrf").get)  # Vnet.pm 130-133
    assert error.status_code == 400 and error.errors == {"zone": "zone lab is not an EVPN zone."}
    error = refused(pve_api.nodes("pve1").sdn.vnets("labnet2")("mac-vrf").get)  # written, not applied (120-123)
    assert error.status_code == 400 and error.errors == {"vnet": "vnet does not exist"}


def test_the_ip_vrf_routes_the_other_nodes_guests_over_bgp(pve_api):
    # Nodes/Zone.pm ip-vrf 306-383: "This does not include /32 routes for guests on this host"
    connected = {"ip": "10.20.0.0/24", "metric": 0, "nexthops": ["corenet"], "protocol": "connected"}
    assert pve_api.nodes("pve1").sdn.zones("core")("ip-vrf").get() == [
        connected,
        {"ip": "10.20.0.53/32", "metric": 0, "nexthops": ["192.168.100.12"], "protocol": "bgp"},
    ]
    assert pve_api.nodes("pve2").sdn.zones("core")("ip-vrf").get() == [
        connected,
        {"ip": "10.20.0.10/32", "metric": 0, "nexthops": ["192.168.100.11"], "protocol": "bgp"},
    ]
    pve_api.nodes("pve1").qemu(100).status.stop.post()
    assert pve_api.nodes("pve2").sdn.zones("core")("ip-vrf").get() == [connected]
    assert [row["mac"] for row in pve_api.nodes("pve2").sdn.vnets("corenet")("mac-vrf").get()] == [DNS01]


def test_the_pve_ipam_lists_the_gateway_and_the_guests_mapping(pve_api):
    # API2/Network/SDN/Ipams.pm ipamindex 290-370: zones with IPAM 'pve' and DHCP only (core has no DHCP);
    # SubnetPlugin.pm on_update_hook 228-252 registered the gateway; Ips.pm ipupdate gave the mapping its vmid
    assert pve_api.cluster.sdn.ipams("pve").status.get() == [
        {"gateway": 1, "ip": "10.10.0.1", "subnet": "10.10.0.0/24", "vnet": "labnet", "zone": "lab"},
        {"ip": "10.10.0.102", "mac": "BC:24:11:2A:10:66", "subnet": "10.10.0.0/24", "vmid": 102, "vnet": "labnet",
         "zone": "lab"},
    ]  # fmt: skip
    # Ipams.pm config 101-106: the built-in PVE IPAM is always listed
    assert [(row["ipam"], row["type"]) for row in pve_api.cluster.sdn.ipams.get()] == [("pve", "pve")]
    error = refused(pve_api.cluster.sdn.ipams("netbox").status.get)  # Ipams.pm line 319
    assert error.content.startswith("Currently only PVE IPAM is supported! at ")


def test_ip_mappings_are_checked_as_the_pve_ipam_checks_them(pve_api):
    ips = pve_api.cluster.sdn.vnets("labnet").ips
    ips.post(zone="lab", ip="10.10.0.150", mac="BC:24:11:2A:10:99")
    # Ipams/PVEPlugin.pm add_ip 130-133
    assert refused(ips.post, zone="lab", ip="10.10.0.150", mac="BC:24:11:2A:10:98").content == (
        "IP '10.10.0.150' already exist"
    )
    assert refused(ips.post, zone="lab", ip="10.10.0.1", mac="BC:24:11:2A:10:98").content == (
        "IP '10.10.0.1' already exist"
    )  # the gateway is taken
    # Subnets.pm find_ip_subnet line 115: only the vnet's subnets of the running config
    error = refused(ips.post, zone="lab", ip="10.99.0.5", mac="BC:24:11:2A:10:98")
    assert (
        error.content
        == "can't find any subnet for ip 10.99.0.5 at /usr/share/perl5/PVE/Network/SDN/Subnets.pm line 115."
    )
    # Ips.pm ipupdate: the MAC's old address goes, the new one comes with the guest's vmid
    ips.put(zone="lab", ip="10.10.0.151", mac="BC:24:11:2A:10:99", vmid=102)
    rows = {row["ip"]: row for row in pve_api.cluster.sdn.ipams("pve").status.get()}
    assert "10.10.0.150" not in rows and rows["10.10.0.151"]["vmid"] == 102
    ips.delete(zone="lab", ip="10.10.0.151", mac="BC:24:11:2A:10:99")
    assert refused(ips.delete, zone="lab", ip="10.10.0.151", mac="BC:24:11:2A:10:99").content.startswith(
        "IP '10.10.0.151' does not exist in IPAM DB"
    )  # PVEPlugin.pm del_ip 268
    assert [row["ip"] for row in pve_api.cluster.sdn.ipams("pve").status.get()] == ["10.10.0.1", "10.10.0.102"]


def test_the_fabric_reports_its_mesh_neighbours_and_routes(pve_api, pve_cluster):
    # pve-rs/src/sdn/status.rs get_interfaces_openfabric (tests 1018-1094): the dummy loopback, then the links
    assert pve_api.nodes("pve1").sdn.fabrics("mesh").interfaces.get() == [
        {"name": "dummy_mesh", "state": "Up", "type": "Loopback"},
        {"name": "ens19", "state": "Up", "type": "Point-To-Point"},
        {"name": "ens20", "state": "Up", "type": "Point-To-Point"},
    ]
    pve_cluster.clock.advance(665)
    # get_neighbors_openfabric: the peer's hostname, the adjacency's state and FRR's time2string of its age
    assert pve_api.nodes("pve1").sdn.fabrics("mesh").neighbors.get() == [
        {"neighbor": "pve2", "status": "Up", "uptime": "11m5s"},
        {"neighbor": "pve3", "status": "Up", "uptime": "11m5s"},
    ]
    # get_routes (tests 2126-2330): the other nodes' fabric IPs over their own links
    assert pve_api.nodes("pve2").sdn.fabrics("mesh").routes.get() == [
        {"route": "10.15.15.1/32", "via": ["10.15.15.1"]},
        {"route": "10.15.15.3/32", "via": ["10.15.15.3"]},
    ]
    pve_cluster.set_node_online("pve3", False)
    assert [row["neighbor"] for row in pve_api.nodes("pve1").sdn.fabrics("mesh").neighbors.get()] == ["pve2"]
    assert pve_api.nodes("pve1").sdn.fabrics("mesh").routes.get() == [{"route": "10.15.15.2/32", "via": ["10.15.15.2"]}]


def test_route_map_entries_are_kept_per_route_map_and_order(pve_api):
    # RouteMaps/RouteMap.pm, RouteMapEntry.pm (75fb8cde); route_maps.rs (0ef21ca4): set and match always answered
    entries = pve_api.cluster.sdn("route-maps").entries
    entries.post(**{"route-map-id": "lab-out", "order": 20, "action": "deny"})
    assert [(row["route-map-id"], row["order"]) for row in entries("lab-out").get()] == [
        ("lab-out", 10),
        ("lab-out", 20),
    ]
    assert entries("lab-out").entry(20).get() == {
        "route-map-id": "lab-out", "order": 20, "action": "deny", "set": [], "match": []
    }  # fmt: skip
    error = refused(entries.post, **{"route-map-id": "lab-out", "order": 20, "action": "permit"})
    assert (
        error.content == "creating route map entry failed: route map entry already exists in configuration: lab-out_20"
    )
    entries("lab-out").entry(20).put(action="permit", set=["key=local-preference,value=200"])
    assert entries("lab-out").entry(20).get()["set"] == ["key=local-preference,value=200"]
    entries("lab-out").entry(20).put(delete="set")
    assert entries("lab-out").entry(20).get()["set"] == []
    entries("lab-out").entry(20).delete()
    assert refused(entries("lab-out").entry(20).get).status_code == 400  # '<id>_<order> doesn't exist'
    error = refused(entries("lab-out").entry(20).delete)
    assert error.content == "deleting route map entry failed: could not find route map entry with id: lab-out_20"
    assert entries("nothing").get() == []
    # what was applied: the running config's entries; pending: PVE's pending_config of the two (SDN.pm 133-188)
    entries.post(**{"route-map-id": "lab-in", "order": 5, "action": "permit"})
    assert [row["route-map-id"] for row in entries.get(running=1)] == ["lab-out"]
    # a new entry has all its keys under 'pending' (SDN.pm 161-184), an unchanged one its running keys and no state
    new, unchanged = entries.get(pending=1)
    assert (new["state"], new["pending"]["route-map-id"], "route-map-id" in new) == ("new", "lab-in", False)
    assert (unchanged["route-map-id"], "state" in unchanged) == ("lab-out", False)


def test_the_dns_server_answers_its_key_as_pve_does(pve_api):
    # API2/Network/SDN/Dns.pm read: dns.cfg is returned whole (tests/test_api_secrets_never_returned.py)
    record = pve_api.cluster.sdn.dns("pdns").get()
    assert (record["type"], record["url"], record["ttl"]) == (
        "powerdns",
        "http://192.168.100.53:8081/api/v1/servers/localhost",
        3600,
    )


def test_a_dump_carries_the_applied_sdn_and_what_waits_to_be_applied(pve_api, pve_cluster):
    pve_cluster.set_node_online("pve3", False)
    pve_api.cluster.sdn.vnets.post(vnet="labnet3", zone="lab")
    pve_api.cluster.sdn.put()  # pve3 misses this apply: its zones stay pending (Zones.pm status 227-241)
    pve_cluster.set_node_online("pve3", True)
    pve_api.cluster.sdn.vnets.post(vnet="labnet4", zone="lab")  # written after the apply: pending
    text = scenario_yaml(pve_cluster)
    assert "6c0d9a4e-prod-pdns-api-key" not in text  # the PowerDNS API key is a secret (schema/secrets.py)
    dumped = yaml.safe_load(text)["sdn"]
    assert dumped["running"]["version"] == 2 and sorted(dumped["nodes"]) == ["pve1", "pve2", "pve3"]
    assert dumped["ipam"] == {
        "core": {"10.20.0.0/24": {"10.20.0.10": {"mac": "BC:24:11:2A:10:64"}}},
        "lab": {"10.10.0.0/24": {"10.10.0.102": {"mac": "BC:24:11:2A:10:66", "vmid": 102}}},
    }
    loaded = build_from_text(text, "dump.yaml")
    assert get(loaded, "/nodes/pve1/sdn/zones") == pve_api.nodes("pve1").sdn.zones.get()
    assert {row["status"] for row in get(loaded, "/nodes/pve3/sdn/zones")} == {"pending"}
    content = get(loaded, "/nodes/pve2/sdn/zones/lab/content")
    assert [row["vnet"] for row in content] == ["labnet", "labnet2", "labnet3"]
    diff = get(loaded, "/cluster/sdn/dry-run", node="pve1")["interfaces-diff"]
    assert "+auto labnet4" in diff and "+auto labnet3" not in diff
    assert get(loaded, "/cluster/sdn/ipams/pve/status") == pve_api.cluster.sdn.ipams("pve").status.get()


def get(cluster, path, **query):
    """``GET path`` of a cluster the test did not mock, as root@pam."""
    api = PveApi(cluster)
    cookie = f"PVEAuthCookie={quote(api.auth.signer.ticket('root@pam'), safe='')}"
    answer = api.handle(ApiRequest("GET", "/api2/json" + path, urlencode(query), {"Cookie": cookie}, b""))
    assert answer.status == 200, answer.body
    return answer.json()["data"]


def test_the_running_and_pending_views_show_what_is_applied_and_what_waits(pve_api):
    # API2/Network/SDN/Vnets.pm index 170-200 and read: 'running' reads .running-config, 'pending' compares it with
    # the written config (SDN.pm pending_config 133-188: a new object's keys under 'pending', 'type'/'vnet' on top)
    vnets = pve_api.cluster.sdn.vnets
    assert [row["vnet"] for row in vnets.get(running=1)] == ["corenet", "labnet"]
    assert [row["vnet"] for row in vnets.get()] == ["corenet", "labnet", "labnet2"]
    assert vnets("labnet2").get(pending=1) == {
        "vnet": "labnet2", "type": "vnet", "state": "new", "pending": {"alias": "Second lab network", "zone": "lab"}
    }  # fmt: skip
    assert refused(vnets("labnet2").get, running=1).content == "sdn vnet 'labnet2' does not exist"
    pve_api.cluster.sdn.zones("lab").put(mtu=1400)
    # VnetPlugin.pm on_delete_hook 99-105: not with subnets; Ipams/PVEPlugin.pm del_subnet 97-102: a subnet only
    # with nothing but its gateway in the IPAM
    error = refused(vnets("labnet").delete)  # the status line holds the message's first line
    assert error.content == "delete sdn vnet object failed: 400 Parameter verification failed."
    subnet = vnets("labnet").subnets("lab-10.10.0.0-24")
    error = refused(subnet.delete)
    assert error.content == "delete sdn subnet object failed: cannot delete subnet '10.10.0.0/24', not empty"
    vnets("labnet").ips.delete(zone="lab", ip="10.10.0.102", mac="BC:24:11:2A:10:66")
    subnet.delete()
    vnets("labnet").delete()
    zone = pve_api.cluster.sdn.zones("lab").get(pending=1)
    assert (zone["state"], zone["pending"], "mtu" in zone) == ("changed", {"mtu": 1400}, False)
    assert {row["vnet"]: row.get("state") for row in vnets.get(pending=1)} == {
        "corenet": None, "labnet": "deleted", "labnet2": "new"
    }  # fmt: skip


def test_a_subnet_answers_its_vnet_and_dhcp_ranges_as_objects(pve_api):
    # Subnets.pm api_sdn_subnets_config 24-33 and get_dhcp_ranges 40-60: the ranges parsed, [] without any
    (subnet,) = pve_api.cluster.sdn.vnets("labnet").subnets.get()
    assert (subnet["vnet"], subnet["cidr"], subnet["gateway"]) == ("labnet", "10.10.0.0/24", "10.10.0.1")
    assert subnet["dhcp-range"] == [{"start-address": "10.10.0.100", "end-address": "10.10.0.199"}]
    assert pve_api.cluster.sdn.vnets("corenet").subnets("core-10.20.0.0-24").get()["dhcp-range"] == []


def test_a_prefix_list_answers_its_entries_as_property_strings(pve_api):
    # proxmox-ve-config src/sdn/prefix_list.rs api::PrefixList: entries are PropertyString<PrefixListEntry>, their
    # fields in the struct's order (action, prefix, le, ge, seq), left out when there are none
    lists = pve_api.cluster.sdn("prefix-lists")
    assert lists("lab-nets").get() == {"id": "lab-nets", "entries": ["action=permit,prefix=10.10.0.0/16,le=24,seq=10"]}
    lists("lab-nets").entries.post(seq=20, action="deny", prefix="10.10.99.0/24")
    assert lists("lab-nets").entries(20).get() == {"seq": 20, "action": "deny", "prefix": "10.10.99.0/24"}
    assert lists("lab-nets").get()["entries"][1] == "action=deny,prefix=10.10.99.0/24,seq=20"
    lists.post(id="empty")
    assert lists("empty").get() == {"id": "empty"}
    error = refused(lists("nothing").entries.get)
    assert error.content == "could not find prefix list with id: nothing"


def test_a_new_zone_is_checked_as_pve_checks_it(pve_api, pve_cluster):
    zones = pve_api.cluster.sdn.zones
    # API2/Network/SDN/Zones.pm create 420-436: its DNS server and IPAM must exist (raise_param_exc in the lock)
    error = refused(zones.post, zone="z1", type="simple", ipam="netbox1")
    assert error.content == "create sdn zone object failed: 400 Parameter verification failed."
    assert refused(zones.post, zone="z1", type="simple", dns="nope").status_code == 500
    # Zones/EvpnPlugin.pm on_update_hook 349-376: an EVPN controller, a vrf-vxlan no other zone has
    where = "/usr/share/perl5/PVE/Network/SDN/Zones/EvpnPlugin.pm"
    error = refused(zones.post, zone="z2", type="evpn", controller="nope", **{"vrf-vxlan": 20000})
    assert error.content == f"create sdn zone object failed: controller nope don't exist at {where} line 354."
    error = refused(zones.post, zone="z2", type="evpn", controller="evpn", **{"vrf-vxlan": 10000})
    assert (
        error.content
        == f"create sdn zone object failed: vrf-vxlan 10000 is already declared in core at {where} line 366."
    )
    # ... and a MAC in the datacenter's prefix, which the vnet bridges carry (EvpnPlugin.pm generate_sdn_config 272)
    zones.post(zone="z2", type="evpn", controller="evpn", **{"vrf-vxlan": 20000})
    mac = zones("z2").get()["mac"]
    assert mac.startswith("BC:24:11:") and mac != zones("core").get()["mac"]  # drawn per zone
    assert f"\thwaddress {zones('core').get()['mac']}\n" in pve_cluster.sdn.interfaces["pve1"].text


def test_the_sdn_lists_answer_the_type_asked_for(pve_api):
    # API2/Network/SDN/Zones.pm index 295, Controllers.pm 186, Ipams.pm 86, Dns.pm 81: 'next if ... type ne'
    assert [row["zone"] for row in pve_api.cluster.sdn.zones.get(type="evpn")] == ["core"]
    assert [row["zone"] for row in pve_api.cluster.sdn.zones.get(type="simple", pending=1)] == ["lab"]
    assert pve_api.cluster.sdn.controllers.get(type="bgp") == []
    assert [row["ipam"] for row in pve_api.cluster.sdn.ipams.get(type="pve")] == ["pve"]
    assert [row["dns"] for row in pve_api.cluster.sdn.dns.get(type="powerdns")] == ["pdns"]
