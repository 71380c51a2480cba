"""``POST /nodes/{node}/vzdump`` through proxmoxer: the checks before the worker, the ``vzdump`` task's log, the
archive it leaves on the storage, the guest's state during and after, and pruning.

Sources: pve-manager 14a22df35955d97dfc1af21e117dc894a29df0c9 ``PVE/API2/VZDump.pm`` 70-178, ``PVE/VZDump.pm``
(``new`` 589-725, ``exec_backup_task`` 892-1389, ``exec_backup`` 1391-1494, ``verify_vzdump_parameters``
1527-1555); qemu-server e6352be67f70042a7433a3a3c712b36d02f9f7cb ``src/PVE/VZDump/QemuServer.pm``; pve-container
94f558522ef61f9858c39c264d0ac4e697e49268 ``src/PVE/VZDump/LXC.pm``.
"""

from __future__ import annotations

import pytest

from tests.support.clients import proxmoxer_client, refused, storage_content, task_log, wait


def backups(api, node, storage, vmid=None):
    rows = storage_content(api, node, storage, content="backup")
    return {volid: row for volid, row in rows.items() if vmid is None or row.get("vmid") == vmid}


def test_a_snapshot_backup_of_a_running_vm(pve_cluster, pve_api):
    upid = pve_api.nodes("pve1").vzdump.post(
        vmid=100, storage="local", compress="zstd", **{"notes-template": "{{guestname}} on {{node}}\\n{{vmid}}"}
    )
    # fork_worker('vzdump', $taskid): the task's ID is the VMID when one guest is backed up (VZDump.pm 173-176)
    assert ":vzdump:100:root@pam:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    log = task_log(pve_api, upid)
    stamp = pve_cluster.clock.now()
    (volid, row), *_ = backups(pve_api, "pve1", "local", 100).items()
    name = volid.split("/", 1)[1]
    # exec_backup_task 941-943: vzdump-<type>-<vmid>-<local time>, '.vma' and the compressor's extension
    assert name.startswith("vzdump-qemu-100-") and name.endswith(".vma.zst") and row["format"] == "vma.zst"
    assert row["ctime"] == stamp and row["subtype"] == "qemu"
    assert row["notes"] == "web01 on pve1"  # $generate_notes: \n unescaped, the first line listed
    assert log[0].startswith("INFO: starting new backup job: vzdump 100 ")
    assert log[1:5] == [
        "INFO: Starting Backup of VM 100 (qemu)", log[2], "INFO: status = running", "INFO: VM Name: web01",
    ]  # fmt: skip
    assert "INFO: include disk 'scsi0' 'local-lvm:vm-100-disk-0' 32G" in log
    assert "INFO: backup mode: snapshot" in log and "INFO: resuming VM again" in log
    assert f"INFO: creating vzdump archive '/var/lib/vz/dump/{name}'" in log
    assert any(line.startswith("INFO: archive file size: ") for line in log) and "INFO: adding notes to backup" in log
    assert log[-3:] == ["INFO: Backup finished at " + log[2].split(" at ")[1], "INFO: Backup job finished successfully",
                        "TASK OK"]  # fmt: skip
    # snapshot mode lets the VM run; the backup lock is gone; the archive holds the config (extractconfig)
    status = pve_api.nodes("pve1").qemu(100).status.current.get()
    assert status["status"] == "running" and "lock" not in status
    assert "name: web01" in pve_api.nodes("pve1").vzdump.extractconfig.get(volume=volid)


def test_parameter_checks_before_the_worker(pve_cluster, pve_api):
    vzdump = pve_api.nodes("pve1").vzdump.post
    # VZDump.pm (API) 83-88: stdout only on the command line
    stdout = refused(vzdump, vmid=100, stdout=1)
    assert stdout.errors == {"stdout": "option is only allowed on the command line interface."}
    # verify_vzdump_parameters 1530-1537, 1551-1554
    assert refused(vzdump, vmid=100, all=1).errors == {"all": "option conflicts with option 'vmid'"}
    assert refused(vzdump, vmid=100, pool="prod").errors == {"pool": "option conflicts with option 'vmid'"}
    assert refused(vzdump, storage="local").errors == {"vmid": "property is missing"}
    # $verify_notes_template 112-114: the position is pos() after the match minus the name's length
    error = refused(vzdump, vmid=100, storage="local", **{"notes-template": "{{hostname}}"})
    assert error.errors == {"notes-template": "found unknown: variable 'hostname' at char 4\n"}
    # Backup.pm assert_param_permission_common 43-45: some options are root's alone
    pve_cluster.access.add_user("backup@pve", password="backup-password")
    pve_api.access.acl.put(path="/", roles="PVEAdmin", users="backup@pve")
    admin = proxmoxer_client(pve_cluster, "backup@pve", "backup-password")
    assert refused(admin.nodes("pve1").vzdump.post, vmid=100, tmpdir="/tmp").errors == {
        "tmpdir": "Only root may set this option."
    }
    # a guest on another node: the API answers OK and starts nothing (VZDump.pm 119)
    assert vzdump(vmid=110) == "OK"


