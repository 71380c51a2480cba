"""Catalogue rows (docs/behaviour.md, "Provisioning: reassign, clone from a snapshot, formats, destroy"): what the
remaining provisioning writes do to volumes, through a real proxmoxer client. Sources: qemu-server @e6352be6,
pve-container @94f55852, pve-storage @0c56bad8."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from support.clients import refused  # noqa: E402
from support.clients import storage_content as content  # noqa: E402
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)

GIB = 1024**3


def new_vm(api, node, vmid, **options):
    finish(api, api.nodes(node).qemu.post(vmid=vmid, **options))
    return api.nodes(node).qemu(vmid)


# ---- move_disk with target-vmid (qemu-server Qemu.pm move_vm_disk 4998-5185) -----------------------------------


def test_qemu_move_disk_reassign_to_other_vm(pve_api):
    # Qemu.pm $disk_reassignfn 5088-5150: renamed to the target's next free name, moved into its config, the source
    # loses the disk and its place in the boot order; pve-storage LvmThinPlugin.pm rename_volume
    target = new_vm(pve_api, "pve2", 130, name="spare", net0="virtio,bridge=vmbr0")
    source = pve_api.nodes("pve2").qemu(102)
    boot_before = source.config.get()["boot"]
    upid = source.move_disk.post(disk="scsi0", **{"target-vmid": 130, "target-disk": "scsi1"})
    assert ":qmmove:102-scsi0>130-scsi1:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    log = log_of(pve_api, upid)
    assert "reassign disk 'scsi0' from VM '102' as 'scsi1' to VM '130'" in log
    assert "removing disk 'scsi0' from VM '102' config" in log
    assert target.config.get()["scsi1"] == "local-lvm:vm-130-disk-0,iothread=1,size=48G"
    config = source.config.get()
    assert "scsi0" not in config and "scsi0" in boot_before and "scsi0" not in config.get("boot", "")
    assert list(content(pve_api, "pve2", "local-lvm", vmid=130)) == ["local-lvm:vm-130-disk-0"]
    assert content(pve_api, "pve2", "local-lvm", vmid=102) == {}


def test_qemu_move_disk_reassign_to_unused(pve_api):
    # Qemu.pm $disk_reassignfn 5129-5131: an unusedN target takes the bare volid
    new_vm(pve_api, "pve2", 130)
    upid = (
        pve_api.nodes("pve2").qemu(102).move_disk.post(disk="scsi0", **{"target-vmid": 130, "target-disk": "unused0"})
    )
    finish(pve_api, upid)
    assert pve_api.nodes("pve2").qemu(130).config.get()["unused0"] == "local-lvm:vm-130-disk-0"


def test_qemu_move_disk_reassign_running_source_refused(pve_api):
    # Qemu.pm $load_and_check_reassign_configs 5054-5055, before the worker (5180)
    new_vm(pve_api, "pve1", 130)
    error = refused(pve_api.nodes("pve1").qemu(100).move_disk.post, disk="scsi0", **{"target-vmid": 130})
    assert error.status_code == 500
    assert "Cannot move disk to another VM while the source VM is running - detach first" in str(error)


def test_qemu_move_disk_reassign_other_node_refused(pve_api):
    # Qemu.pm $load_and_check_reassign_configs 5007-5008
    error = refused(pve_api.nodes("pve2").qemu(102).move_disk.post, disk="scsi0", **{"target-vmid": 100})
    assert "Both VMs need to be on the same node (pve2 != pve1)" in str(error)


def test_qemu_move_disk_reassign_same_vmid_refused(pve_api):
    # Qemu.pm move_vm_disk 5176-5178
    error = refused(pve_api.nodes("pve2").qemu(102).move_disk.post, disk="scsi0", **{"target-vmid": 102})
    assert error.status_code == 400
    assert error.errors == {"target-vmid": "must be different than source VMID to reassign disk"}


def test_qemu_move_disk_storage_and_target_vmid_refused(pve_api):
    # Qemu.pm move_vm_disk 5169-5171
    error = refused(pve_api.nodes("pve2").qemu(102).move_disk.post, disk="scsi0", storage="nas", **{"target-vmid": 100})
    message = "either set 'storage' or 'target-vmid', but not both"
    assert error.status_code == 400 and error.errors == {"target-vmid": message, "storage": message}


def test_qemu_move_disk_reassign_target_disk_in_use(pve_api):
    # Qemu.pm $load_and_check_reassign_configs 5031-5032
    new_vm(pve_api, "pve2", 130, scsi0="local-lvm:1")
    error = refused(pve_api.nodes("pve2").qemu(102).move_disk.post, disk="scsi0", **{"target-vmid": 130})
    assert "Target disk key 'scsi0' is already in use for VM '130'" in str(error)


def test_qemu_move_disk_reassign_template_refused(pve_api):
    # Qemu.pm $load_and_check_reassign_configs 5015-5016
    error = refused(pve_api.nodes("pve1").qemu(9000).move_disk.post, disk="scsi0", **{"target-vmid": 100})
    assert "Can't move disks from or to template VMs" in str(error)


# ---- clone from a snapshot, formats (Qemu.pm clone_vm 4435-4488; QemuServer.pm clone_disk 8040-8047) -----------


def test_qemu_clone_from_snapshot(pve_api):
    # Qemu.pm clone_vm 4488: the copied config is the snapshot's
    vm = pve_api.nodes("pve2").qemu(102)
    finish(pve_api, vm.snapshot.post(snapname="before"))
    vm.config.put(memory=8192, scsi1="local-lvm:2")
    finish(pve_api, vm.clone.post(newid=121, snapname="before", full=1))
    config = pve_api.nodes("pve2").qemu(121).config.get()
    assert str(config["memory"]) == "4096" and "scsi1" not in config
    assert config["scsi0"] == "local-lvm:vm-121-disk-0,iothread=1,size=48G"


def test_qemu_clone_missing_snapshot_refused(pve_api):
    # Qemu.pm clone_vm 4477-4478, inside load_and_check before the worker
    error = refused(pve_api.nodes("pve2").qemu(102).clone.post, newid=121, snapname="nope")
    assert error.status_code == 500 and "snapshot 'nope' does not exist" in str(error)


def test_qemu_full_clone_format_qcow2(pve_api):
    # Qemu.pm clone_vm 4656 (format to clone_disk); QemuServer.pm resolve_dst_disk_format 8181
    finish(pve_api, pve_api.nodes("pve2").qemu(102).clone.post(newid=121, full=1, storage="nas", format="qcow2"))
    scsi0 = pve_api.nodes("pve2").qemu(121).config.get()["scsi0"]
    assert scsi0 == "nas:121/vm-121-disk-0.qcow2,iothread=1,size=48G"
    assert content(pve_api, "pve2", "nas", vmid=121)["nas:121/vm-121-disk-0.qcow2"]["format"] == "qcow2"


def test_qemu_full_clone_unsupported_format_warns(pve_api):
    # QemuServer.pm clone_disk 8044-8047: LVM-thin takes raw only; the task warns and uses raw
    upid = pve_api.nodes("pve2").qemu(102).clone.post(newid=121, full=1, format="qcow2")
    assert finish(pve_api, upid)["exitstatus"] == "WARNINGS: 1"
    expected = "WARN: format 'qcow2' is not supported by the target storage 'local-lvm' - using 'raw' instead"
    assert expected in log_of(pve_api, upid)
    assert pve_api.nodes("pve2").qemu(121).config.get()["scsi0"].startswith("local-lvm:vm-121-disk-0,")


def test_qemu_linked_clone_with_format_refused(pve_api):
    # Qemu.pm clone_vm 4485-4486
    error = refused(pve_api.nodes("pve1").qemu(9000).clone.post, newid=121, format="qcow2")
    assert "parameter 'format' not allowed for linked clones" in str(error)


def test_qemu_full_clone_keeps_source_format(pve_api):
    # QemuServer.pm resolve_dst_disk_format 8184-8187: without 'format' the source's format is the hint
    finish(pve_api, pve_api.nodes("pve1").qemu(9000).clone.post(newid=120))
    finish(pve_api, pve_api.nodes("pve1").qemu(120).clone.post(newid=121, full=1))
    assert pve_api.nodes("pve1").qemu(121).config.get()["scsi0"].startswith("nas:121/vm-121-disk-0.qcow2,")


# ---- destroy (Qemu.pm destroy_vm 2815-2882; QemuServer.pm destroy_vm 1839-1916; pve-container LXC.pm 1024) ------


def test_qemu_destroy_frees_volumes(pve_api):
    # QemuServer.pm destroy_vm 1873-1896: the disks the config names are freed; the storage's usage shrinks
    before = next(r for r in pve_api.nodes("pve2").storage.get() if r["storage"] == "local-lvm")["used"]
    finish(pve_api, pve_api.nodes("pve2").qemu(102).delete())
    assert content(pve_api, "pve2", "local-lvm", vmid=102) == {}
    after = next(r for r in pve_api.nodes("pve2").storage.get() if r["storage"] == "local-lvm")["used"]
    assert after == before - 48 * GIB


def test_qemu_destroy_template_with_linked_clones_fails_in_task(pve_api):
    # QemuServer.pm destroy_vm 1851-1871 (PVE's message says 'cloned'), inside the qmdestroy worker
    finish(pve_api, pve_api.nodes("pve1").qemu(9000).clone.post(newid=120))
    upid = pve_api.nodes("pve1").qemu(9000).delete()
    expected = "base volume 'nas:9000/base-9000-disk-0.raw' is still in use by linked cloned"
    assert finish(pve_api, upid)["exitstatus"] == expected
    assert pve_api.nodes("pve1").qemu(9000).config.get()["template"] == 1


def test_qemu_destroy_keeps_unreferenced_images(pve_api):
    # QemuServer.pm destroy_vm 1907: images of the VMID no config names stay without 'destroy-unreferenced-disks'
    volid = pve_api.nodes("pve2").storage("local-lvm").content.post(vmid=102, filename="vm-102-disk-5", size="1G")
    finish(pve_api, pve_api.nodes("pve2").qemu(102).delete())
    assert list(content(pve_api, "pve2", "local-lvm", vmid=102)) == [volid]


def test_destroy_unreferenced_disks_removes_them(pve_api):
    # QemuServer.pm destroy_vm 1907-1916; pve-container LXC.pm destroy_lxc_container 1042-1050
    storage = pve_api.nodes("pve3").storage("local-lvm")
    storage.content.post(vmid=111, filename="vm-111-disk-5", size="1G")
    finish(pve_api, pve_api.nodes("pve3").lxc(111).delete(**{"destroy-unreferenced-disks": 1}))
    assert content(pve_api, "pve3", "local-lvm", vmid=111) == {}


def test_destroy_purge_logs_related_configurations(pve_api):
    # Qemu.pm destroy 2874-2875; pve-container LXC.pm destroy 909
    upid = pve_api.nodes("pve2").qemu(102).delete(purge=1)
    assert "purging VM 102 from related configurations.." in log_of(pve_api, upid)
    upid = pve_api.nodes("pve3").lxc(111).delete(purge=1)
    assert "purging CT 111 from related configurations.." in log_of(pve_api, upid)
