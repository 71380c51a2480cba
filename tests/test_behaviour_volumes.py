"""Catalogue rows (docs/behaviour.md) for templates, clones, resize, move and unlink: what each does to volumes
and configs, and where PVE refuses (before the worker: the HTTP call fails; inside: the task fails)."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from support.clients import refused  # noqa: E402
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)

GIB = 1024**3


def volids(api, node, storage, vmid):
    return sorted(row["volid"] for row in api.nodes(node).storage(storage).content.get(vmid=vmid))


def test_qemu_template_sets_flag_and_base_volumes(pve_api):
    # qemu-server Qemu.pm template 6579-6587; QemuServer.pm template_create 7886; LvmThinPlugin.pm create_base 339
    vm = pve_api.nodes("pve2").qemu(102)
    upid = vm.template.post()
    assert ":qmtemplate:102:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    config = vm.config.get()
    assert config["template"] == 1 and config["scsi0"] == "local-lvm:base-102-disk-0,iothread=1,size=48G"
    assert volids(pve_api, "pve2", "local-lvm", 102) == ["local-lvm:base-102-disk-0"]


def test_qemu_template_of_running_vm_refused(pve_api):
    # Qemu.pm template 6567-6568, load_and_check before fork_worker
    error = refused(pve_api.nodes("pve1").qemu(100).template.post)
    assert error.status_code == 500 and "you can't convert a VM to template if VM is running" in str(error)


def test_qemu_template_of_template_refused(pve_api):
    # Qemu.pm template 6564-6565
    error = refused(pve_api.nodes("pve1").qemu(9000).template.post)
    assert error.status_code == 500 and "you can't convert a template to a template" in str(error)


def test_qemu_template_with_snapshots_refused(pve_api):
    # Qemu.pm template 6561-6562
    vm = pve_api.nodes("pve2").qemu(102)
    finish(pve_api, vm.snapshot.post(snapname="before"))
    error = refused(vm.template.post)
    assert "unable to create template, because VM contains snapshots" in str(error)


def test_qemu_template_of_locked_vm_refused(pve_cluster, pve_api):
    # Qemu.pm template 6558 check_lock; pve-guest-common AbstractConfig.pm check_lock 336
    pve_cluster.guest(102).set_lock("backup")
    error = refused(pve_api.nodes("pve2").qemu(102).template.post)
    assert error.status_code == 500 and "VM is locked (backup)" in str(error)


def test_lxc_template_base_volume(pve_api):
    # pve-container LXC.pm template 1870-1874 (template_create renames to base-)
    ct = pve_api.nodes("pve3").lxc(111)
    assert ct.template.post() is None  # LXC.pm template 1843: returns null, the vztemplate task runs
    tasks = pve_api.nodes("pve3").tasks.get(vmid=111, typefilter="vztemplate")
    assert [task["status"] for task in tasks] == ["OK"]
    config = ct.config.get()
    assert config["template"] == 1 and config["rootfs"] == "local-lvm:base-111-disk-0,size=8G"


def test_lxc_template_of_running_ct_refused(pve_api):
    # pve-container LXC.pm template 1866-1867, before fork_worker
    error = refused(pve_api.nodes("pve2").lxc(110).template.post)
    assert error.status_code == 500 and "you can't convert a CT to template if the CT is running" in str(error)


def test_qemu_linked_clone_file_storage(pve_api):
    # Qemu.pm clone_vm 4480 (linked by default from a template); Plugin.pm clone_image 1002-1046, list_images 1666
    upid = pve_api.nodes("pve1").qemu(9000).clone.post(newid=120, name="linked")
    assert ":qmclone:9000:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    scsi0 = pve_api.nodes("pve1").qemu(120).config.get()["scsi0"]
    assert scsi0 == "nas:9000/base-9000-disk-0.raw/120/vm-120-disk-0.qcow2,iothread=1,size=16G"
    rows = {row["volid"]: row for row in pve_api.nodes("pve1").storage("nas").content.get(vmid=120)}
    row = rows["nas:9000/base-9000-disk-0.raw/120/vm-120-disk-0.qcow2"]
    assert row["format"] == "qcow2" and row["parent"] == "../9000/base-9000-disk-0.raw"


def test_qemu_linked_clone_lvmthin(pve_api):
    # LvmThinPlugin.pm clone_image 311-318: a thin snapshot named vm-VMID-disk-N
    finish(pve_api, pve_api.nodes("pve2").qemu(102).template.post())
    finish(pve_api, pve_api.nodes("pve2").qemu(102).clone.post(newid=120))
    assert pve_api.nodes("pve2").qemu(120).config.get()["scsi0"] == "local-lvm:vm-120-disk-0,iothread=1,size=48G"


def test_qemu_linked_clone_of_non_template_refused(pve_api):
    # Qemu.pm clone_vm 4560-4570; pve-storage LvmThinPlugin.pm volume_has_feature 413 (clone only from base)
    error = refused(pve_api.nodes("pve2").qemu(102).clone.post, newid=120, full=0)
    assert error.status_code == 500
    assert "Linked clone feature is not supported for 'local-lvm:vm-102-disk-0' (scsi0)" in str(error)
    assert 120 not in [vm["vmid"] for vm in pve_api.nodes("pve2").qemu.get()]


def test_qemu_full_clone_to_storage(pve_api):
    # Qemu.pm clone_vm 4454-4458, 4655 (the target storage of a full copy)
    finish(pve_api, pve_api.nodes("pve2").qemu(102).clone.post(newid=120, full=1, storage="nas"))
    assert pve_api.nodes("pve2").qemu(120).config.get()["scsi0"] == "nas:120/vm-120-disk-0.raw,iothread=1,size=48G"
    assert volids(pve_api, "pve2", "nas", 120) == ["nas:120/vm-120-disk-0.raw"]


def test_qemu_linked_clone_with_storage_refused(pve_api):
    # Qemu.pm clone_vm 4482-4483
    error = refused(pve_api.nodes("pve1").qemu(9000).clone.post, newid=120, storage="local-lvm")
    assert error.status_code == 500 and "parameter 'storage' not allowed for linked clones" in str(error)


def test_qemu_clone_to_other_node_from_local_storage_refused(pve_api):
    # Qemu.pm clone_vm 4498-4499
    error = refused(pve_api.nodes("pve2").qemu(102).clone.post, newid=120, target="pve1")
    assert error.status_code == 500 and "can't clone VM to node 'pve1' (VM uses local storage)" in str(error)


def test_lxc_full_clone_of_running_ct_refused(pve_api):
    # pve-container LXC.pm clone_vm 2085-2089
    error = refused(pve_api.nodes("pve2").lxc(110).clone.post, newid=320, full=1)
    assert "Full clone of a running container is only possible from a snapshot" in str(error)


def test_qemu_resize_grows(pve_api):
    # Qemu.pm resize_vm 6042-6068: size= grows in the config, the storage counts it
    vm = pve_api.nodes("pve2").qemu(102)
    upid = vm.resize.put(disk="scsi0", size="+2G")
    assert ":resize:102:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert vm.config.get()["scsi0"] == "local-lvm:vm-102-disk-0,iothread=1,size=50G"
    content = pve_api.nodes("pve2").storage("local-lvm").content.get(vmid=102)
    assert [row["size"] for row in content] == [50 * GIB]


def test_qemu_resize_shrink_fails_in_task(pve_api):
    # Qemu.pm resize_vm 6048: inside the worker, the POST answers a UPID
    vm = pve_api.nodes("pve2").qemu(102)
    status = finish(pve_api, vm.resize.put(disk="scsi0", size="10G"))
    assert status["exitstatus"] == "shrinking disks is not supported"
    assert vm.config.get()["scsi0"].endswith("size=48G")


def test_qemu_resize_missing_disk_fails_in_task(pve_api):
    # Qemu.pm resize_vm 6012: inside the worker
    status = finish(pve_api, pve_api.nodes("pve2").qemu(102).resize.put(disk="scsi9", size="+1G"))
    assert status["exitstatus"] == "disk 'scsi9' does not exist"


def test_lxc_resize_grows(pve_api):
    # pve-container LXC.pm resize_vm 2413-2417
    ct = pve_api.nodes("pve3").lxc(111)
    finish(pve_api, ct.resize.put(disk="rootfs", size="+1G"))
    assert ct.config.get()["rootfs"] == "local-lvm:vm-111-disk-0,size=9G"


def test_lxc_resize_shrink_refused(pve_api):
    # pve-container LXC.pm resize_vm 2400, early checks 2470 before fork_worker
    error = refused(pve_api.nodes("pve3").lxc(111).resize.put, disk="rootfs", size="4G")
    assert error.status_code == 500 and "unable to shrink disk size" in str(error)


def test_lxc_resize_same_size_refused(pve_api):
    # pve-container LXC.pm resize_vm 2402
    error = refused(pve_api.nodes("pve3").lxc(111).resize.put, disk="rootfs", size="8G")
    assert "disk is already at specified size" in str(error)


def test_qemu_move_disk_keeps_source_unused(pve_api):
    # Qemu.pm move_vm_disk 4905-4960: new volume on the target, the source as unusedN unless delete
    vm = pve_api.nodes("pve2").qemu(102)
    upid = vm.move_disk.post(disk="scsi0", storage="nas")
    assert ":qmmove:102:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    config = vm.config.get()
    assert config["scsi0"] == "nas:102/vm-102-disk-0.raw,iothread=1,size=48G"
    assert config["unused0"] == "local-lvm:vm-102-disk-0"
    assert "adding source volume 'local-lvm:vm-102-disk-0' as 'unused0' to config" in log_of(pve_api, upid)
    assert volids(pve_api, "pve2", "local-lvm", 102) == ["local-lvm:vm-102-disk-0"]


def test_qemu_move_disk_delete_source(pve_api):
    # Qemu.pm move_vm_disk 4990-4995
    vm = pve_api.nodes("pve2").qemu(102)
    upid = vm.move_disk.post(disk="scsi0", storage="nas", delete=1)
    finish(pve_api, upid)
    assert "unused0" not in vm.config.get() and volids(pve_api, "pve2", "local-lvm", 102) == []
    assert "removing source volume 'local-lvm:vm-102-disk-0' after successful copy" in log_of(pve_api, upid)


def test_qemu_move_disk_same_storage_refused(pve_api):
    # Qemu.pm move_vm_disk 4879-4880, early checks 5193 before fork_worker
    error = refused(pve_api.nodes("pve2").qemu(102).move_disk.post, disk="scsi0", storage="local-lvm")
    assert error.status_code == 500 and "you can't move to the same storage with same format" in str(error)


def test_qemu_move_disk_without_target_refused(pve_api):
    # Qemu.pm move_vm_disk 5201-5202
    error = refused(pve_api.nodes("pve2").qemu(102).move_disk.post, disk="scsi0")
    assert error.status_code == 400 and set(error.errors) == {"storage", "target-vmid"}


def test_lxc_move_volume(pve_api):
    # pve-container LXC.pm move_volume: the mount point on the target storage, the source kept as unusedN
    ct = pve_api.nodes("pve3").lxc(111)
    upid = ct.move_volume.post(volume="rootfs", storage="nas")
    assert ":move_volume:111:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    config = ct.config.get()
    assert config["rootfs"] == "nas:111/vm-111-disk-0.raw,size=8G" and config["unused0"] == "local-lvm:vm-111-disk-0"


def test_qemu_unlink_keeps_unused(pve_api):
    # Qemu.pm unlink 2925-2928 (update_vm with delete=idlist): the volume stays as unusedN
    vm = pve_api.nodes("pve2").qemu(102)
    vm.unlink.put(idlist="scsi0")
    config = vm.config.get()
    assert "scsi0" not in config and config["unused0"] == "local-lvm:vm-102-disk-0"
    assert volids(pve_api, "pve2", "local-lvm", 102) == ["local-lvm:vm-102-disk-0"]


def test_qemu_unlink_force_removes_volume(pve_api):
    # Qemu.pm unlink with force: vmconfig_delete_or_detach_drive destroys the volume
    vm = pve_api.nodes("pve2").qemu(102)
    vm.unlink.put(idlist="scsi0", force=1)
    assert "unused0" not in vm.config.get() and volids(pve_api, "pve2", "local-lvm", 102) == []


def test_qemu_delete_unused_removes_volume(pve_api):
    # Qemu.pm update_vm -> vmconfig_delete_pending_option: deleting unusedN frees the volume
    vm = pve_api.nodes("pve2").qemu(102)
    vm.config.put(delete="scsi0")
    assert vm.config.get()["unused0"] == "local-lvm:vm-102-disk-0"
    vm.config.put(delete="unused0")
    assert volids(pve_api, "pve2", "local-lvm", 102) == []


@pytest.mark.parametrize("kind, vmid, node", [("qemu", 102, "pve2"), ("lxc", 111, "pve3")])
def test_config_delete_unknown_option(pve_api, kind, vmid, node):
    # Qemu.pm update_vm 2142-2144; pve-container API2/LXC/Config.pm 195-196: a parameter error
    guest = getattr(pve_api.nodes(node), kind)(vmid)
    error = refused(guest.config.put, delete="bogus")
    assert error.status_code == 400 and error.errors == {"delete": "unknown option 'bogus'"}