def test_a_storage_without_backup_content_fails_the_task(pve_api):
    upid = pve_api.nodes("pve1").vzdump.post(vmid=100, storage="local-lvm")
    # new 682-694: storage_info dies, the errors joined; no guest is touched
    assert wait(pve_api, upid)["exitstatus"] == (
        "could not get storage information for 'local-lvm': can't use storage 'local-lvm' for backups - wrong "
        "content type"
    )
    assert pve_api.nodes("pve1").qemu(100).status.current.get().get("lock") is None


@pytest.mark.pve_cluster(task_mode="manual")
def test_stop_mode_stops_a_container_and_starts_it_again(pve_cluster, pve_api):
    before = pve_api.nodes("pve2").lxc(110).status.current.get()
    upid = pve_api.nodes("pve2").vzdump.post(vmid=110, mode="stop", storage="nas", compress="zstd")
    pve_cluster.clock.advance(2)
    during = pve_api.nodes("pve2").lxc(110).status.current.get()
    # exec_backup_task 1112-1124: locked (lock_vm), then stopped for the archive
    assert (during["status"], during["lock"]) == ("stopped", "backup")
    pve_cluster.clock.settle()
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    after = pve_api.nodes("pve2").lxc(110).status.current.get()
    assert after["status"] == "running" and "lock" not in after and after["uptime"] < before["uptime"]
    log = task_log(pve_api, upid)
    assert log.index("INFO: stopping virtual guest") < log.index("INFO: restarting vm")
    assert "INFO: CT Name: dns01" in log and "INFO: including mount point rootfs ('/') in backup" in log
    (row,) = backups(pve_api, "pve2", "nas", 110).values()
    assert row["volid"].endswith(".tar.zst") and row["size"] > 0


def test_the_storage_retention_prunes_older_backups(pve_cluster, pve_api):
    day = 86400
    old = [pve_cluster.add_backup("local", 100, ctime=pve_cluster.clock.now() - n * day) for n in (1, 2, 3)]
    old[2].protected = True
    pve_api.storage("local").put(**{"prune-backups": "keep-last=2"})
    upid = pve_api.nodes("pve1").vzdump.post(vmid=100, storage="local", compress="zstd")
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    log = task_log(pve_api, upid)
    # exec_backup_task 1219-1250: prune_backups with the storage's options; protected backups stay
    assert "INFO: prune older backups with retention: keep-last=2" in log
    assert f"INFO: removing backup '{old[1].volid}'" in log and "INFO: pruned 1 backup(s) not covered by " \
        "keep-retention policy" in log  # fmt: skip
    left = backups(pve_api, "pve1", "local", 100)
    assert old[0].volid in left and old[2].volid in left and old[1].volid not in left and len(left) == 3


def test_the_backup_limit_without_remove(pve_cluster, pve_api):
    pve_cluster.add_backup("local", 100, ctime=pve_cluster.clock.now() - 3600)
    upid = pve_api.nodes("pve1").vzdump.post(vmid=100, storage="local", remove=0, **{"prune-backups": "keep-last=1"})
    # exec_backup_task 949-988: a guest's failure is logged, the job ends with 'job errors'
    assert wait(pve_api, upid)["exitstatus"] == "job errors"
    log = task_log(pve_api, upid)
    assert log[-4:-2] == [
        "ERROR: Backup of VM 100 failed - There is a max backup limit of 1 enforced by the target storage or the "
        "vzdump parameters. Either increase the limit or delete old backups.",
        log[-3],
    ] and log[-3].startswith("INFO: Failed at ")
    assert log[-2:] == ["INFO: Backup job finished with errors", "TASK ERROR: job errors"]


def test_all_backs_up_this_nodes_guests_and_skips_the_rest(pve_api):
    upid = pve_api.nodes("pve1").vzdump.post(all=1, storage="nas", compress="lzo")
    assert ":vzdump::root@pam:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    log = task_log(pve_api, upid)
    assert log[1] == "INFO: skip external VMs: 102, 103, 110, 111"  # exec_backup 1397-1400
    started = [line for line in log if line.startswith("INFO: Starting Backup")]
    assert started == ["INFO: Starting Backup of VM 100 (qemu)", "INFO: Starting Backup of VM 101 (qemu)",
                       "INFO: Starting Backup of VM 9000 (qemu)"]  # fmt: skip
    # a stopped VM is backed up in stop mode: QEMU started paused for the job, then stopped (QemuServer.pm 1167-1222)
    assert "INFO: starting kvm to execute backup task" in log and "INFO: stopping kvm after backup task" in log
    assert {row["vmid"] for row in backups(pve_api, "pve1", "nas").values()} == {100, 101, 9000}
    assert pve_api.nodes("pve1").qemu(9000).status.current.get()["status"] == "stopped"


