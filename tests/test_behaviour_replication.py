"""Storage replication end to end, through proxmoxer: jobs as ``replication.cfg`` keeps them, with PVE's checks, run by
each node's pvescheduler on the cluster clock, their copies on the target's storage, their state, log and removal.

Sources: pve-manager 14a22df3 ``PVE/API2/ReplicationConfig.pm`` and ``PVE/API2/Replication.pm``; pve-guest-common
4a8f6cb ``src/PVE/ReplicationConfig.pm``, ``src/PVE/ReplicationState.pm``, ``src/PVE/Replication.pm``; pve-manager
``PVE/CLI/pvesr.pm`` (prepare-local-job on the target); qemu-server e6352be6 ``src/PVE/QemuConfig.pm``
``get_replicatable_volumes`` 136-178.
"""

from __future__ import annotations

import re

import pytest

from tests.support.clients import proxmoxer_client, refused
from tests.support.replication import zfs_storage, zfs_vm

QUARTER = 900


@pytest.fixture
def job(pve_cluster, pve_api):
    """VM 120 (running, its disk on local-zfs of pve1 and pve2) replicated from pve1 to pve2 every quarter hour."""
    zfs_vm(pve_cluster)
    pve_api.cluster.replication.post(id="120-0", type="local", target="pve2", comment="to pve2")
    return pve_api


def _log(api, node="pve1", jobid="120-0"):
    return [line["t"].split(": ", 1)[1] for line in api.nodes(node).replication(jobid).log.get(limit=0)]


def _next_minute(cluster):
    cluster.clock.advance(60 - cluster.clock.now() % 60)


def test_only_a_guest_with_zfs_volumes_can_replicate(pve_api, pve_cluster):
    # ReplicationConfig.pm create 143-172: the guest, the target, the source, then get_replicatable_volumes, whose
    # volume_has_feature('replicate') only ZFS volumes have (QemuConfig.pm 168-171)
    post = pve_api.cluster.replication.post
    assert refused(post, id="100-0", type="local", target="pve2").content == (
        "missing replicate feature on volume 'local-lvm:vm-100-disk-0'"
    )
    assert refused(post, id="150-0", type="local", target="pve2").content == "Guest '150' does not exist."
    zfs_vm(pve_cluster)
    assert refused(post, id="120-0", type="local", target="pve9").content == "Target 'pve9' does not exist."
    assert refused(post, id="120-0", type="local", target="pve3", source="pve2").content == (
        "Source 'pve2' does not match current node of guest '120' (pve1)"
    )
    assert refused(post, id="120-0", type="local", target="pve1").content == "Source and target must not be identical"
    # a VM with only a CD-ROM and shared disks has nothing to replicate (shared volumes are skipped)
    pve_cluster.add_vm(121, "pve1", storage="nas")
    assert refused(post, id="121-0", type="local", target="pve2").content == "No replicatable volumes found"


def test_one_job_per_guest_and_target(job, pve_cluster):
    # ReplicationConfig.pm create 177-178 (the id), write_config 179-180 (the target id 'local/<node>')
    post = job.cluster.replication.post
    assert refused(post, id="120-0", type="local", target="pve3").content == "replication job '120-0' already exists"
    assert refused(post, id="120-1", type="local", target="pve2").content == (
        "replication job for guest '120' to target 'local/pve2' already exists"
    )
    post(id="120-1", type="local", target="pve3")
    assert [j["id"] for j in job.cluster.replication.get()] == ["120-0", "120-1"]


def test_a_job_reads_back_as_parse_config_makes_it(job):
    # parse_config adds guest, jobnum and id (ReplicationConfig.pm 141-145); create sets the source (157-162);
    # the schedule's default */15 is not written
    (listed,) = job.cluster.replication.get()
    read = job.cluster.replication("120-0").get()
    assert listed == {"id": "120-0", "type": "local", "guest": 120, "jobnum": 0, "target": "pve2", "source": "pve1",
                      "comment": "to pve2"}  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{40}", read.pop("digest")) and read == listed


def test_update_and_delete_options_as_check_config_allows(job):
    # ReplicationConfig.pm update 220-246; pve-common SectionConfig check_config: a fixed option cannot change
    jobs = job.cluster.replication
    digest = jobs("120-0").get()["digest"]
    jobs("120-0").put(rate=50, schedule="*/5", digest=digest)
    assert (jobs("120-0").get()["rate"], jobs("120-0").get()["schedule"]) == (50, "*/5")
    assert refused(jobs("120-0").put, comment="late", digest=digest).content.startswith("detected modified config")
    assert refused(jobs("120-0").put, delete="target").content == "unable to delete required option 'target'"
    assert refused(jobs("120-0").put, delete="guest").content == "no such option 'guest'"
    jobs("120-0").put(delete="rate,schedule")
    assert "rate" not in jobs("120-0").get() and "schedule" not in jobs("120-0").get()


