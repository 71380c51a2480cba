"""A node's ``suspendall`` and ``migrateall``, PVE 9's cluster-wide ``/cluster/bulk-action/guest/...`` and the
suspension to disk they use, through proxmoxer: the checks before the worker, the worker's lines, the guests' tasks
and their states afterwards.

Sources: pve-manager 14a22df35955d97dfc1af21e117dc894a29df0c9 ``PVE/API2/Nodes.pm`` (``suspendall`` 2458-2588,
``migrateall`` 2590-2793), ``PVE/API2/Cluster/BulkAction/Guest.pm``; qemu-server
e6352be67f70042a7433a3a3c712b36d02f9f7cb ``src/PVE/API2/Qemu.pm`` ``vm_suspend``, ``src/PVE/QemuServer/RunState.pm``
``vm_suspend``, ``src/PVE/QemuConfig.pm`` ``find_vmstate_storage``/``__snapshot_save_vmstate``.
"""

from __future__ import annotations

import pytest

from tests.support.clients import proxmoxer_client, refused, storage_content, task_log, wait


def state(api, node, vmid, kind="qemu"):
    status = getattr(api.nodes(node), kind)(vmid).status.current.get()
    return status["status"], status.get("lock")


def test_suspendall_hibernates_the_running_vms(pve_cluster, pve_api):
    upid = pve_api.nodes("pve1").suspendall.post()
    assert ":suspendall::root@pam:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    # highest VMID first (Nodes.pm 2545-2551); each VM by vm_suspend with todisk=1: a qmsuspend task
    assert task_log(pve_api, upid) == ["Suspending VM 101", "Suspending VM 100", "TASK OK"]
    assert state(pve_api, "pve1", 100) == ("stopped", "suspended")
    config = pve_api.nodes("pve1").qemu(100).config.get()
    # find_vmstate_storage: the VM's local disk storage; __snapshot_save_vmstate: vm-<vmid>-state-suspend-<date>
    assert config["vmstate"].startswith("local-lvm:vm-100-state-suspend-")
    assert config["vmstate"] in storage_content(pve_api, "pve1", "local-lvm")
    # a shared storage is preferred, a file-based one named .raw under the VMID
    assert pve_api.nodes("pve1").qemu(101).config.get()["vmstate"].startswith("nas:101/vm-101-state-suspend-")
    # starting a hibernated VM resumes it: the lock, vmstate and the state volume are gone
    wait(pve_api, pve_api.nodes("pve1").qemu(100).status.start.post())
    assert state(pve_api, "pve1", 100) == ("running", None)
    assert "vmstate" not in pve_api.nodes("pve1").qemu(100).config.get()
    assert config["vmstate"] not in storage_content(pve_api, "pve1", "local-lvm")


def test_suspendall_skips_containers_and_stopped_vms(pve_api):
    upid = pve_api.nodes("pve2").suspendall.post()
    # 'log_warn("skipping $vmid, only VMs can be suspended")' counts a warning; a stopped VM is only printed
    assert wait(pve_api, upid)["exitstatus"] == "WARNINGS: 1"
    assert task_log(pve_api, upid) == [
        "WARN: skipping 110, only VMs can be suspended", "VM 102 not running, skipping suspension", "TASK WARNINGS: 1",
    ]  # fmt: skip
    assert state(pve_api, "pve2", 110, "lxc") == ("running", None)


def test_suspendall_needs_powermgmt_and_config_disk(pve_cluster, pve_api):
    # Nodes.pm 2528-2535: both on '/', else VM.PowerMgmt on each VMID of 'vms'
    pve_cluster.access.add_user("op@pve", password="op-password")
    pve_api.access.acl.put(path="/", roles="PVEVMUser", users="op@pve")
    operator = proxmoxer_client(pve_cluster, "op@pve", "op-password")
    error = refused(operator.nodes("pve1").suspendall.post)
    assert error.status_code == 403 and "Permission check failed (/, VM.PowerMgmt && VM.Config.Disk)" in str(error)
    # the per-guest API call checks VM.Config.Disk: the worker warns and goes on
    upid = operator.nodes("pve1").suspendall.post(vms="100")
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert task_log(pve_api, upid) == [
        "Suspending VM 100", "Permission check failed (/vms/100, VM.Config.Disk)", "TASK OK",
    ]  # fmt: skip
    assert state(pve_api, "pve1", 100) == ("running", None)


