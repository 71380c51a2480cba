"""The model on its own: clock, UPIDs, tasks, guests' life cycle, errors in PVE's wording."""

from __future__ import annotations

import pytest

from pytest_pvemock.api.views.guest_status import guest_current_status
from pytest_pvemock.api.views.resources import cluster_resources, guest_resource
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.clock import Clock
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.upid import parse_upid


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster.default()


@pytest.fixture
def manual() -> FakeCluster:
    return FakeCluster.default(task_mode="manual")


def test_clock_runs_scheduled_actions_in_order_when_advanced():
    clock = Clock(1000, "manual")
    seen: list[tuple[str, int]] = []
    clock.call_at(1010, lambda: seen.append(("b", clock.now())))
    clock.call_at(1005, lambda: seen.append(("a", clock.now())))
    clock.advance(7)
    assert seen == [("a", 1005)]
    assert clock.now() == 1007
    clock.settle()
    assert seen == [("a", 1005), ("b", 1010)]


def test_clock_refuses_unknown_mode_and_going_backwards():
    with pytest.raises(ValueError, match="task_mode"):
        Clock(0, "later")
    with pytest.raises(ValueError):
        Clock(0).advance(-1)


def test_upid_hex_fields_are_the_tasks_own_numbers(cluster):
    task = cluster.guest(102).start()
    upid = parse_upid(task.upid)
    assert upid is not None and task.upid.endswith(":")
    assert (upid.node, upid.pid, upid.pstart, upid.starttime) == (task.node, task.pid, task.pstart, task.starttime)
    assert (upid.type, upid.id, upid.authid) == ("qmstart", "102", "root@pam")


def test_token_tasks_carry_the_token_in_the_upid_and_tokenid(cluster):
    task = cluster.guest(102).start(authid="root@pam!ci")
    assert ":qmstart:102:root@pam!ci:" in task.upid
    info = task.info()
    assert info["user"] == "root@pam" and info["tokenid"] == "ci"


def test_instant_tasks_finish_at_once_with_ok(cluster):
    vm = cluster.guest(102)
    task = vm.start()
    assert task.info()["status"] == "stopped" and task.exitstatus == "OK"
    assert vm.status == "running" and vm.pid is not None
    assert task.log_lines()[-1] == "TASK OK"


def test_manual_mode_shows_the_running_task_and_its_effect_after_advance(manual):
    vm = manual.guest(102)
    task = vm.start()
    assert task.info()["status"] == "running" and "exitstatus" not in task.info()
    assert vm.status == "stopped"
    manual.clock.advance(5)
    assert vm.status == "running" and task.exitstatus == "OK"
    assert task.endtime == task.starttime + 2


def test_uptime_grows_with_the_clock_and_stopped_guest_reports_zeros(manual):
    vm = manual.guest(100)
    before = vm.uptime()
    manual.clock.advance(60)
    assert vm.uptime() == before + 60
    vm.stop()
    manual.clock.settle()
    entry = guest_resource(manual, vm)
    assert entry["status"] == "stopped"
    assert all(entry[key] == 0 for key in ("uptime", "cpu", "mem", "netin", "netout", "diskread", "diskwrite"))
    assert vm.pid is None


def test_start_of_running_vm_fails_inside_the_task(cluster):
    task = cluster.guest(100).start()
    assert task.exitstatus == "VM 100 already running"
    assert task.log_lines()[-1] == "TASK ERROR: VM 100 already running"


def test_start_of_running_container_fails_before_the_task(cluster):
    with pytest.raises(PVEError, match="CT 110 already running"):
        cluster.guest(110).start()


def test_reboot_of_stopped_vm_is_refused(cluster):
    with pytest.raises(PVEError, match=r"^VM 102 not running$"):
        cluster.guest(102).reboot()


def test_locked_guest_refuses_start_with_pves_message(cluster):
    vm = cluster.guest(102)
    vm.set_lock("backup")
    assert vm.start().exitstatus == "VM is locked (backup)"
    vm.unlock()
    assert vm.start().ok


def test_migration_holds_the_lock_while_running_and_moves_on_completion(manual):
    vm = manual.guest(102)
    task = vm.migrate("pve3")
    assert task.type == "qmigrate" and task.node == "pve2"
    assert vm.lock == "migrate" and vm.node == "pve2"
    assert cluster_resources(manual, "vm")[2]["lock"] == "migrate"
    manual.clock.settle()
    assert vm.node == "pve3" and vm.lock is None and task.ok