def test_writing_a_job_needs_vm_replicate(job, pve_cluster):
    pve_cluster.access.add_user("ops@pve", password="opspassword")
    pve_cluster.acl.grant("/vms/120", "PVEAuditor", user="ops@pve")
    ops = proxmoxer_client(pve_cluster, "ops@pve", "opspassword")
    assert [j["id"] for j in ops.cluster.replication.get()] == ["120-0"]  # VM.Audit lists it
    denied = refused(ops.cluster.replication("120-0").put, comment="mine")
    assert (denied.status_code, denied.content) == (403, "Permission check failed (/vms/120, VM.Replicate)")
    assert refused(ops.nodes("pve1").replication("120-0").schedule_now.post).status_code == 403


def test_the_scheduler_runs_the_job_and_the_copy_shows_on_the_target(job, pve_cluster):
    # ReplicationState.pm job_status 283-303: a job that never ran is due at once (compute_next_event from 0);
    # pvescheduler forks run_jobs every minute (pvescheduler.pm 100-140)
    (before,) = job.nodes("pve1").replication.get()
    assert (before["last_sync"], before["last_try"], before["fail_count"]) == (0, 0, 0)
    assert before["next_sync"] < pve_cluster.clock.now() and "duration" not in before
    assert job.nodes("pve1").replication("120-0").log.get() == [
        {"n": 1, "t": "unable to open file - No such file or directory"}
    ]
    _next_minute(pve_cluster)
    start = pve_cluster.clock.now()
    status = job.nodes("pve1").replication("120-0").status.get()
    assert (status["last_sync"], status["last_try"], status["fail_count"]) == (start, start, 0)
    assert status["next_sync"] == (start // QUARTER + 1) * QUARTER and status["duration"] > 0
    # Replication.pm replicate 316-445: the snapshot, a full send the first time, the target's import
    snap = f"__replicate_120-0_{start}__"
    vm = pve_cluster.guest(120)
    assert _log(job) == [
        "start replication job", f"guest => VM 120, running => {vm.pid}", "volumes => local-zfs:vm-120-disk-0",
        f"create snapshot '{snap}' on local-zfs:vm-120-disk-0", "using secure transmission, rate limit: none",
        f"full sync 'local-zfs:vm-120-disk-0' ({snap})",
        f"full send of rpool/data/vm-120-disk-0@{snap} estimated size is 5.33G", "total estimated size is 5.33G",
        "successfully imported 'local-zfs:vm-120-disk-0'", "end replication job",
    ]  # fmt: skip
    (copy,) = job.nodes("pve2").storage("local-zfs").content.get()
    assert (copy["volid"], copy["vmid"], copy["size"]) == ("local-zfs:vm-120-disk-0", 120, 16 * 1024**3)
    assert job.nodes("pve2").replication.get() == []  # the node lists the jobs of its own guests


def test_the_next_run_sends_what_changed_since_the_last(job, pve_cluster):
    _next_minute(pve_cluster)
    first = pve_cluster.clock.now()
    pve_cluster.clock.advance((first // QUARTER + 1) * QUARTER - first)
    second = pve_cluster.clock.now()
    old, new = f"__replicate_120-0_{first}__", f"__replicate_120-0_{second}__"
    log = _log(job)
    assert f"incremental sync 'local-zfs:vm-120-disk-0' ({old} => {new})" in log
    assert any(line.startswith(f"send from @{old} to rpool/data/vm-120-disk-0@{new} estimated size is") for line in log)
    # record_sync_end, then the previous snapshot goes here and on the target (Replication.pm 455-465)
    assert log[-3:] == [
        f"delete previous replication snapshot '{old}' on local-zfs:vm-120-disk-0",
        f"(remote_finalize_local_job) delete stale replication snapshot '{old}' on local-zfs:vm-120-disk-0",
        "end replication job",
    ]
    assert job.nodes("pve1").replication("120-0").status.get()["last_sync"] == second


def test_a_run_that_cannot_reach_the_target_fails_and_backs_off(job, pve_cluster):
    # the ssh to pvesr prepare-local-job fails (Replication.pm 119-161, pve-cluster SSHInfo.pm); record_job_end
    # counts it (ReplicationState.pm 176-180); while the target is offline the job waits (next_sync 0), once it is
    # back the retry comes 5 minutes after the last try (job_status 289-297)
    pve_cluster.set_node_online("pve2", False)
    _next_minute(pve_cluster)
    tried = pve_cluster.clock.now()
    status = job.nodes("pve1").replication("120-0").status.get()
    assert (status["fail_count"], status["last_sync"], status["last_try"], status["next_sync"]) == (1, 0, tried, 0)
    assert re.fullmatch(
        r"command '/usr/bin/ssh -e none -o 'BatchMode=yes' -o 'HostKeyAlias=pve2' "
        r"-o 'UserKnownHostsFile=/etc/pve/nodes/pve2/ssh_known_hosts' -o 'GlobalKnownHostsFile=none' "
        r"root@192\.168\.\d+\.\d+ -- pvesr prepare-local-job 120-0 local-zfs:vm-120-disk-0 --last_sync 0' "
        r"failed: exit code 255",
        status["error"],
    )
    assert _log(job)[-2].startswith("(remote_prepare_local_job) ssh: connect to host 192.168.")
    assert _log(job)[-1] == f"end replication job with error: {status['error']}"
    pve_cluster.clock.advance(600)
    assert job.nodes("pve1").replication("120-0").status.get()["last_try"] == tried  # not retried while offline
    pve_cluster.set_node_online("pve2", True)
    assert job.nodes("pve1").replication("120-0").status.get()["next_sync"] == tried + 300
    pve_cluster.clock.advance(60)
    status = job.nodes("pve1").replication("120-0").status.get()
    assert (status["fail_count"], status["last_sync"]) == (0, status["last_try"]) and "error" not in status


def test_a_target_without_the_storage_fails_in_prepare_local_job(pve_api, pve_cluster):
    # pvesr.pm check_wanted_volid 33-48: storage_check_enabled on the target
    zfs_vm(pve_cluster)
    pve_api.cluster.replication.post(id="120-0", type="local", target="pve3")
    _next_minute(pve_cluster)
    status = pve_api.nodes("pve1").replication("120-0").status.get()
    assert status["fail_count"] == 1 and status["error"].endswith("failed: exit code 255")
    assert "(remote_prepare_local_job) storage 'local-zfs' is not available on node 'pve3'" in _log(pve_api)
    assert status["next_sync"] == status["last_try"] + 300  # 5 minutes after the try


def test_deleting_a_job_removes_the_copies_on_the_next_run(job, pve_cluster):
    # ReplicationConfig.pm delete 296-318 marks the job (remove_job=full); the source's next run removes the target's
    # volumes (prepare-local-job --force) and its snapshots, then the job (Replication.pm 322-354)
    _next_minute(pve_cluster)
    synced = pve_cluster.clock.now()
    job.cluster.replication("120-0").delete()
    (marked,) = job.nodes("pve1").replication.get()
    assert (marked["remove_job"], marked["next_sync"]) == ("full", 1)
    _next_minute(pve_cluster)
    snap = f"__replicate_120-0_{synced}__"
    assert job.cluster.replication.get() == [] and job.nodes("pve1").replication.get() == []
    assert job.nodes("pve2").storage("local-zfs").content.get() == []
    # the log endpoint refuses a job no longer configured: the node's file, as the model keeps it
    lines = [line.split(": ", 1)[1] for line in pve_cluster.replication.logs[("pve1", "120-0")]]
    assert lines[3:] == [
        "start job removal - mode 'full'",
        f"(remote_prepare_local_job) delete stale replication snapshot '{snap}' on local-zfs:vm-120-disk-0",
        "(remote_prepare_local_job) 120-0: delete stale volume 'local-zfs:vm-120-disk-0'",
        f"delete stale replication snapshot '{snap}' on local-zfs:vm-120-disk-0",
        "job removed",
        "end replication job",
    ]
    assert refused(job.nodes("pve1").replication("120-0").log.get).content == "no such replication job '120-0'"


def test_keep_leaves_the_copies_and_force_only_drops_the_entry(job, pve_cluster):
    _next_minute(pve_cluster)
    assert refused(job.cluster.replication("120-0").delete, force=1, keep=1).status_code == 400
    job.cluster.replication("120-0").delete(keep=1)
    assert job.nodes("pve1").replication.get()[0]["remove_job"] == "local"
    _next_minute(pve_cluster)
    assert job.cluster.replication.get() == []
    assert [v["volid"] for v in job.nodes("pve2").storage("local-zfs").content.get()] == ["local-zfs:vm-120-disk-0"]
    job.cluster.replication.post(id="120-0", type="local", target="pve2")
    job.cluster.replication("120-0").delete(force=1)
    assert job.cluster.replication.get() == []


def test_schedule_now_runs_the_job_within_the_minute(job, pve_cluster):
    # Replication.pm schedule_now 418-435 forks no task: schedule_job_now sets last_try to 0 (ReplicationState.pm
    # 344-370), so the scheduler's next round finds the job due
    _next_minute(pve_cluster)
    first = pve_cluster.clock.now()
    pve_cluster.clock.advance(120)
    assert job.nodes("pve1").replication("120-0").schedule_now.post() == ""
    assert job.nodes("pve1").replication("120-0").status.get()["last_try"] == 0
    _next_minute(pve_cluster)
    status = job.nodes("pve1").replication("120-0").status.get()
    assert status["last_sync"] == pve_cluster.clock.now() > first


def test_a_disabled_job_is_listed_but_not_run(job, pve_cluster):
    # job_status(1) for the API lists disabled jobs, run_jobs' job_status() skips them (ReplicationState.pm 276)
    job.cluster.replication("120-0").put(disable=1)
    pve_cluster.clock.advance(QUARTER)
    (listed,) = job.nodes("pve1").replication.get()
    assert (listed["disable"], listed["last_try"]) == (1, 0)


def test_a_running_container_is_frozen_for_its_snapshot(pve_api, pve_cluster):
    # LXC/Config.pm __snapshot_check_freeze_needed: a running container is frozen; guest_type 'CT'
    zfs_storage(pve_cluster)
    pve_cluster.add_container(130, "pve1", status="running", storage="local-zfs")
    pve_api.cluster.replication.post(id="130-0", type="local", target="pve2", rate=20)
    _next_minute(pve_cluster)
    log = _log(pve_api, jobid="130-0")
    assert log[1:3] == ["guest => CT 130, running => 1", "volumes => local-zfs:subvol-130-disk-0"]
    assert log[3] == "freeze guest filesystem" and log[5] == "thaw guest filesystem"
    assert log[6] == "using secure transmission, rate limit: 20 MByte/s"
    (copy,) = pve_api.nodes("pve2").storage("local-zfs").content.get()
    assert (copy["volid"], copy["content"], copy["format"]) == ("local-zfs:subvol-130-disk-0", "rootdir", "subvol")


def test_a_migrated_guest_replicates_back_to_its_old_node(pve_api, pve_cluster):
    # job_status fixes the jobs of a guest found on another node: the node becomes the source and the old source
    # the target (ReplicationState.pm 268-270, ReplicationConfig.pm 263-274); the volumes left there are the copies
    # the next incremental run sends to
    zfs_vm(pve_cluster, status="stopped")
    pve_api.cluster.replication.post(id="120-0", type="local", target="pve2")
    _next_minute(pve_cluster)
    synced = pve_cluster.clock.now()
    pve_api.nodes("pve1").qemu(120).migrate.post(target="pve2")
    pve_cluster.clock.settle()
    (moved,) = pve_api.nodes("pve2").replication.get()
    assert (moved["source"], moved["target"], moved["last_sync"]) == ("pve2", "pve1", synced)
    assert pve_api.nodes("pve1").replication.get() == []
    for node in ("pve1", "pve2"):
        assert [v["volid"] for v in pve_api.nodes(node).storage("local-zfs").content.get()] == [
            "local-zfs:vm-120-disk-0"
        ]
    pve_cluster.clock.advance(QUARTER)
    log = _log(pve_api, node="pve2")
    assert log[1] == "guest => VM 120, running => 0" and log[-1] == "end replication job"
    assert any(line.startswith("incremental sync 'local-zfs:vm-120-disk-0'") for line in log)


def test_a_replicated_guest_is_destroyed_only_with_purge(job, pve_cluster):
    # qemu-server API2/Qemu.pm destroy_vm 2837-2840 (before the worker), 2874-2876 (purge removes the jobs)
    vm = job.nodes("pve1").qemu(120)
    vm.status.stop.post()
    assert (
        refused(vm.delete).content == "There is a replication job '120-0' for guest '120' - Please remove that first."
    )
    upid = vm.delete(purge=1)
    assert job.nodes("pve1").tasks(upid).status.get()["exitstatus"] == "OK"
    assert job.cluster.replication.get() == []


@pytest.mark.pve_cluster("production")
def test_the_production_mail_server_replicates_to_pve2(pve_api, pve_cluster):
    (mail,) = pve_api.nodes("pve3").replication.get()
    assert (mail["id"], mail["guest"], mail["target"], mail["schedule"]) == ("104-0", 104, "pve2", "*/15")
    _next_minute(pve_cluster)
    assert pve_api.nodes("pve3").replication("104-0").status.get()["fail_count"] == 0
    assert [v["volid"] for v in pve_api.nodes("pve2").storage("tank").content.get()] == ["tank:vm-104-disk-0"]
