"""End to end: a real proxmoxer client against ``pve_cluster``, as a downstream project would use it."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException  # noqa: E402
from proxmoxer.tools import Tasks  # noqa: E402
from support.clients import wait  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)


def resources_by_id(api, kind=None):
    rows = api.cluster.resources.get(type=kind) if kind else api.cluster.resources.get()
    return {row["id"]: row for row in rows}


def test_login_and_list_what_the_cluster_holds(pve_api):
    assert pve_api.version.get()["release"] == "9.1"
    assert [node["node"] for node in sorted(pve_api.nodes.get(), key=lambda n: n["node"])] == ["pve1", "pve2", "pve3"]
    vms = {vm["vmid"]: vm for vm in pve_api.nodes("pve1").qemu.get()}
    assert set(vms) == {100, 101, 9000}
    assert vms[100]["status"] == "running" and "pid" in vms[100] and "pid" not in vms[9000]
    assert vms[9000]["template"] == 1


def test_start_poll_the_task_and_read_back_resources(pve_api):
    upid = pve_api.nodes("pve2").qemu(102).status.start.post()
    assert upid.startswith("UPID:pve2:") and ":qmstart:102:root@pam:" in upid
    status = Tasks.blocking_status(pve_api, upid)  # proxmoxer's own polling, unchanged
    assert status["status"] == "stopped" and status["exitstatus"] == "OK"
    entry = resources_by_id(pve_api, "vm")["qemu/102"]
    assert entry["status"] == "running" and entry["uptime"] >= 0 and entry["mem"] > 0
    current = pve_api.nodes("pve2").qemu(102).status.current.get()
    assert current["qmpstatus"] == "running" and current["pid"] > 0


def test_stop_a_running_vm(pve_api):
    upid = pve_api.nodes("pve1").qemu(100).status.stop.post()
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    entry = resources_by_id(pve_api, "vm")["qemu/100"]
    assert entry["status"] == "stopped" and entry["cpu"] == 0 and entry["uptime"] == 0


def test_starting_a_running_vm_fails_in_its_task(pve_api):
    upid = pve_api.nodes("pve1").qemu(100).status.start.post()
    status = wait(pve_api, upid)
    assert status["exitstatus"] == "VM 100 already running"
    log = pve_api.nodes("pve1").tasks(upid).log.get()
    assert log[-1]["t"] == "TASK ERROR: VM 100 already running"


def test_migrate_moves_the_vm_and_every_view_agrees(pve_api):
    upid = pve_api.nodes("pve2").qemu(102).migrate.post(target="pve3")
    assert ":qmigrate:102:" in upid
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert resources_by_id(pve_api, "vm")["qemu/102"]["node"] == "pve3"
    assert 102 in {vm["vmid"] for vm in pve_api.nodes("pve3").qemu.get()}
    assert 102 not in {vm["vmid"] for vm in pve_api.nodes("pve2").qemu.get()}
    with pytest.raises(ResourceException) as error:
        pve_api.nodes("pve2").qemu(102).status.current.get()
    assert error.value.status_code == 500
    assert "Configuration file 'nodes/pve2/qemu-server/102.conf' does not exist" in str(error.value)


@pytest.mark.pve_cluster(task_mode="manual", validate=True)
def test_migration_is_observable_step_by_step(pve_cluster, pve_api):
    upid = pve_api.nodes("pve2").qemu(102).migrate.post(target="pve1")
    assert pve_api.nodes("pve2").tasks(upid).status.get()["status"] == "running"
    assert resources_by_id(pve_api, "vm")["qemu/102"]["lock"] == "migrate"
    pve_cluster.clock.settle()
    status = pve_api.nodes("pve2").tasks(upid).status.get()
    assert status["status"] == "stopped" and status["exitstatus"] == "OK"
    entry = resources_by_id(pve_api, "vm")["qemu/102"]
    assert entry["node"] == "pve1" and "lock" not in entry


def test_clone_a_template_and_find_the_copy(pve_api):
    newid = int(pve_api.cluster.nextid.get())
    upid = pve_api.nodes("pve1").qemu(9000).clone.post(newid=newid, name="ci-runner")
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    config = pve_api.nodes("pve1").qemu(newid).config.get()
    assert config["name"] == "ci-runner" and "template" not in config and len(config["digest"]) == 40
    assert config["net0"].startswith("virtio=BC:24:11:")
    assert resources_by_id(pve_api, "vm")[f"qemu/{newid}"]["template"] == 0


def test_config_update_with_digest_and_delete(pve_api):
    vm = pve_api.nodes("pve2").qemu(102)
    digest = vm.config.get()["digest"]
    assert vm.config.put(cores=6, description="resized", digest=digest) is None
    config = vm.config.get()
    assert config["cores"] == 6 and config["digest"] != digest
    with pytest.raises(ResourceException, match="checksum mismatch"):
        vm.config.put(cores=2, digest=digest)
    upid = vm.config.post(delete="description")
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert "description" not in vm.config.get()


def test_containers_start_stop_and_refuse_double_start(pve_api):
    ct = pve_api.nodes("pve3").lxc(111)
    upid = ct.status.start.post()
    assert ":vzstart:111:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    with pytest.raises(ResourceException, match="CT 111 already running"):
        ct.status.start.post()
    assert ct.status.current.get()["status"] == "running"
    wait(pve_api, ct.status.shutdown.post())
    assert ct.status.current.get()["status"] == "stopped"


def test_create_and_destroy_a_vm(pve_api):
    upid = pve_api.nodes("pve1").qemu.post(
        vmid=555, name="fresh", memory="1024", cores=1, net0="virtio,bridge=vmbr0", scsi0="local-lvm:8"
    )
    assert ":qmcreate:555:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    config = pve_api.nodes("pve1").qemu(555).config.get()
    assert config["scsi0"] == "local-lvm:vm-555-disk-0,size=8G" and "BC:24:11" in config["net0"]
    upid = pve_api.nodes("pve1").qemu(555).delete()
    assert ":qmdestroy:555:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    assert "qemu/555" not in resources_by_id(pve_api, "vm")


def test_snapshots(pve_api):
    vm = pve_api.nodes("pve2").qemu(102)
    wait(pve_api, vm.snapshot.post(snapname="pre", description="before"))
    rows = {row["name"]: row for row in vm.snapshot.get()}
    assert rows["current"]["parent"] == "pre" and rows["current"]["description"] == "You are here!"
    assert rows["pre"]["description"] == "before" and "snaptime" in rows["pre"]
    wait(pve_api, vm.snapshot("pre").delete())
    assert [row["name"] for row in vm.snapshot.get()] == ["current"]


def test_offline_node_and_lost_quorum(pve_cluster, pve_api):
    pve_cluster.set_node_online("pve3", False)
    with pytest.raises(ResourceException) as error:
        pve_api.nodes("pve3").qemu.get()
    assert error.value.status_code == 595
    node = resources_by_id(pve_api, "node")["node/pve3"]
    assert node["status"] == "offline" and "uptime" not in node
    assert resources_by_id(pve_api, "vm")["qemu/103"]["status"] == "unknown"
    pve_cluster.set_node_online("pve2", False)
    with pytest.raises(ResourceException, match=r"cluster not ready - no quorum\?"):
        pve_api.nodes("pve1").qemu(100).status.stop.post()


def test_tasks_list_storage_and_pools(pve_api):
    wait(pve_api, pve_api.nodes("pve2").qemu(102).status.start.post())
    tasks = pve_api.nodes("pve2").tasks.get()
    assert tasks[0]["type"] == "qmstart" and tasks[0]["status"] == "OK" and "endtime" in tasks[0]
    storages = {row["storage"]: row for row in pve_api.nodes("pve1").storage.get()}
    assert storages["nas"]["shared"] == 1 and 0 < storages["nas"]["used"] < storages["nas"]["total"]
    content = pve_api.nodes("pve1").storage("local-lvm").content.get()
    assert "local-lvm:vm-100-disk-0" in {row["volid"] for row in content}
    pools = pve_api.pools.get()
    assert pools == [{"poolid": "prod", "comment": "Production services"}]
    members = {member["id"] for member in pve_api.pools("prod").get()["members"]}
    assert members == {"qemu/100", "qemu/101", "lxc/110"}
    pve_api.pools.post(poolid="test", comment="scratch")
    pve_api.pools("test").put(vms="102")
    assert resources_by_id(pve_api, "vm")["qemu/102"]["pool"] == "test"


def test_cluster_status_nextid_and_pve8_shapes(pve_cluster_factory):
    from proxmoxer import ProxmoxAPI

    cluster = pve_cluster_factory(version="8.4", validate=True)
    api = ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    assert api.version.get()["version"] == "8.4.2"  # 8.4 is its last release
    status = api.cluster.status.get()
    assert status[0]["type"] == "cluster" and status[0]["quorate"] == 1
    assert api.cluster.nextid.get() == "104"
    sdn = api.cluster.resources.get(type="sdn")
    assert sdn[0]["type"] == "sdn" and sdn[0]["id"].startswith("sdn/")
    # an integer since pve-container 5.0.10 (81aa4bd "config list helper: fix return type of vmid", PVE 8.2);
    # strings before (tests/test_api_release_feature_table.py)
    assert {row["vmid"] for row in api.nodes("pve2").lxc.get()} == {110}


def test_injected_error_reaches_the_client(pve_cluster, pve_api):
    pve_cluster.inject_error("POST", "/nodes/{node}/qemu/{vmid}/status/start", 500, "storage offline")
    with pytest.raises(ResourceException, match="storage offline"):
        pve_api.nodes("pve2").qemu(102).status.start.post()
    assert pve_api.nodes("pve2").qemu(102).status.start.post().startswith("UPID:")