def test_migration_checks(cluster):
    with pytest.raises(ParameterError) as error:
        cluster.guest(102).migrate("pve2")
    assert error.value.errors == {"target": "target is local node."}
    with pytest.raises(PVEError, match="can't migrate running VM without --online"):
        cluster.guest(100).migrate("pve2")
    assert cluster.guest(100).migrate("pve2", online=True, with_local_disks=True).ok  # its disk is on local-lvm


def test_clone_creates_a_new_identity(cluster):
    task = cluster.guest(9000).clone(200, name="from-template")
    clone = cluster.guest(200)
    source = cluster.guest(9000)
    assert task.type == "qmclone" and task.id == "9000" and task.ok
    assert clone.name == "from-template" and not clone.template and clone.lock is None
    assert clone.config["net0"] != source.config["net0"] and "BC:24:11" in clone.config["net0"]
    assert clone.config["smbios1"] != source.config["smbios1"]
    assert "vm-200-disk-0" in clone.config["scsi0"]


def test_clone_onto_existing_vmid_is_refused(cluster):
    with pytest.raises(PVEError, match="unable to create VM 101: config file already exists"):
        cluster.guest(100).clone(101)


def test_guest_on_wrong_node_says_config_file_does_not_exist(cluster):
    with pytest.raises(PVEError, match=r"Configuration file 'nodes/pve2/qemu-server/100.conf' does not exist"):
        cluster.guest_on("pve2", 100, "qemu")


def test_no_quorum_refuses_writes(cluster):
    cluster.node("pve2").go_offline()
    cluster.node("pve3").go_offline()
    assert not cluster.quorate
    with pytest.raises(PVEError, match=r"cluster not ready - no quorum\?") as error:
        cluster.guest(100).stop()
    assert error.value.code == 500


def test_offline_node_is_unreachable_with_595(cluster):
    cluster.set_node_online("pve2", False)
    with pytest.raises(PVEError) as error:
        cluster.guest(102).start()
    assert error.value.code == 595
    entry = next(entry for entry in cluster_resources(cluster, "node") if entry["node"] == "pve2")
    assert entry["status"] == "offline" and "cpu" not in entry and "maxmem" in entry


def test_config_digest_changes_with_the_config_and_is_checked(cluster):
    vm = cluster.guest(102)
    digest = vm.digest
    vm.set_config({"description": "hello"}, digest=digest)
    assert vm.digest != digest and vm.config["description"] == "hello"
    with pytest.raises(PVEError, match="checksum mismatch"):
        vm.set_config({"cores": 8}, digest=digest)
    vm.set_config(delete="description")
    assert "description" not in vm.config


def test_set_config_delete_splits_as_pve_splits_a_list(cluster):
    # Qemu.pm update_vm 2132 (qemu-server e6352be): PVE::Tools::split_list($delete_str), so ';' and spaces separate
    vm = cluster.guest(102)
    vm.set_config({"description": "build box", "tags": "ci"})
    vm.set_config(delete="description; tags")
    assert "description" not in vm.config and "tags" not in vm.config


def test_running_vm_keeps_non_hotplug_changes_pending_until_it_stops(cluster):
    vm = cluster.guest(100)
    vm.set_config({"cores": 8, "name": "web-renamed"})
    assert vm.config["cores"] == 2 and vm.pending == {"cores": 8}
    assert vm.name == "web-renamed"
    assert {"key": "cores", "value": "2", "pending": "8"} in vm.pending_view()
    vm.stop()
    assert vm.config["cores"] == 8 and not vm.pending


def test_snapshots_list_ends_with_current(cluster):
    vm = cluster.guest(102)
    vm.snapshot("before-upgrade", description="pre")
    vm.snapshot("after")
    rows = vm.snapshot_list()
    assert [row["name"] for row in rows] == ["before-upgrade", "after", "current"]
    assert rows[1]["parent"] == "before-upgrade"
    assert rows[-1] == {
        "name": "current",
        "description": "You are here!",
        "digest": vm.digest,
        "running": 0,
        "parent": "after",
    }
    vm.delete_snapshot("before-upgrade")
    assert "parent" not in vm.snapshot_list()[0]


