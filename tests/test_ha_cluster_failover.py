"""HA on the fake cluster, seen through a real proxmoxer client: a node is lost, fenced and its services
recovered on the cluster clock with pve-ha-manager's timings; node events; the primary helper."""

from __future__ import annotations

import pytest

pytest.importorskip("proxmoxer")

from pytest_pvemock.api.views.guest_status import guest_current_status
from pytest_pvemock.api.views.resources import cluster_resources
from pytest_pvemock.model.cluster import FakeCluster

pytestmark = pytest.mark.pve_cluster("ha-three-node", validate=True)


def vm_row(api, vmid):
    return next(row for row in api.cluster.resources.get(type="vm") if row["vmid"] == vmid)


def node_hastate(api, node):
    return next(row for row in api.cluster.resources.get(type="node") if row["node"] == node).get("hastate")


def service_row(api, sid):
    return next(row for row in api.cluster.ha.status.current.get() if row["id"] == f"service:{sid}")


def test_done_means_a_lost_node_is_fenced_and_its_vm_recovered_elsewhere(pve_cluster, pve_api):
    assert vm_row(pve_api, 101)["hastate"] == "started" and vm_row(pve_api, 101)["node"] == "pve2"
    assert service_row(pve_api, "vm:101")["status"] == "vm:101 (pve2, started)"

    pve_cluster.node("pve2").power_off()
    seen = []  # (seconds since the loss, hastate, node, node's hastate, service status text)
    for elapsed in range(10, 241, 10):
        pve_cluster.clock.advance(10)
        row = vm_row(pve_api, 101)
        state = (row["hastate"], row["node"], node_hastate(pve_api, "pve2"), service_row(pve_api, "vm:101")["status"])
        if not seen or seen[-1][1:] != state:
            seen.append((elapsed, *state))

    assert [entry[1] for entry in seen] == ["started", "fence", "started", "started"]
    assert seen[0][1:] == ("started", "pve2", "unknown", "vm:101 (pve2, started)")  # pve2 left at once
    fenced_at, _, _, node_state, text = seen[1]
    assert 60 <= fenced_at <= 70 and node_state == "fence" and text == "vm:101 (pve2, fence)"
    recovered_at, _, new_node, node_state, text = seen[2]
    # the agent lock of pve2 (renewed every 10 s) expires 120 s after its last renewal: then the master may
    # take it, counts pve2 as fenced and recovers its services in the same round (fence -> recovery -> started)
    assert 120 <= recovered_at <= 130 and new_node in ("pve1", "pve3") and node_state == "unknown"
    assert text == f"vm:101 ({new_node}, starting)"  # until the CRM reads the new node's LRM result
    assert seen[3] == (recovered_at + 10, "started", new_node, "unknown", f"vm:101 ({new_node}, started)")
    assert vm_row(pve_api, 101)["status"] == "running"
    changes = [line.split("pve1/crm: ")[1] for line in pve_cluster.ha.log if "'vm:101': state changed" in line]
    assert changes[-3:] == [
        "service 'vm:101': state changed from 'started' to 'fence'",
        "service 'vm:101': state changed from 'fence' to 'recovery'",
        f"service 'vm:101': state changed from 'recovery' to 'started'  (node = {new_node})",
    ]


def test_losing_the_master_waits_for_its_manager_lock_before_anything_moves(pve_cluster, pve_api):
    master = pve_api.cluster.ha.status.manager_status.get()["manager_status"]["master_node"]
    assert master == "pve1"
    pve_cluster.node("pve1").power_off()
    pve_cluster.clock.advance(110)
    rows = {row["id"]: row for row in pve_api.cluster.ha.status.current.get()}
    assert rows["master"]["status"].startswith("pve1 (old timestamp - dead?, ")  # nobody took over yet
    assert vm_row(pve_api, 100)["hastate"] == "started"
    pve_cluster.clock.advance(30)  # the manager lock expired: a new master, who starts counting pve1's absence
    rows = {row["id"]: row for row in pve_api.cluster.ha.status.current.get()}
    assert rows["master"]["node"] in ("pve2", "pve3") and "(active, " in rows["master"]["status"]
    assert rows["lrm:pve1"]["status"].startswith("pve1 (old timestamp - dead?")
    assert vm_row(pve_api, 100)["node"] == "pve1"
    pve_cluster.clock.advance(60)
    assert vm_row(pve_api, 100)["node"] != "pve1" and vm_row(pve_api, 100)["status"] == "running"


