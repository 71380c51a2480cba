"""SDN as a node sees it: nothing until ``PUT /cluster/sdn`` applies the written config, then each node's zones,
their vnets and bridges, the dry-run diff of what an apply would change, and the fabric reads of a cluster
without fabrics. Sources: pve-network at commit ecf98c5d (src/...), proxmox-perl-rs at 1fa643dc, proxmox-ve-rs at
840d1ede, pve-manager at 14a22df3."""

from __future__ import annotations

import pytest
from support.clients import refused, task_log, wait


@pytest.fixture
def simple_zone(pve_api):
    """A simple zone with one vnet and a SNAT subnet, written but not applied."""
    pve_api.cluster.sdn.zones.post(zone="lab", type="simple")
    pve_api.cluster.sdn.vnets.post(vnet="labnet", zone="lab")
    pve_api.cluster.sdn.vnets("labnet").subnets.post(subnet="10.10.0.0/24", type="subnet", gateway="10.10.0.1", snat=1)
    return "lab"


def apply(api) -> dict:
    upid = api.cluster.sdn.put()
    return wait(api, upid) | {"log": task_log(api, upid)}


def test_a_node_reports_no_zone_before_any_apply(pve_api, pve_cluster):
    # src/PVE/Network/SDN/Zones.pm status 217-225: no running config version, no status at all
    for node in pve_cluster.nodes:
        assert pve_api.nodes(node.name).sdn.zones.get() == []
    assert pve_api.nodes("pve1").sdn.zones("lab").content.get() == []


def test_written_zones_reach_the_nodes_only_when_applied(pve_api, pve_cluster, simple_zone):
    assert pve_api.nodes("pve1").sdn.zones.get() == []
    done = apply(pve_api)
    # src/PVE/API2/Network/SDN.pm reload 312-327: one line per node of the node list, then each node's reload
    assert done["exitstatus"] == "OK"
    assert done["log"] == [f"{node.name}: reloading network config" for node in pve_cluster.nodes] + ["TASK OK"]
    reloads = [task for node in pve_cluster.nodes for task in pve_api.nodes(node.name).tasks.get()]
    assert sorted(task["node"] for task in reloads if task["type"] == "srvreload") == ["pve1", "pve2", "pve3"]
    for node in pve_cluster.nodes:
        assert pve_api.nodes(node.name).sdn.zones.get() == [{"zone": "lab", "status": "available"}]
        assert pve_api.nodes(node.name).sdn.zones("lab").content.get() == [{"vnet": "labnet", "status": "available"}]


def test_a_zone_limited_to_nodes_is_only_on_those(pve_api):
    pve_api.cluster.sdn.zones.post(zone="edge", type="simple", nodes="pve2")
    apply(pve_api)
    assert pve_api.nodes("pve1").sdn.zones.get() == []
    assert pve_api.nodes("pve2").sdn.zones.get() == [{"zone": "edge", "status": "available"}]


def test_a_node_offline_during_the_apply_reports_its_zones_pending(pve_api, pve_cluster, simple_zone):
    pve_cluster.set_node_online("pve3", False)
    done = apply(pve_api)
    # the worker warns for the node pvesh cannot reach and goes on (SDN.pm 316-319)
    assert done["exitstatus"] == "WARNINGS: 1"
    assert "WARN: command 'pvesh set /nodes/pve3/network --regenerate-frr 0' failed: exit code 255" in done["log"]
    pve_cluster.set_node_online("pve3", True)
    # Zones.pm status 227-241, 257, 279-283: no generated file yet, so the zone and its vnets are pending
    assert pve_api.nodes("pve3").sdn.zones.get() == [{"zone": "lab", "status": "pending"}]
    assert pve_api.nodes("pve3").sdn.zones("lab").content.get() == [
        {
            "vnet": "labnet",
            "status": "pending",
            "statusmsg": "local sdn network configuration is not yet generated, please reload",
        }
    ]
    # reloading the node's network (pve-manager PVE/API2/Network.pm 920-926) writes the file
    wait(pve_api, pve_api.nodes("pve3").network.put())
    assert pve_api.nodes("pve3").sdn.zones.get() == [{"zone": "lab", "status": "available"}]


def test_a_node_behind_a_later_apply_reports_its_file_too_old(pve_api, pve_cluster, simple_zone):
    apply(pve_api)
    pve_cluster.set_node_online("pve2", False)
    pve_api.cluster.sdn.vnets.post(vnet="labnet2", zone="lab")
    apply(pve_api)
    pve_cluster.set_node_online("pve2", True)
    content = pve_api.nodes("pve2").sdn.zones("lab").content.get()
    assert {row["statusmsg"] for row in content} == {"local sdn network configuration is too old, please reload"}


