"""Catalogue rows (docs/behaviour.md) for errors at PVE's moment: before ``fork_worker`` the HTTP call fails,
inside the worker the POST answers a UPID and the task ends with PVE's message."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException  # noqa: E402
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)


def test_snapshot_duplicate_name_fails_in_task(pve_api):
    # pve-guest-common AbstractConfig.pm __snapshot_prepare 750-751, inside the qmsnapshot worker
    vm = pve_api.nodes("pve2").qemu(102)
    finish(pve_api, vm.snapshot.post(snapname="s1"))
    upid = vm.snapshot.post(snapname="s1")
    assert ":qmsnapshot:102:" in upid and finish(pve_api, upid)["exitstatus"] == "snapshot name 's1' already used"


def test_snapshot_of_locked_guest_fails_in_task(pve_cluster, pve_api):
    # AbstractConfig.pm __snapshot_prepare 742 check_lock, inside the vzsnapshot worker
    pve_cluster.guest(111).set_lock("backup")
    status = finish(pve_api, pve_api.nodes("pve3").lxc(111).snapshot.post(snapname="s1"))
    assert status["exitstatus"] == "CT is locked (backup)"


def test_snapshot_reserved_name_refused(pve_api):
    # qemu-server Qemu.pm snapshot 6212-6213: before the worker
    with pytest.raises(ResourceException, match=r"unable to use snapshot name 'current' \(reserved name\)") as error:
        pve_api.nodes("pve2").qemu(102).snapshot.post(snapname="current")
    assert error.value.status_code == 500


def test_delete_missing_snapshot_fails_in_task(pve_api):
    # AbstractConfig.pm snapshot_delete 930, inside the qmdelsnapshot worker
    status = finish(pve_api, pve_api.nodes("pve2").qemu(102).snapshot("nope").delete())
    assert status["exitstatus"] == "snapshot 'nope' does not exist"


def test_rollback_missing_snapshot_fails_in_task(pve_api):
    # AbstractConfig.pm snapshot_rollback 1138, inside the vzrollback worker
    status = finish(pve_api, pve_api.nodes("pve3").lxc(111).snapshot("nope").rollback.post())
    assert status["exitstatus"] == "snapshot 'nope' does not exist"


def test_rollback_of_locked_vm_fails_in_task(pve_cluster, pve_api):
    # AbstractConfig.pm snapshot_rollback 1168 check_lock, inside the qmrollback worker
    vm = pve_api.nodes("pve2").qemu(102)
    finish(pve_api, vm.snapshot.post(snapname="s1"))
    pve_cluster.guest(102).set_lock("backup")
    assert finish(pve_api, vm.snapshot("s1").rollback.post())["exitstatus"] == "VM is locked (backup)"


def test_qemu_destroy_locked_vm_fails_in_task(pve_cluster, pve_api):
    # qemu-server QemuServer.pm destroy_vm 1847-1848: the lock is checked inside the qmdestroy worker
    pve_cluster.guest(102).set_lock("backup")
    upid = pve_api.nodes("pve2").qemu(102).delete()
    assert finish(pve_api, upid)["exitstatus"] == "VM is locked (backup)"
    assert 102 in [vm["vmid"] for vm in pve_api.nodes("pve2").qemu.get()]


def test_lxc_destroy_locked_ct_refused(pve_cluster, pve_api):
    # pve-container LXC.pm destroy_vm 859-860: protection, then the lock, before the worker
    pve_cluster.guest(111).set_lock("backup")
    with pytest.raises(ResourceException, match=r"CT is locked \(backup\)") as error:
        pve_api.nodes("pve3").lxc(111).delete()
    assert error.value.status_code == 500


@pytest.mark.parametrize("kind, vmid, node", [("qemu", 102, "pve2"), ("lxc", 111, "pve3")])
def test_destroy_protected_guest_refused(pve_api, kind, vmid, node):
    # Qemu.pm destroy_vm 2829, LXC.pm destroy_vm 859; AbstractConfig.pm check_protection 389-395
    guest = getattr(pve_api.nodes(node), kind)(vmid)
    guest.config.put(protection=1)
    noun = "VM" if kind == "qemu" else "CT"
    with pytest.raises(ResourceException, match=f"can't remove {noun} {vmid} - protection mode enabled"):
        guest.delete()


def test_lxc_migrate_locked_ct_fails_in_task(pve_cluster, pve_api):
    # pve-container LXC/Migrate.pm prepare 48; pve-guest-common AbstractMigrate.pm migrate 236-242
    pve_cluster.guest(111).set_lock("backup")
    upid = pve_api.nodes("pve3").lxc(111).migrate.post(target="pve1")
    assert ":vzmigrate:111:" in upid and finish(pve_api, upid)["exitstatus"] == "migration aborted"
    assert "ERROR: migration aborted (duration 00:00:00): CT is locked (backup)" in log_of(pve_api, upid)
    assert pve_cluster.guest(111).node == "pve3" and pve_cluster.guest(111).lock == "backup"


def test_qemu_migrate_locked_vm_refused(pve_cluster, pve_api):
    # qemu-server Qemu.pm migrate_vm 5592: before the worker
    pve_cluster.guest(102).set_lock("backup")
    with pytest.raises(ResourceException, match=r"VM is locked \(backup\)"):
        pve_api.nodes("pve2").qemu(102).migrate.post(target="pve1")


def test_qemu_live_migration_with_local_disks_aborts(pve_cluster, pve_api):
    # qemu-server QemuMigrate.pm 540-544 (phase1, inside the qmigrate worker); AbstractMigrate.pm 236-242
    upid = pve_api.nodes("pve1").qemu(100).migrate.post(target="pve2", online=1)
    assert finish(pve_api, upid)["exitstatus"] == "migration aborted"
    assert pve_cluster.guest(100).node == "pve1" and pve_cluster.guest(100).lock is None
    upid = pve_api.nodes("pve1").qemu(100).migrate.post(target="pve2", online=1, **{"with-local-disks": 1})
    assert finish(pve_api, upid)["exitstatus"] == "OK" and pve_cluster.guest(100).node == "pve2"