@pytest.mark.pve_cluster(task_mode="manual")
def test_migrateall_moves_the_nodes_guests(pve_cluster, pve_api):
    upid = pve_api.nodes("pve2").migrateall.post(target="pve3", **{"max-workers": 2})
    pve_cluster.clock.advance(1)
    # the worker waits for its migrations (Nodes.pm 2775-2783)
    assert pve_api.nodes("pve2").tasks(upid).status.get()["status"] == "running"
    pve_cluster.clock.settle()
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert task_log(pve_api, upid) == [
        "Check VM 102: precondition check passed", "Migrating VM 102", "Migrating CT 110",
        "All jobs finished, used 2 workers in total.", "TASK OK",
    ]  # fmt: skip
    nodes = {row["vmid"]: row["node"] for row in pve_api.cluster.resources.get(type="vm")}
    assert nodes[102] == nodes[110] == "pve3"
    assert state(pve_api, "pve3", 110, "lxc")[0] == "running"  # a restart migration starts it again


def test_migrateall_checks_before_the_worker(pve_api):
    migrateall = pve_api.nodes("pve1").migrateall.post
    assert refused(migrateall, target="pve1", **{"max-workers": 1}).errors == {"target": "target is local node."}
    assert "no such cluster node 'pve9'" in str(refused(migrateall, target="pve9", **{"max-workers": 1}))
    # no max-workers and none in datacenter.cfg (Nodes.pm 2738-2742)
    error = refused(migrateall, target="pve2")
    assert "either 'max-workers' parameter or max_workers in datacenter.cfg must be set!" in str(error)
    pve_api.cluster.options.put(max_workers=2)
    assert ":migrateall::root@pam:" in migrateall(target="pve2", vms="9000")


def test_migrateall_skips_a_vm_whose_preconditions_fail(pve_api):
    upid = pve_api.nodes("pve1").migrateall.post(target="pve2", vms="100", **{"max-workers": 1})
    # a running VM with a local disk needs with-local-disks ($create_migrate_worker 2608-2640); none started
    assert wait(pve_api, upid)["exitstatus"] == "no migrations worker started..."
    assert task_log(pve_api, upid)[:2] == [
        "Check VM 100: skip VM 100 - precondition check failed:", "  Has local disks: local-lvm:vm-100-disk-0",
    ]  # fmt: skip
    upid = pve_api.nodes("pve1").migrateall.post(target="pve2", vms="100", **{"max-workers": 1, "with-local-disks": 1})
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert state(pve_api, "pve2", 100) == ("running", None)


@pytest.mark.pve_cluster(task_mode="manual")
def test_bulk_start_follows_the_startup_order(pve_cluster, pve_api):
    pve_api.nodes("pve2").qemu(102).config.put(startup="order=1,up=30")
    pve_api.nodes("pve3").lxc(111).config.put(startup="order=2")
    upid = pve_api.cluster("bulk-action").guest.start.post(vms=[111, 102, 100])
    pve_cluster.clock.settle()
    assert ":bulk-start::root@pam:" in upid and wait(pve_api, upid)["exitstatus"] == "WARNINGS: 1"
    # handle_task_foreach_guest: order 1 (and its 'up' wait) before order 2, unordered guests last
    assert task_log(pve_api, upid) == [
        "Starting guests: 111, 102, 100", "Starting VM 102", "Waiting for 30 seconds (startup delay)",
        "Starting CT 111", "WARN: Skipping VM 100, already running.", "TASK WARNINGS: 1",
    ]  # fmt: skip
    assert state(pve_api, "pve2", 102)[0] == state(pve_api, "pve3", 111, "lxc")[0] == "running"


def test_bulk_shutdown_and_suspend(pve_api):
    bulk = pve_api.cluster("bulk-action").guest
    upid = bulk.suspend.post(vms=[100, 110])
    assert wait(pve_api, upid)["exitstatus"] == "WARNINGS: 1"
    assert task_log(pve_api, upid)[:3] == [
        "Suspending guests: 100, 110", "Suspending VM 100", "WARN: skipping 110, only VMs can be suspended",
    ]  # fmt: skip
    assert pve_api.nodes("pve1").qemu(100).status.current.get()["qmpstatus"] == "paused"
    upid = bulk.shutdown.post(vms=[100, 102], timeout=60, **{"force-stop": 0})
    # a paused VM is skipped unless force-stop (Guest.pm 494-502); a stopped one too
    assert task_log(pve_api, upid)[:3] == [
        "Shutting down guests: 100, 102", "WARN: Skipping VM 100, resume paused VM before shutdown.",
        "WARN: Skipping VM 102, not running.",
    ]  # fmt: skip
    upid = bulk.shutdown.post(vms=[100], timeout=60)
    assert task_log(pve_api, upid)[1] == "Shutting down VM 100 (Timeout = 60 seconds)"
    assert wait(pve_api, upid)["exitstatus"] == "OK" and state(pve_api, "pve1", 100)[0] == "stopped"