def test_the_dry_run_shows_what_an_apply_writes_to_the_interfaces_file(pve_api, pve_cluster, simple_zone):
    # SDN.pm dry-run 387-413 and SimplePlugin.pm generate_sdn_config: the gateway, SNAT through the node's route
    diff = pve_api.cluster.sdn("dry-run").get(node="pve1")["interfaces-diff"]
    header, body = diff.split("@@ -0,0 +1,13 @@\n")
    assert header.startswith("--- /etc/network/interfaces.d/sdn\t1970-01-01 00:00:00.000000000 +0000\n+++ /proc/")
    ip = pve_cluster.find_node("pve1").ip
    assert body.splitlines() == [
        "+#version:1",
        "+",
        "+auto labnet",
        "+iface labnet",
        "+\taddress 10.10.0.1/24",
        f"+\tpost-up iptables -t nat -A POSTROUTING -s '10.10.0.0/24' -o vmbr0 -j SNAT --to-source {ip}",
        f"+\tpost-down iptables -t nat -D POSTROUTING -s '10.10.0.0/24' -o vmbr0 -j SNAT --to-source {ip}",
        "+\tpost-up iptables -t raw -I PREROUTING -i fwbr+ -j CT --zone 1",
        "+\tpost-down iptables -t raw -D PREROUTING -i fwbr+ -j CT --zone 1",
        "+\tbridge_ports none",
        "+\tbridge_stp off",
        "+\tbridge_fd 0",
        "+\tip-forward on",
    ]
    apply(pve_api)
    # applied: the interfaces file is what the dry-run renders; the FRR file was never SDN's (no controllers)
    after = pve_api.cluster.sdn("dry-run").get(node="pve1")
    assert "interfaces-diff" not in after
    assert after["frr-diff"].splitlines()[-8:] == [
        "+frr version 10.4.1",
        "+frr defaults datacenter",
        "+hostname pve1",
        " log syslog informational",
        "+service integrated-vtysh-config",
        "+!",
        "+line vty",
        "+!",
    ]


def test_bridges_list_the_ports_of_running_guests(pve_api, pve_cluster, simple_zone):
    apply(pve_api)
    vm = next(guest for guest in pve_cluster.guests if guest.node == "pve1" and guest.running and guest.kind == "qemu")
    pve_api.nodes("pve1").qemu(vm.vmid).config.put(net1="virtio,bridge=labnet")
    # Nodes/Zone.pm bridges 209-303: ports named tap<vmid>i<n> for a NIC without firewall
    bridges = pve_api.nodes("pve1").sdn.zones("lab").bridges.get()
    assert bridges == [
        {
            "name": "labnet",
            "vlan_filtering": 0,
            "ports": [{"name": f"tap{vm.vmid}i1", "vmid": str(vm.vmid), "index": "net1"}],
        }
    ]
    # the default zone: the node's own bridges, with the NIC and the guests' firewall ports (fwpr<vmid>p<n>)
    local = pve_api.nodes("pve1").sdn.zones("localnetwork").bridges.get()
    running = sorted(g.vmid for g in pve_cluster.guests if g.node == "pve1" and g.running)
    assert [bridge["name"] for bridge in local] == ["vmbr0"]
    assert [port["name"] for port in local[0]["ports"]] == ["eno1", *(f"fwpr{vmid}p0" for vmid in running)]


def test_zone_reads_refuse_a_zone_the_running_config_lacks(pve_api, simple_zone):
    # Nodes/Zone.pm 224-229 and 362-372: raise_param_exc before the zone is applied
    assert refused(pve_api.nodes("pve1").sdn.zones("lab").bridges.get).errors == {"zone": "zone does not exist"}
    apply(pve_api)
    error = refused(pve_api.nodes("pve1").sdn.zones("lab")("ip-vrf").get)
    assert error.status_code == 400 and error.errors == {"zone": "zone is not an EVPN zone"}


def test_a_cluster_without_fabrics_lists_none(pve_api):
    # src/PVE/API2/Network/SDN/Fabrics.pm list_all 103-170, Fabrics/Fabric.pm and Fabrics/Node.pm index
    assert pve_api.cluster.sdn.fabrics.all.get() == {"fabrics": [], "nodes": []}
    assert pve_api.cluster.sdn.fabrics.fabric.get() == []
    assert pve_api.cluster.sdn.fabrics.node.get() == []
    # proxmox-ve-rs proxmox-ve-config/src/sdn/fabric/mod.rs line 44
    error = refused(pve_api.cluster.sdn.fabrics.fabric("f1").get)
    assert error.status_code == 500 and "fabric 'f1' does not exist in configuration" in error.content


def test_node_fabric_status_reads_the_running_config(pve_api):
    # proxmox-perl-rs pve-rs/src/bindings/sdn/fabrics.rs 581-607: no running config file before the first apply
    error = refused(pve_api.nodes("pve1").sdn.fabrics("f1").routes.get)
    assert error.status_code == 500 and "No such file or directory (os error 2)" in error.content
    apply(pve_api)
    error = refused(pve_api.nodes("pve1").sdn.fabrics("f1").neighbors.get)
    assert "fabric 'f1' does not exist in configuration" in error.content