def test_a_node_cut_off_the_network_keeps_running_until_its_watchdog_fences_it(pve_cluster):
    pve_cluster.node("pve2").cut_network()
    pve_cluster.clock.advance(50)
    assert pve_cluster.guest(101).status == "running" and pve_cluster.guest(101).node == "pve2"
    assert not pve_cluster.is_primary(101, "pve2")  # out of the quorate partition
    pve_cluster.clock.advance(20)
    assert pve_cluster.guest(101).status == "stopped" and "watchdog" in "\n".join(pve_cluster.ha.log[-12:])
    pve_cluster.clock.advance(60)
    assert pve_cluster.primary_node(101) in ("pve1", "pve3")
    pve_cluster.node("pve2").restore_network()
    assert not pve_cluster.node("pve2").online  # the watchdog powered it off
    pve_cluster.node("pve2").power_on()
    pve_cluster.clock.advance(20)
    assert pve_cluster.ha.manager_status["node_status"]["pve2"] == "online"


def test_shutdown_policy_freeze_keeps_services_on_the_node_until_it_is_back(pve_cluster, pve_api):
    pve_cluster.ha.shutdown_policy = "freeze"
    pve_cluster.node("pve2").shutdown()
    assert vm_row(pve_api, 101)["hastate"] == "freeze" and not pve_cluster.node("pve2").online
    pve_cluster.clock.advance(300)
    assert vm_row(pve_api, 101)["hastate"] == "freeze" and vm_row(pve_api, 101)["node"] == "pve2"
    pve_cluster.node("pve2").power_on()
    pve_cluster.clock.advance(20)
    assert vm_row(pve_api, 101)["hastate"] == "started" and pve_cluster.is_primary(101, "pve2")


def test_shutdown_policy_migrate_moves_services_before_the_node_goes_down(pve_cluster, pve_api):
    pve_cluster.ha.shutdown_policy = "migrate"
    pve_cluster.node("pve2").shutdown()
    pve_cluster.clock.advance(30)
    row = vm_row(pve_api, 101)
    assert row["node"] != "pve2" and row["hastate"] == "started" and row["status"] == "running"


def test_maintenance_moves_services_away_and_shows_on_the_node_only_in_ha(pve_cluster, pve_api):
    pve_cluster.node("pve1").enable_maintenance()
    assert node_hastate(pve_api, "pve1") == "maintenance"
    assert {row["node"]: row["status"] for row in pve_api.nodes.get()}["pve1"] == "online"
    assert vm_row(pve_api, 100)["node"] != "pve1"
    lrm = service = None
    for row in pve_api.cluster.ha.status.current.get():
        lrm = row if row["id"] == "lrm:pve1" else lrm
        service = row if row["id"] == "service:vm:100" else service
    assert lrm["status"].startswith("pve1 (maintenance mode, ")
    pve_cluster.node("pve1").disable_maintenance()
    assert node_hastate(pve_api, "pve1") == "online" and vm_row(pve_api, 100)["node"] == "pve1"  # moves back


def test_restarting_an_lrm_keeps_its_services_running(pve_cluster):
    pve_cluster.node("pve2").restart_lrm()
    pve_cluster.clock.advance(30)
    assert pve_cluster.is_primary(101, "pve2")
    assert any("pve2/lrm: restart LRM, freeze all services" in line for line in pve_cluster.ha.log)