def test_bulk_migrate_and_its_failures(pve_cluster, pve_api):
    bulk = pve_api.cluster("bulk-action").guest
    upid = bulk.migrate.post(target="pve3", vms=[100, 103])
    # without 'online' a running VM's migration is refused by the API call: the guest fails, the worker dies
    assert wait(pve_api, upid)["exitstatus"] == "Some guests failed to migrate 100"
    log = task_log(pve_api, upid)
    assert log[:2] == ["Migrating guests to pve3: 100, 103", "Migrating VM 100"]
    assert "WARN: VM 103 already on pve3, skipping." in log
    upid = bulk.migrate.post(target="pve3", vms=[100, 110], online=1, **{"with-local-disks": 1})
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    nodes = {row["vmid"]: row["node"] for row in pve_api.cluster.resources.get(type="vm")}
    assert nodes[100] == nodes[110] == "pve3"
    # check_guest_permissions: VM.Migrate on each VMID given, else on '/'
    pve_cluster.access.add_user("op@pve", password="op-password")
    pve_api.access.acl.put(path="/vms/101", roles="PVEVMAdmin", users="op@pve")
    operator = proxmoxer_client(pve_cluster, "op@pve", "op-password")
    guest = operator.cluster("bulk-action").guest
    assert "Permission check failed (/, VM.Migrate)" in str(refused(guest.migrate.post, target="pve2"))
    assert "(/vms/100, VM.Migrate)" in str(refused(guest.migrate.post, target="pve2", vms=[101, 100]))


REMOTE = "host=192.0.2.50,apitoken=PVEAPIToken=root@pam!migrate=5e1b6c2a-7f3d-4c1e-9a0b-2d4f6e8a0c1e"
FINGERPRINT = ",fingerprint=" + ":".join(["AB"] * 32)


def test_remote_migration_checks_then_fails_to_reach_the_remote(pve_cluster, pve_api):
    vm = pve_api.nodes("pve1").qemu(100)
    # Qemu.pm remote_migrate_vm: without a fingerprint the remote's certificates are read first
    error = refused(vm.remote_migrate.post, **{"target-endpoint": REMOTE, "target-storage": "local-lvm",
                                               "target-bridge": "vmbr0"})  # fmt: skip
    assert error.status_code == 500 and "Can't connect to 192.0.2.50:8006 (No route to host)" in str(error)
    # with one: the run state, then the maps, then the remote's /cluster/status
    params = {"target-endpoint": REMOTE + FINGERPRINT, "target-bridge": "vmbr0"}
    assert "can't migrate running VM without --online" in str(refused(vm.remote_migrate.post, **params,
                                                                      **{"target-storage": "local-lvm"}))  # fmt: skip
    error = refused(vm.remote_migrate.post, online=1, **params, **{"target-storage": "1"})
    assert "remote migration requires explicit storage mapping!" in str(error)
    error = refused(vm.remote_migrate.post, online=1, **params, **{"target-storage": "1,local"})
    assert error.errors == {
        "target-storage": "failed to parse storage map: identity mapping cannot be combined with other mappings\n"
    }
    error = refused(vm.remote_migrate.post, online=1, **params, **{"target-storage": "local-lvm:ssd"})
    assert "Can't connect to 192.0.2.50:8006 (No route to host)" in str(error)
    # LXC.pm remote_migrate_vm 1329-1333: a running CT needs online or restart, before the remote is asked
    ct = pve_api.nodes("pve2").lxc(110)
    error = refused(ct.remote_migrate.post, **{**params, "target-endpoint": params["target-endpoint"].replace(
        "192.0.2.50", "pve.remote.example"), "target-storage": "local-lvm"})  # fmt: skip
    assert "can't migrate running container without --online or --restart" in str(error)
    error = refused(ct.remote_migrate.post, restart=1, **{**params, "target-storage": "local-lvm",
                    "target-endpoint": REMOTE.replace("192.0.2.50", "pve.remote.example")})  # fmt: skip
    assert "Can't connect to pve.remote.example:8006 (Name or service not known)" in str(error)
    # nothing moved, nothing locked
    assert state(pve_api, "pve1", 100) == ("running", None)