@pytest.mark.parametrize(
    ("collection", "message"),
    [
        # src/PVE/Network/SDN/Zones.pm line 38, Controllers.pm 31, Ipams.pm 96, Dns.pm 24: one wording for all four
        ("zones", "sdn 'nope' does not exist"),
        ("controllers", "sdn 'nope' does not exist"),
        ("ipams", "sdn 'nope' does not exist"),
        ("dns", "sdn 'nope' does not exist"),
        ("vnets", "sdn vnet 'nope' does not exist"),  # src/PVE/Network/SDN/Vnets.pm line 24
    ],
)
def test_reading_an_sdn_object_that_is_not_there_fails_as_pve_does(pve_api, collection, message):
    error = refused(getattr(pve_api.cluster.sdn, collection)("nope").get)
    assert (error.status_code, error.content) == (500, message)


def test_sdn_writes_of_a_missing_object_carry_the_lock_prefix(pve_api):
    # src/PVE/API2/Network/SDN/Vnets.pm update 343-412 and Ipams.pm delete 240-284 (its prefix says 'zone')
    error = refused(pve_api.cluster.sdn.vnets("nope").put, alias="x")
    assert error.content == "update sdn vnet object failed: sdn vnet 'nope' does not exist"
    error = refused(pve_api.cluster.sdn.ipams("nope").delete)
    assert error.content == "delete sdn zone object failed: sdn 'nope' does not exist"
    pve_api.cluster.sdn.zones.post(zone="lab", type="simple")
    pve_api.cluster.sdn.vnets.post(vnet="labnet", zone="lab")
    # Subnets.pm read 155-180: the vnet first, then the subnet
    assert (
        refused(pve_api.cluster.sdn.vnets("other").subnets("lab-10.0.0.0-24").get).content
        == "sdn vnet 'other' does not exist"
    )
    error = refused(pve_api.cluster.sdn.vnets("labnet").subnets("lab-10.0.0.0-24").get)
    assert error.content == "sdn subnet 'lab-10.0.0.0-24' does not exist"


def test_applied_zones_show_in_the_cluster_resources(pve_api, pve_cluster, simple_zone):
    # pvestatd update_network_status (PVE/Service/pvestatd.pm 780-800) and Cluster.pm resources 690-720
    def zones():
        return sorted(
            (row["node"], row["network"], row["status"], row.get("zone-type"))
            for row in pve_api.cluster.resources.get(type="sdn")
            if row.get("network") != "localnetwork"
        )

    assert zones() == []
    apply(pve_api)
    assert zones() == [(node.name, "lab", "available", "simple") for node in pve_cluster.nodes]


def test_the_global_lock_guards_apply_and_rollback_restores_the_running_config(pve_api, simple_zone):
    # src/PVE/API2/Network/SDN.pm lock 144-156: pending changes refuse the lock unless allowed
    error = refused(pve_api.cluster.sdn.lock.post)
    assert error.content == (
        "could not acquire lock for SDN config: configuration has pending changes"
        " at /usr/share/perl5/PVE/API2/Network/SDN.pm line 149."
    )
    apply(pve_api)
    token = pve_api.cluster.sdn.lock.post()
    assert len(token) == 36 and token[14] == "7"  # a UUID v7 (generate_lock_token, SDN.pm 258-266)
    pve_api.cluster.sdn.vnets.post(vnet="extra", zone="lab")
    # src/PVE/Network/SDN.pm lock_sdn_config 278-298: without the token nobody commits
    error = refused(pve_api.cluster.sdn.put)
    assert error.content == (
        "could not commit SDN config: invalid lock token provided! at /usr/share/perl5/PVE/Network/SDN.pm line 291."
    )
    # rollback 204-259: the applied config is written back, the lock released with its token
    pve_api.cluster.sdn.rollback.post(**{"lock-token": token})
    assert [vnet["vnet"] for vnet in pve_api.cluster.sdn.vnets.get()] == ["labnet"]
    assert [s["subnet"] for s in pve_api.cluster.sdn.vnets("labnet").subnets.get()] == ["lab-10.10.0.0-24"]
    token = pve_api.cluster.sdn.lock.post()
    assert refused(pve_api.cluster.sdn.lock.delete).content.startswith("could not release lock: invalid lock token")
    pve_api.cluster.sdn.lock.delete(**{"lock-token": token})
    assert pve_api.cluster.sdn.lock.post() != token


def test_a_subnet_is_kept_under_its_zone_and_cidr(pve_api, simple_zone):
    # src/PVE/API2/Network/SDN/Subnets.pm create 219-226 and src/PVE/Network/SDN/Subnets.pm 19-38
    subnet = pve_api.cluster.sdn.vnets("labnet").subnets("lab-10.10.0.0-24").get()
    assert {key: subnet[key] for key in ("subnet", "id", "cidr", "zone", "network", "mask", "gateway")} == {
        "subnet": "lab-10.10.0.0-24",
        "id": "lab-10.10.0.0-24",
        "cidr": "10.10.0.0/24",
        "zone": "lab",
        "network": "10.10.0.0",
        "mask": "24",
        "gateway": "10.10.0.1",
    }