@pytest.mark.pve_cluster("ha-three-node", task_mode="manual", validate=True)
def test_is_primary_through_a_migration_on_a_manual_clock(pve_cluster, pve_api):
    assert pve_cluster.is_primary(100, "pve1") and pve_cluster.primary_node(100) == "pve1"
    answer = pve_api.cluster.ha.resources("vm:100").migrate.post(node="pve2")
    assert answer == {"sid": "vm:100", "requested-node": "pve2"}
    assert pve_cluster.is_primary(100, "pve1")  # queued: the CRM has not seen it yet
    pve_cluster.clock.advance(10)
    assert vm_row(pve_api, 100)["hastate"] == "migrate"
    assert pve_cluster.primary_node(100) is None
    assert not pve_cluster.is_primary(100, "pve1") and not pve_cluster.is_primary(100, "pve2")
    pve_cluster.clock.advance(20)  # the LRM's qmigrate of 4 GiB of memory runs (test_behaviour_migration.py)
    assert vm_row(pve_api, 100)["hastate"] == "migrate" and pve_cluster.primary_node(100) is None
    pve_cluster.clock.advance(30)
    assert vm_row(pve_api, 100)["hastate"] == "started" and pve_cluster.primary_node(100) == "pve2"
    assert not pve_cluster.is_primary(100, "pve1")


@pytest.mark.pve_cluster("ha-three-node", task_mode="manual", validate=True)
def test_is_primary_is_false_while_starting_stopping_fenced_or_in_error(pve_cluster):
    pve_cluster.guest(103).start()
    pve_cluster.clock.advance(1)  # the hastart task ran: the request is in resources.cfg
    assert pve_cluster.guest(103).hastate == "stopped" and pve_cluster.primary_node(103) is None
    pve_cluster.clock.settle()
    assert pve_cluster.primary_node(103) == "pve3"
    pve_cluster.guest(103).stop()
    pve_cluster.clock.advance(10)
    assert pve_cluster.guest(103).hastate in ("request_stop", "stopped") and pve_cluster.primary_node(103) is None
    pve_cluster.node("pve2").power_off()
    pve_cluster.clock.advance(70)
    assert pve_cluster.guest(101).hastate == "fence" and pve_cluster.primary_node(101) is None
    pve_cluster.ha.set_error("vm:102")
    assert pve_cluster.guest(102).status == "running" and not pve_cluster.is_primary(102, "pve3")


def test_recovery_is_visible_while_no_node_may_take_the_service(pve_cluster, pve_api):
    pve_cluster.ha_rules = [
        {"rule": "only-pve2", "type": "node-affinity", "resources": "vm:101", "nodes": "pve2", "strict": 1}
    ]
    pve_cluster.node("pve2").power_off()
    pve_cluster.clock.advance(200)
    assert vm_row(pve_api, 101)["hastate"] == "recovery" and pve_cluster.primary_node(101) is None
    assert service_row(pve_api, "vm:101")["status"] == "vm:101 (pve2, recovery)"
    pve_cluster.node("pve2").power_on()
    pve_cluster.clock.advance(20)
    assert vm_row(pve_api, 101)["hastate"] == "started" and pve_cluster.primary_node(101) is None
    pve_cluster.clock.advance(60)  # its LRM gets its agent lock once the master's fencing hold on it expires
    assert pve_cluster.primary_node(101) == "pve2"


def test_a_guest_that_fails_to_start_is_restarted_then_relocated_then_in_error(pve_cluster):
    pve_cluster.ha.fail_starts("vm:103", 2)  # max_restart 1: one retry on pve3, then max_relocate 1
    pve_cluster.guest(103).start()
    assert pve_cluster.guest(103).status == "running" and pve_cluster.guest(103).node != "pve3"
    pve_cluster.guest(103).stop()
    pve_cluster.ha.fail_starts("vm:103", 10)
    pve_cluster.guest(103).start()
    pve_cluster.clock.advance(60)
    assert pve_cluster.guest(103).hastate == "error" and pve_cluster.guest(103).status == "stopped"


def test_non_ha_guests_are_primary_wherever_they_run_and_have_no_hastate():
    cluster = FakeCluster.default()
    vm = cluster.guest(100)
    assert vm.hastate is None and cluster.is_primary(100, vm.node) and not cluster.is_primary(100, "nowhere")
    assert "hastate" not in cluster_resources(cluster, "vm")[0] and guest_current_status(cluster, vm)["ha"] == {
        "managed": 0
    }
    assert cluster.primary_node(424242) is None