def test_delete_refuses_a_running_guest_and_removes_a_stopped_one(cluster):
    with pytest.raises(PVEError, match="VM 100 is running - destroy failed"):
        cluster.guest(100).delete()
    assert cluster.guest(102).delete().type == "qmdestroy"
    assert cluster.find_guest(102) is None
    with pytest.raises(LookupError, match=r"no guest 102 in cluster 'pvemock' \(guests: 100, 101, 103, 110,"):
        cluster.guest(102)


def test_pool_membership_appears_only_when_it_applies(cluster):
    entries = {entry["id"]: entry for entry in cluster_resources(cluster, "vm")}
    assert entries["qemu/100"]["pool"] == "prod"
    assert "pool" not in entries["qemu/102"] and "tags" not in entries["qemu/102"]
    assert "lock" not in entries["qemu/102"] and "hastate" not in entries["qemu/102"]
    assert entries["qemu/100"]["tags"] == "prod;web"
    pools = cluster_resources(cluster, "pool")
    assert pools[0]["id"] == "/pool/prod"


def test_same_scenario_gives_the_same_answers():
    first, second = FakeCluster.default(), FakeCluster.default()
    assert cluster_resources(first) == cluster_resources(second)
    assert first.guest(100).config_view() == second.guest(100).config_view()
    assert cluster_resources(FakeCluster.default(seed=7)) != cluster_resources(first)


def test_access_store_checks_passwords_and_tokens(cluster):
    assert cluster.access.check_password("root@pam", "pvemock") == "root@pam"
    assert cluster.access.check_password("root@pam", "wrong") is None
    cluster.access.add_user("alice@pve", password="s3cret")
    secret = cluster.access.add_token("alice@pve", "ci")
    assert cluster.access.check_token("alice@pve", "ci", secret)
    assert not cluster.access.check_token("alice@pve", "ci", "nope")
    cluster.access.users["alice@pve"].enable = False
    assert cluster.access.check_password("alice@pve", "s3cret") is None


def test_fault_rules_match_templates_and_run_out():
    cluster = FakeCluster()
    rule = cluster.inject_error("post", "/nodes/{node}/qemu/{vmid}/status/start", 500, "boom", times=1)
    assert rule.matches("POST", "/nodes/pve1/qemu/100/status/start")
    assert not rule.matches("GET", "/nodes/pve1/qemu/100/status/start")
    rule.consume()
    assert not rule.matches("POST", "/nodes/pve1/qemu/100/status/start")


def test_hosts_cover_cluster_host_node_names_and_ips(cluster):
    assert cluster.url == "https://pve.test:8006"
    assert {"pve.test", "pve1", "192.168.100.11"} <= set(cluster.hosts)
    assert (cluster.user, cluster.password) == ("root@pam", "pvemock")


class FakeHa:
    """Stands in for the HA manager: vm:100 is an HA resource; start/stop go through HA."""

    revision = 0

    def __init__(self, cluster):
        self.cluster = cluster

    def guest_hastate(self, guest):
        return "started" if guest.vmid == 100 else None

    def guest_ha_status(self, guest):
        return {"managed": 1, "state": "started"} if guest.vmid == 100 else None

    def node_hastate(self, node):
        return "online"

    def request_guest_state(self, guest, state, authid):
        if guest.vmid != 100:
            return None
        return self.cluster.tasks.start(guest.node, "hastart" if state == "started" else "hastop", guest.vmid, authid)


def test_ha_provider_adds_hastate_only_where_it_applies(cluster):
    cluster.ha_provider = FakeHa(cluster)
    entries = {entry["id"]: entry for entry in cluster_resources(cluster)}
    assert entries["qemu/100"]["hastate"] == "started" and "hastate" not in entries["qemu/102"]
    assert entries["node/pve1"]["hastate"] == "online"
    assert guest_current_status(cluster, cluster.guest(100))["ha"] == {"managed": 1, "state": "started"}
    assert guest_current_status(cluster, cluster.guest(102))["ha"] == {"managed": 0}
    assert cluster.guest(100).stop().type == "hastop"
    assert cluster.guest(102).start().type == "qmstart"


def test_storage_can_be_removed(cluster):
    cluster.remove_storage("nas")
    assert all(entry.get("storage") != "nas" for entry in cluster_resources(cluster, "storage"))
