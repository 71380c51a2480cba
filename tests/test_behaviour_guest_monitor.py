"""A VM's QEMU monitor and keys sent to it, answered from the VM's state; the dbus-vmstate helper and the node's
migration capabilities.

qemu-server at e6352be6: ``monitor`` src/PVE/API2/Qemu.pm 5869-5934 with src/PVE/API2/Qemu/HMPPerms.pm (9.x;
8.x: ``Sys.Modify`` on ``/`` for anything but ``info``/``help``, Qemu.pm at 8d2da313^); ``sendkey`` Qemu.pm
4214-4256 and src/PVE/QemuServer.pm ``vm_sendkey`` 6401-6415; ``dbus-vmstate`` Qemu.pm 7297-7340;
src/PVE/API2/NodeCapabilities/Qemu/Migration.pm. QEMU: monitor/hmp-cmds.c, ui/ui-hmp-cmds.c ``hmp_sendkey``.
"""

from __future__ import annotations

import pytest

from tests.support.clients import proxmoxer_client, refused


@pytest.fixture
def cluster(pve_cluster_factory):
    return pve_cluster_factory(validate=True, task_mode="manual")


def vm_of(cluster, node="pve1", vmid=100, **login):
    return proxmoxer_client(cluster, **login).nodes(node).qemu(vmid)


def auditor_of(cluster):
    """A user who audits everything and administers VMs (no Sys.Modify), as root sets one up."""
    root = proxmoxer_client(cluster)
    root.access.users.post(userid="auditor@pve", password="auditor-pass")
    root.access.acl.put(path="/", roles="PVEAuditor", users="auditor@pve")
    root.access.acl.put(path="/vms", roles="PVEVMAdmin", users="auditor@pve")
    return vm_of(cluster, user="auditor@pve", password="auditor-pass")


def test_info_commands_answer_from_the_vms_state(cluster):
    vm = vm_of(cluster)
    assert vm.monitor.post(command="info status") == "VM status: running\r\n"
    assert vm.monitor.post(command="info name") == "web01\r\n"
    cpus = vm.monitor.post(command="info cpus").splitlines()
    assert len(cpus) == cluster.guest(100).maxcpu and cpus[0].startswith("* CPU #0: thread_id=")
    assert vm.monitor.post(command="info version").startswith(vm.status.current.get()["running-qemu"])
    assert vm.monitor.post(command="info nosuch") == "unknown command: 'info nosuch'\r\n"
    vm.status.suspend.post()
    cluster.clock.settle()
    assert vm.monitor.post(command="info status") == "VM status: paused\r\n"
    assert vm_of(cluster, "pve2", 102).monitor.post(command="info status") == "ERROR: VM 102 not running\n"


def test_run_control_commands_change_the_vm(cluster):
    vm = vm_of(cluster)
    assert vm.monitor.post(command="stop") == ""
    assert vm.status.current.get()["qmpstatus"] == "paused"
    vm.monitor.post(command="cont")
    assert vm.status.current.get()["qmpstatus"] == "running"
    # softmmu/runstate.c qemu_system_wakeup_request: only a suspended guest wakes
    assert vm.monitor.post(command="system_wakeup") == "Error: Unable to wake up: guest is not in suspended state\r\n"
    vm.monitor.post(command="system_powerdown")
    cluster.clock.advance(4)
    assert vm.status.current.get()["status"] == "stopped"


def test_non_info_commands_need_the_privileges_pves_table_names(cluster):
    vm = auditor_of(cluster)
    assert vm.monitor.post(command="info status") == "VM status: running\r\n"  # 'none'
    error = refused(vm.monitor.post, command="stop")  # Sys.Modify on /
    assert (error.status_code, error.content) == (403, "Permission check failed (/, Sys.Modify)")
    error = refused(vm.monitor.post, command="device_add virtio-net-pci")
    assert (error.status_code, error.content) == (500, "root-only command 'device_add'")
    error = refused(vm.monitor.post, command="frobnicate")
    assert error.content == (
        "command 'frobnicate' non-existent or not assigned a required permission yet, limiting to root user"
    )
    assert vm_of(cluster).monitor.post(command="frobnicate") == "unknown command: 'frobnicate'\r\n"  # root: QEMU says


def test_sendkey_checks_the_key_and_wakes_a_sleeping_guest(cluster):
    guest = cluster.guest(100)
    guest.config["agent"] = "1"
    vm = vm_of(cluster)
    vm.agent("suspend-ram").post()  # no S3 on machine 10.1+pve0: the guest suspends to idle
    assert refused(vm.agent.ping.post).content == "QEMU guest agent is not running"
    assert vm.sendkey.put(key="shift") is None
    assert vm.agent.ping.post() == {"result": {}}
    error = refused(vm.sendkey.put, key="ctrl-nosuchkey")
    assert (error.status_code, error.content) == (500, "invalid parameter: nosuchkey")
    error = refused(vm_of(cluster, "pve2", 102).sendkey.put, key="ret")
    assert (error.status_code, error.content) == (500, "VM 102 not running")


def test_dbus_vmstate_runs_for_a_vm_running_on_that_node(cluster):
    assert vm_of(cluster)("dbus-vmstate").post(action="start") is None
    assert cluster.dbus_vmstate_helpers == {100}
    vm_of(cluster)("dbus-vmstate").post(action="stop")
    assert cluster.dbus_vmstate_helpers == set()
    error = refused(vm_of(cluster, "pve2", 102)("dbus-vmstate").post, action="start")
    assert (error.status_code, error.errors) == (400, {"node": "VM 102 not running locally on node 'pve2'"})
    capabilities = proxmoxer_client(cluster).nodes("pve1").capabilities.qemu.migration.get()
    assert capabilities == {"has-dbus-vmstate": True}


def test_a_containers_features_follow_its_volumes_storages(cluster):
    # pve-container src/PVE/LXC/Config.pm has_feature 88-113 at 94f55852; pve-storage Plugin.pm 1603-1609
    ct = proxmoxer_client(cluster).nodes("pve2").lxc(110)  # rootfs on local-lvm (LVM-thin)
    has = {feature: ct.feature.get(feature=feature)["hasFeature"] for feature in ("snapshot", "clone", "copy")}
    assert has == {"snapshot": 1, "clone": 0, "copy": 1}  # a thin volume clones from a base or a snapshot only
    ct.snapshot.post(snapname="before-upgrade")
    cluster.clock.settle()
    assert ct.feature.get(feature="clone", snapname="before-upgrade") == {"hasFeature": 1}
    error = refused(ct.feature.get, feature="clone", snapname="nosuch")
    assert (error.status_code, error.content) == (500, "snapshot 'nosuch' does not exist")
    ct.config.put(mp0="/srv/data,mp=/data")  # a bind mount: no volume, no feature
    assert ct.feature.get(feature="snapshot") == {"hasFeature": 0}