def test_resources_from_python_and_the_api_agree():
    cluster = FakeCluster.default()
    cluster.ha.add_resource(100, max_restart=2)
    assert cluster.guest(100).hastate == "started" and cluster.primary_node(100) == cluster.guest(100).node
    assert cluster.ha_resources == [{"sid": "vm:100", "state": "started", "max_restart": 2}]
    assert guest_current_status(cluster, cluster.guest(100))["ha"] == {"managed": 1, "state": "started"}
    cluster.ha.remove_resource("vm:100")
    assert cluster.guest(100).hastate is None or cluster.guest(100).hastate == "started"  # until the CRM's round
    cluster.clock.advance(10)
    assert cluster.guest(100).hastate is None and cluster.guest(100).status == "running"


def test_seeded_chaos_is_reproducible_and_never_runs_a_guest_twice():
    def run(seed):
        cluster = FakeCluster.from_scenario("ha-three-node")
        cluster.ha.enable_chaos(seed, rate=0.5)
        seen = []
        for _ in range(60):
            cluster.clock.advance(10)
            seen.append(tuple((g.vmid, g.node, g.status, g.hastate) for g in cluster.guests))
        return seen, cluster

    first, cluster = run(7)
    second, _ = run(7)
    assert first == second
    assert first != run(8)[0]
    cluster.ha.disable_chaos()
    for name in ("pve1", "pve2", "pve3"):
        cluster.node(name).power_on()
    cluster.clock.settle()
    assert all(cluster.guest(vmid).hastate in ("started", "error") for vmid in (100, 101, 102, 200))


@pytest.mark.pve_cluster("ha-three-node", task_mode="manual")
def test_a_migration_that_ended_is_reported_before_its_source_is_cut_off(pve_cluster):
    # PVE's LRM waits for its workers within its round (LRM.pm run_workers 632-680): a 1 s offline migration is
    # reported at once, so losing the source's network 2 s later does not leave the CRM with a stale location
    pve_cluster.ha.fail_starts("vm:103", 2)
    pve_cluster.guest(103).start()
    pve_cluster.clock.advance(30)  # two failed starts on pve3, then relocated (a stopped VM: offline qmigrate)
    assert pve_cluster.guest(103).node == "pve2"
    pve_cluster.node("pve3").cut_network()
    pve_cluster.clock.advance(60)
    for node in ("pve1", "pve2", "pve3"):
        pve_cluster.node(node).power_on()
    pve_cluster.clock.advance(300)
    assert not any("failed - No such file or directory" in line for line in pve_cluster.ha.log)
    assert pve_cluster.guest(103).hastate == "started" and pve_cluster.guest(103).node == "pve2"
    assert pve_cluster.guest(102).hastate == "started" and pve_cluster.guest(102).status == "running"


@pytest.mark.pve_cluster("ha-three-node", task_mode="manual")
def test_source_losing_power_mid_migration_keeps_the_guest_and_recovers_it(pve_cluster):
    # the qmigrate worker dies with its node: the config stays on the source with lock 'migrate'; HA fences the
    # node and recovers the guest elsewhere, removing the leftover lock (Manager.pm recover_fenced_service)
    pve_cluster.ha.migrate("vm:100", "pve2")
    pve_cluster.clock.advance(15)
    (task,) = [task for task in pve_cluster.tasks if task.type == "qmigrate"]
    assert task.running and pve_cluster.guest(100).lock == "migrate"
    pve_cluster.node("pve1").power_off()
    assert not task.running and task.exitstatus != "OK" and pve_cluster.guest(100).node == "pve1"
    pve_cluster.clock.advance(300)
    guest = pve_cluster.guest(100)
    assert guest.node != "pve1" and guest.hastate == "started" and guest.status == "running" and guest.lock is None
    assert any("removed leftover lock 'migrate'" in line for line in pve_cluster.ha.log)