def test_an_unknown_vmid_fails_visibly(pve_api):
    upid = pve_api.nodes("pve1").vzdump.post(vmid="100,999", storage="local")
    assert ":vzdump::root@pam:" in upid and wait(pve_api, upid)["exitstatus"] == "job errors"
    assert "ERROR: Backup of VM 999 failed - unable to find VM '999'" in task_log(pve_api, upid)
    assert set(backups(pve_api, "pve1", "local")) and all(
        row["vmid"] == 100 for row in backups(pve_api, "pve1", "local").values()
    )


def test_vm_backup_privilege_per_guest(pve_cluster, pve_api):
    pve_cluster.access.add_user("ops@pve", password="ops-password")
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMAdmin", users="ops@pve")
    pve_api.access.acl.put(path="/storage/local", roles="PVEDatastoreUser", users="ops@pve")
    ops = proxmoxer_client(pve_cluster, "ops@pve", "ops-password")
    # exec_backup 1418: with 'all' the guests the user may not back up are left out silently
    upid = ops.nodes("pve1").vzdump.post(all=1, storage="local")
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert {row["vmid"] for row in backups(pve_api, "pve1", "local").values()} == {100}
    # without 'all', the check dies in the worker before any backup
    upid = ops.nodes("pve1").vzdump.post(vmid="100,101", storage="local")
    assert wait(pve_api, upid)["exitstatus"] == "Permission check failed (/vms/101, VM.Backup)"
    # Datastore.AllocateSpace on the storage, before the worker (VZDump.pm 127-129)
    assert "(/storage/nas, Datastore.AllocateSpace)" in str(refused(ops.nodes("pve1").vzdump.post, vmid=100,
                                                                    storage="nas"))  # fmt: skip


def test_a_pbs_storage_holds_a_snapshot(pve_cluster, pve_api):
    pve_cluster.add_storage("pbs", "pbs", ["backup"], shared=True, options={"server": "192.168.100.7",
                                                                             "datastore": "store1"})  # fmt: skip
    upid = pve_api.nodes("pve1").vzdump.post(vmid=101, storage="pbs", protected=1)
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    (row,) = backups(pve_api, "pve1", "pbs").values()
    # exec_backup_task 926-935: <vm|ct>/<vmid>/<UTC time>; protected before pruning (1200-1204)
    assert row["volid"].startswith("pbs:backup/vm/101/") and row["volid"].endswith("Z") and row["protected"] == 1
    log = task_log(pve_api, upid)
    assert f"INFO: creating Proxmox Backup Server archive '{row['volid'].split('/', 1)[1]}'" in log
    assert "INFO: marking backup as protected" in log
    assert not any(line.startswith("INFO: archive file size") for line in log)


def test_a_backup_job_runs_at_its_schedule(pve_cluster, pve_api):
    pve_api.cluster.backup.post(
        id="nightly", schedule="02:30", vmid="100,110", storage="nas", compress="zstd",
        **{"prune-backups": "keep-last=1"},
    )  # fmt: skip
    pve_api.cluster.backup.post(id="off", schedule="02:30", vmid="101", storage="nas", enabled=0)
    day = 86400
    start = pve_cluster.clock.now()
    due = (start // day + 1) * day + 2 * 3600 + 1800  # the cluster's clock is in UTC
    pve_cluster.clock.advance(due - start - 61)
    assert not backups(proxmoxer_client(pve_cluster), "pve1", "nas")  # a fresh ticket after the hours that passed
    pve_cluster.clock.advance(120)
    api = proxmoxer_client(pve_cluster)
    # Jobs.pm run_jobs on each node: the node's guests of the job, as root@pam with job-id and quiet
    (task,) = api.nodes("pve1").tasks.get(typefilter="vzdump")
    assert (task["starttime"], task["id"], task["user"]) == (due, "100", "root@pam")
    log = task_log(api, task["upid"])
    assert log[0].startswith("INFO: starting new backup job: vzdump 100 110 ") and "--quiet 1" in log[0]
    assert log[1] == "INFO: skip external VMs: 110"
    (task110,) = api.nodes("pve2").tasks.get(typefilter="vzdump")
    assert task110["id"] == "110" and task110["starttime"] == due
    # the disabled job never ran; the next night's run prunes the first one (keep-last=1)
    assert {row["vmid"] for row in backups(api, "pve1", "nas").values()} == {100, 110}
    first = set(backups(api, "pve1", "nas", 100))
    pve_cluster.clock.advance(day)
    api = proxmoxer_client(pve_cluster)
    assert len(api.nodes("pve1").tasks.get(typefilter="vzdump")) == 2
    (left,) = backups(api, "pve1", "nas", 100)
    assert left not in first and left.endswith("-02_30_00.vma.zst")
