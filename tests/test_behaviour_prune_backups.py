"""Catalogue rows (docs/behaviour.md, "Pruning backups"): pve-storage ``src/PVE/API2/Storage/PruneBackups.pm``
``delete`` 117-195, ``src/PVE/Storage.pm`` ``prune_backups`` 1980-1996 and ``src/PVE/Storage/Plugin.pm``
``prune_backups`` at 0c56bad8, through proxmoxer."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from support.clients import refused  # noqa: E402
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)
DAY = 86400


@pytest.fixture
def nightly(pve_cluster):
    """Five nightly backups of VM 100 (on pve1) and two of container 110 (on pve2) on each node's 'local', VM 100's
    oldest protected."""
    midnight = pve_cluster.clock.now() // DAY * DAY
    vm = [pve_cluster.add_backup("local", 100, ctime=midnight - night * DAY + 3600) for night in range(5)]
    vm[-1].protected = True
    ct = [pve_cluster.add_backup("local", 110, ctime=midnight - night * DAY + 7200) for night in range(2)]
    return [volume.volid for volume in vm], [volume.volid for volume in ct]


def backup_volids(api, node):
    return sorted(row["volid"] for row in api.nodes(node).storage("local").content.get(content="backup"))


def test_prunebackups_removes_what_the_retention_does_not_keep(pve_api, nightly):
    # PruneBackups.pm delete 177-193: a 'prunebackups' task, id 'VMID@STORAGE'; Plugin.pm prune_backups logs each
    # removal ("removing backup '<volid>'") and leaves protected backups
    vm, ct = nightly
    upid = pve_api.nodes("pve1").storage("local").prunebackups.delete(vmid=100, **{"prune-backups": "keep-last=2"})
    assert ":prunebackups:100@local:root@pam:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert [line for line in log_of(pve_api, upid) if line.startswith("removing")] == [
        f"removing backup '{volid}'" for volid in sorted(vm[2:4])
    ]
    assert backup_volids(pve_api, "pve1") == sorted([*vm[:2], vm[4]])  # the protected one stays
    assert backup_volids(pve_api, "pve2") == sorted(ct)
    upid = pve_api.nodes("pve2").storage("local").prunebackups.delete(type="qemu", **{"prune-backups": "keep-last=1"})
    assert finish(pve_api, upid)["exitstatus"] == "OK" and backup_volids(pve_api, "pve2") == sorted(ct)  # not qemu
    upid = pve_api.nodes("pve2").storage("local").prunebackups.delete(**{"prune-backups": "keep-last=1"})
    assert ":prunebackups:local:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert backup_volids(pve_api, "pve2") == [ct[0]]


def test_prunebackups_failures_are_the_tasks(pve_api, pve_cluster):
    # Storage.pm prune_backups 1983-1989 runs inside the worker: no backup content, no retention configured
    node = pve_api.nodes("pve1")
    upid = node.storage("local-lvm").prunebackups.delete(**{"prune-backups": "keep-last=1"})
    assert finish(pve_api, upid)["exitstatus"] == "storage 'local-lvm' does not support backups"
    upid = node.storage("local").prunebackups.delete()
    assert finish(pve_api, upid)["exitstatus"] == "no prune-backups options configured for storage 'local'"


def test_prunebackups_needs_datastore_allocate_before_the_worker(pve_api, pve_cluster):
    # PruneBackups.pm 170-175: Datastore.Allocate on the storage, or AllocateSpace there and VM.Backup on the guest
    pve_api.access.users.post(userid="backup@pve", password="backup-pass")
    pve_api.access.acl.put(path="/storage/local", roles="PVEDatastoreUser", users="backup@pve")
    user = proxmoxer.ProxmoxAPI(pve_cluster.host, user="backup@pve", password="backup-pass", verify_ssl=False)
    error = refused(user.nodes("pve1").storage("local").prunebackups.delete, **{"prune-backups": "keep-last=1"})
    assert error.status_code == 403 and "Permission check failed (/storage/local, Datastore.Allocate)" in str(
        error.content
    )
    error = refused(user.nodes("pve1").storage("local").prunebackups.delete, vmid=100)
    assert error.status_code == 403 and "(/vms/100, VM.Backup)" in str(error.content)
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="backup@pve")  # VM.Backup
    upid = user.nodes("pve1").storage("local").prunebackups.delete(vmid=100, **{"prune-backups": "keep-last=1"})
    assert finish(pve_api, upid)["exitstatus"] == "OK"
