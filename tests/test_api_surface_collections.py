"""Config-like collections remember what a client writes; indexes, tasks and synthesised answers look like PVE's."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer import ResourceException  # noqa: E402

from tests.support.replication import zfs_vm  # noqa: E402


def error_of(call):
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value.status_code, caught.value.content


def test_cluster_firewall_rules_by_position(pve_api):
    rules = pve_api.cluster.firewall.rules
    rules.post(type="in", action="ACCEPT", proto="tcp", dport="22", enable=1, comment="ssh")
    rules.post(type="in", action="DROP", comment="rest", pos=1)
    listed = rules.get()
    assert [(r["pos"], r["action"], r.get("comment")) for r in listed] == [(0, "ACCEPT", "ssh"), (1, "DROP", "rest")]
    assert rules(0).get()["dport"] == "22"
    rules(1).put(moveto=0)
    assert [r["action"] for r in rules.get()] == ["DROP", "ACCEPT"]
    rules(1).put(comment="ssh only", delete="dport")
    assert "dport" not in rules(1).get() and rules(1).get()["comment"] == "ssh only"
    rules(0).delete()
    assert [r["action"] for r in rules.get()] == ["ACCEPT"]


def test_guest_firewall_rules_are_per_guest(pve_api):
    pve_api.nodes("pve1").qemu(100).firewall.rules.post(type="out", action="REJECT")
    assert len(pve_api.nodes("pve1").qemu(100).firewall.rules.get()) == 1
    assert pve_api.nodes("pve1").qemu(101).firewall.rules.get() == []


def test_digest_guards_concurrent_changes(pve_api):
    pve_api.cluster.firewall.rules.post(type="in", action="ACCEPT")
    digest = pve_api.cluster.firewall.rules.get()[0]["digest"]
    pve_api.cluster.firewall.rules(0).put(comment="first", digest=digest)
    status, message = error_of(lambda: pve_api.cluster.firewall.rules(0).put(comment="second", digest=digest))
    assert status == 500
    assert message.startswith("detected modified configuration")


def test_backup_jobs_are_created_read_updated_and_removed(pve_api):
    pve_api.cluster.backup.post(id="nightly", schedule="21:00", storage="local", vmid="100,101", mode="snapshot")
    job = pve_api.cluster.backup("nightly").get()
    assert (job["id"], job["schedule"], job["storage"], job["vmid"]) == ("nightly", "21:00", "local", "100,101")
    pve_api.cluster.backup("nightly").put(schedule="22:30", delete="vmid", all=1)
    job = pve_api.cluster.backup("nightly").get()
    assert job["schedule"] == "22:30" and "vmid" not in job
    assert [j["id"] for j in pve_api.cluster.backup.get()] == ["nightly"]
    pve_api.cluster.backup("nightly").delete()
    # pve-manager PVE/API2/Backup.pm line 407 (14a22df3): raise_param_exc({id => "No such job '$id'"})
    with pytest.raises(ResourceException) as caught:
        pve_api.cluster.backup("nightly").get()
    assert (caught.value.status_code, caught.value.errors) == (400, {"id": "No such job 'nightly'"})


def test_creating_twice_is_refused(pve_api):
    pve_api.cluster.sdn.zones.post(zone="zone1", type="simple")
    # pve-network src/PVE/API2/Network/SDN/Zones.pm create 417-419, 444 (commit ecf98c5d)
    assert error_of(lambda: pve_api.cluster.sdn.zones.post(zone="zone1", type="simple")) == (
        500,
        "create sdn zone object failed: sdn zone object ID 'zone1' already defined",
    )


def test_sdn_zones_and_vnets_with_subnets(pve_api):
    pve_api.cluster.sdn.zones.post(zone="zone1", type="vlan", bridge="vmbr0")
    pve_api.cluster.sdn.vnets.post(vnet="vnet1", zone="zone1", tag=10)
    pve_api.cluster.sdn.vnets("vnet1").subnets.post(subnet="10.0.0.0/24", type="subnet", gateway="10.0.0.1")
    assert [z["zone"] for z in pve_api.cluster.sdn.zones.get()] == ["zone1"]
    assert pve_api.cluster.sdn.vnets("vnet1").get()["tag"] == 10
    # kept as <zone>-<network>-<mask> (pve-network src/PVE/API2/Network/SDN/Subnets.pm 219-226, ecf98c5d)
    assert [s["subnet"] for s in pve_api.cluster.sdn.vnets("vnet1").subnets.get()] == ["zone1-10.0.0.0-24"]


def test_replication_jobs(pve_api, pve_cluster):
    zfs_vm(pve_cluster)
    pve_api.cluster.replication.post(id="120-0", target="pve2", type="local", schedule="*/15")
    job = pve_api.cluster.replication("120-0").get()
    assert (job["target"], job["schedule"]) == ("pve2", "*/15")


def test_ipsets_hold_their_entries(pve_api):
    pve_api.cluster.firewall.ipset.post(name="trusted", comment="office")
    pve_api.cluster.firewall.ipset("trusted").post(cidr="192.0.2.0/24")
    assert [e["cidr"] for e in pve_api.cluster.firewall.ipset("trusted").get()] == ["192.0.2.0/24"]
    assert pve_api.cluster.firewall.ipset.get()[0]["comment"] == "office"
    pve_api.cluster.firewall.ipset("trusted").delete()
    assert pve_api.cluster.firewall.ipset.get() == []


def test_options_are_written_and_read_back(pve_api):
    pve_api.cluster.options.put(keyboard="de", console="html5")
    options = pve_api.cluster.options.get()
    assert (options["keyboard"], options["console"]) == ("de", "html5")
    pve_api.cluster.options.put(delete="keyboard")
    assert "keyboard" not in pve_api.cluster.options.get()
    pve_api.nodes("pve1").firewall.options.put(enable=1)
    assert pve_api.nodes("pve1").firewall.options.get()["enable"] == 1


def test_metric_servers_are_created_on_their_own_path(pve_api):
    pve_api.cluster.metrics.server("influx").post(type="influxdb", server="192.0.2.50", port=8089)
    assert pve_api.cluster.metrics.server("influx").get()["server"] == "192.0.2.50"
    assert [s["id"] for s in pve_api.cluster.metrics.server.get()] == ["influx"]


def test_realms_include_pam_and_pve(pve_api):
    assert {"pam", "pve"} <= {realm["realm"] for realm in pve_api.access.domains.get()}


def test_index_methods_list_children_as_pve_does(pve_api):
    cluster_index = {entry["name"] for entry in pve_api.cluster.get()}
    assert {"acme", "backup", "backup-info", "ceph", "config", "firewall", "ha", "resources"} <= cluster_index
    node_index = [entry["name"] for entry in pve_api.nodes("pve1").get()]
    assert {"qemu", "lxc", "storage", "tasks", "firewall", "status"} <= set(node_index)
    assert {"aliases", "groups", "ipset", "options", "rules"} <= {e["name"] for e in pve_api.cluster.firewall.get()}
    assert {"subdir": "current"} in pve_api.nodes("pve1").qemu(100).status.get()


def test_task_methods_start_a_task_that_ends_ok(pve_api, pve_cluster):
    upid = pve_api.nodes("pve2").vzdump.post(vmid="102", storage="local")
    assert upid.startswith("UPID:pve2:") and ":vzdump:102:root@pam:" in upid
    status = pve_api.nodes("pve2").tasks(upid).status.get()
    assert (status["status"], status["exitstatus"]) == ("stopped", "OK")
    assert upid in {task["upid"] for task in pve_api.nodes("pve2").tasks.get()}


@pytest.mark.pve_cluster(task_mode="manual")
def test_task_runs_on_the_clock_in_manual_mode(pve_api, pve_cluster):
    upid = pve_api.nodes("pve1").services("chrony").restart.post()
    assert ":srvrestart:chrony:" in upid
    assert pve_api.nodes("pve1").tasks(upid).status.get()["status"] == "running"
    pve_cluster.clock.settle()
    assert pve_api.nodes("pve1").tasks(upid).status.get()["exitstatus"] == "OK"


def test_synthesised_answers_use_the_clusters_own_names(pve_api, pve_cluster):
    vmids = {guest.vmid for guest in pve_cluster.guests}
    assert {entry["vmid"] for entry in pve_api.cluster("backup-info")("not-backed-up").get()} <= vmids
    assert pve_api.nodes("pve3").disks.zfs.get() == []  # now derived: no ZFS storage, no pool (test_api_node_disks)


def test_node_network_starts_with_the_installers_bridge_and_remembers_new_ones(pve_api, pve_cluster):
    interfaces = {entry["iface"]: entry for entry in pve_api.nodes("pve1").network.get()}
    assert interfaces["vmbr0"]["address"] == pve_cluster.node("pve1").ip
    assert interfaces["vmbr0"]["bridge_ports"] == "eno1"
    pve_api.nodes("pve1").network.post(iface="vmbr1", type="bridge", autostart=1, comments="lab")
    assert pve_api.nodes("pve1").network("vmbr1").get()["type"] == "bridge"
    assert "vmbr1" not in {entry["iface"] for entry in pve_api.nodes("pve2").network.get()}


def test_notification_targets_list_builtin_and_created_endpoints(pve_api):
    pve_api.cluster.notifications.endpoints.gotify.post(name="phone", server="https://gotify.example", token="t0k")
    targets = {target["name"]: target for target in pve_api.cluster.notifications.targets.get()}
    assert targets["mail-to-root"]["origin"] == "builtin"
    assert (targets["phone"]["type"], targets["phone"]["origin"]) == ("gotify", "user-created")
    pve_api.cluster.notifications.matchers("default-matcher").put(comment="changed")
    assert pve_api.cluster.notifications.matchers("default-matcher").get()["origin"] == "modified-builtin"


def test_node_replication_lists_the_jobs_of_its_guests(pve_api, pve_cluster):
    zfs_vm(pve_cluster)
    pve_api.cluster.replication.post(id="120-0", target="pve2", type="local", schedule="*/15")
    assert [job["id"] for job in pve_api.nodes("pve1").replication.get()] == ["120-0"]
    assert pve_api.nodes("pve3").replication.get() == []


def test_firewall_refs_name_aliases_and_ipsets(pve_api):
    pve_api.cluster.firewall.aliases.post(name="office", cidr="192.0.2.0/24")
    pve_api.cluster.firewall.ipset.post(name="trusted")
    refs = {(ref["type"], ref["ref"]) for ref in pve_api.cluster.firewall.refs.get()}
    assert refs == {("alias", "office"), ("ipset", "+trusted")}  # Firewall/Helpers.pm 156-191 @6f1311f3
    assert [ref["name"] for ref in pve_api.cluster.firewall.refs.get(type="ipset")] == ["trusted"]


def test_guest_firewall_follows_the_guest_through_a_migration(pve_api, pve_cluster):
    pve_api.nodes("pve2").qemu(102).firewall.rules.post(type="in", action="ACCEPT", dport="443", proto="tcp")
    pve_api.nodes("pve2").qemu(102).migrate.post(target="pve3")
    pve_cluster.clock.settle()
    assert [rule["dport"] for rule in pve_api.nodes("pve3").qemu(102).firewall.rules.get()] == ["443"]
