"""HA migration and relocation in the cluster's time, and the plain migration worker they run, as a dashboard that
polls the API sees them (rows of docs/behaviour.md, section "Migration in real time").

pve-ha-manager b71218f2: src/PVE/HA/LRM.pm run_workers 614-680 and check_active_workers 763-785 (the LRM forks
the migration and checks it each round), exec_resource_agent 992-1020; src/PVE/HA/Resources/PVEVM.pm and PVECT.pm
``migrate`` (shutdown first for a relocation, ``migrate_vm`` with ``with-local-disks``, ``upid_wait``);
src/PVE/HA/Manager.pm next_state_migrate_relocate (``started`` on the target once the LRM reports success).
qemu-server e6352be6 src/PVE/QemuMigrate.pm (log lines), pve-container 94f55852 src/PVE/LXC/Migrate.pm.
"""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException  # noqa: E402

HA = pytest.mark.pve_cluster("ha-three-node", task_mode="manual", validate=True)
MANUAL = pytest.mark.pve_cluster(task_mode="manual", validate=True)
MIB = 1024 * 1024
GIB = 1024 * MIB
#: What a 1 GbE migration network carries, as PVE reports it (``average migration speed``).
LINK = 112 * MIB


def guest_row(api, vmid):
    return next(row for row in api.cluster.resources.get(type="vm") if row["vmid"] == vmid)


def service_row(api, sid):
    return next(row for row in api.cluster.ha.status.current.get() if row["id"] == f"service:{sid}")


def tasks_of(api, node, vmid, kind):
    return [task for task in api.nodes(node).tasks.get(vmid=vmid, source="all") if task["type"] == kind]


def log_of(api, node, upid):
    return [line["t"] for line in api.nodes(node).tasks(upid).log.get(limit=1000)]


def poll(cluster, api, vmid, sid, seconds, step=5):
    """What a dashboard sees every ``step`` s: (node, hastate, lock, status, HA service state)."""
    seen = []
    for _ in range(seconds // step):
        row = guest_row(api, vmid)
        state = service_row(api, sid).get("state")
        look = (row["node"], row.get("hastate"), row.get("lock"), row["status"], state)
        if not seen or seen[-1] != look:
            seen.append(look)
        cluster.clock.advance(step)
    return seen


@HA
def test_ha_migrate_stays_on_source_until_the_migration_ends(pve_cluster, pve_api):
    # LRM.pm run_workers 632-670 / check_active_workers 763-785; PVEVM.pm migrate (upid_wait); Manager.pm
    # next_state_migrate_relocate: started on the target at the CRM round after the LRM's result
    pve_api.cluster.ha.resources("vm:100").migrate.post(node="pve2")
    seen = poll(pve_cluster, pve_api, 100, "vm:100", 90)
    assert seen[:2] == [
        ("pve1", "started", None, "running", "started"),
        ("pve1", "migrate", "migrate", "running", "migrate"),
    ]
    moved = next(index for index, look in enumerate(seen) if look[0] == "pve2")
    assert all(look[1:3] == ("migrate", "migrate") for look in seen[1:moved])  # on the source until the end
    assert all(look[2] is None for look in seen[moved:])
    # 'starting' until the LRM of pve2 reports it running; a look may also catch the CRM not having seen the end
    assert set(seen[moved:-1]) <= {
        ("pve2", "migrate", None, "running", "migrate"),
        ("pve2", "started", None, "running", "starting"),
    }
    assert seen[-1] == ("pve2", "started", None, "running", "started")


@HA
def test_ha_migrate_runs_qmigrate_on_source_as_root(pve_cluster, pve_api):
    # PVEVM.pm migrate: PVE::API2::Qemu->migrate_vm in the LRM's worker (rpcenv user root@pam), on the source node
    pve_api.cluster.ha.resources("vm:100").migrate.post(node="pve2")
    pve_cluster.clock.advance(15)
    (task,) = tasks_of(pve_api, "pve1", 100, "qmigrate")
    assert task["user"] == "root@pam" and "endtime" not in task
    running = [row["upid"] for row in pve_api.nodes("pve1").tasks.get(source="active")]
    assert task["upid"] in running
    assert tasks_of(pve_api, "pve2", 100, "qmigrate") == []
    pve_cluster.clock.advance(60)
    (task,) = tasks_of(pve_api, "pve1", 100, "qmigrate")
    assert task["status"] == "OK"


@HA
def test_ha_migrate_takes_memory_over_the_link(pve_cluster, pve_api):
    # QemuMigrate.pm phase2 copies the VM's memory: 4 GiB (VM 100) and 16 GiB (VM 102) over 1 GbE; shared disks
    pve_api.cluster.ha.resources("vm:100").migrate.post(node="pve2")
    pve_api.cluster.ha.resources("vm:102").migrate.post(node="pve1")
    pve_cluster.clock.advance(300)
    for node, vmid, memory in (("pve1", 100, 4 * GIB), ("pve3", 102, 16 * GIB)):
        (task,) = tasks_of(pve_api, node, vmid, "qmigrate")
        took = task["endtime"] - task["starttime"]
        assert memory / LINK <= took <= memory / LINK + 5, (vmid, took)


@HA
def test_ha_migrate_task_log_grows_while_it_runs(pve_cluster, pve_api):
    # AbstractMigrate.pm log: "%F %H:%M:%S message" as it happens; QemuMigrate.pm 831, 989, 1433, 1488-1546
    pve_api.cluster.ha.resources("vm:100").migrate.post(node="pve2")
    pve_cluster.clock.advance(15)
    (task,) = tasks_of(pve_api, "pve1", 100, "qmigrate")
    early = log_of(pve_api, "pve1", task["upid"])
    assert early[0].endswith("starting migration of VM 100 to node 'pve2' (192.168.100.12)")
    assert any("migration active, transferred" in line and "of 4.0 GiB VM-state" in line for line in early)
    assert not any("finished" in line for line in early)
    pve_cluster.clock.advance(60)
    final = log_of(pve_api, "pve1", task["upid"])
    assert len(final) > len(early) and final[: len(early)] == early
    assert final[-2].endswith("migration finished successfully (duration 00:00:40)") and final[-1] == "TASK OK"


@HA
def test_ha_status_current_during_migration(pve_cluster, pve_api):
    # /cluster/ha/status/current reads manager_status: the service stays 'migrate' on pve1 while the LRM works
    pve_api.cluster.ha.resources("vm:100").migrate.post(node="pve2")
    pve_cluster.clock.advance(15)
    assert service_row(pve_api, "vm:100")["status"] == "vm:100 (pve1, migrate)"
    pve_cluster.clock.advance(20)
    assert service_row(pve_api, "vm:100")["status"] == "vm:100 (pve1, migrate)"
    pve_cluster.clock.advance(40)
    assert service_row(pve_api, "vm:100")["status"] == "vm:100 (pve2, started)"


@HA
def test_ha_relocate_ct_stops_migrates_starts(pve_cluster, pve_api):
    # PVECT.pm migrate: always a relocation: vm_shutdown (vzshutdown), then an offline vzmigrate, both on pve1;
    # the LRM of pve3 starts it once the CRM set it started there (the CRM's state stays 'migrate')
    pve_api.cluster.ha.resources("ct:200").migrate.post(node="pve3")
    seen = poll(pve_cluster, pve_api, 200, "ct:200", 60)
    assert seen[0] == ("pve1", "started", None, "running", "started")
    assert ("pve1", "migrate", "migrate", "stopped", "migrate") in seen
    assert seen[-1] == ("pve3", "started", None, "running", "started")
    assert any("unable to live migrate running container, fallback to relocate" in line for line in pve_cluster.ha.log)
    (shutdown,) = tasks_of(pve_api, "pve1", 200, "vzshutdown")
    (migration,) = tasks_of(pve_api, "pve1", 200, "vzmigrate")
    assert shutdown["user"] == migration["user"] == "root@pam"
    assert shutdown["endtime"] <= migration["starttime"] and migration["status"] == "OK"


@HA
def test_ha_relocate_vm_shuts_down_then_migrates_offline(pve_cluster, pve_api):
    # PVEVM.pm migrate with online=0: "explicitly shutdown if $online isn't true (relocate)", then migrate_vm offline
    pve_api.cluster.ha.resources("vm:100").relocate.post(node="pve3")
    seen = poll(pve_cluster, pve_api, 100, "vm:100", 60)
    assert ("pve1", "relocate", None, "running", "relocate") in seen
    assert seen[-1] == ("pve3", "started", None, "running", "started")
    (shutdown,) = tasks_of(pve_api, "pve1", 100, "qmshutdown")
    (migration,) = tasks_of(pve_api, "pve1", 100, "qmigrate")
    assert shutdown["endtime"] <= migration["starttime"]
    log = log_of(pve_api, "pve1", migration["upid"])
    assert not any("online/live" in line for line in log)  # offline: the shared disk needs no copy


@HA
def test_ha_managed_migrate_post_is_hamigrate_then_qmigrate(pve_cluster, pve_api):
    # qemu-server Qemu.pm migrate_vm: an HA-managed VM's migration is a hamigrate task (ha-manager migrate);
    # the LRM then runs the qmigrate worker itself
    upid = pve_api.nodes("pve1").qemu(100).migrate.post(target="pve2", online=1)
    assert ":hamigrate:100:" in upid
    pve_cluster.clock.advance(15)
    assert guest_row(pve_api, 100)["lock"] == "migrate"
    assert len(tasks_of(pve_api, "pve1", 100, "qmigrate")) == 1


@MANUAL
def test_migrate_plain_lock_and_node_while_running(pve_cluster, pve_api):
    # Qemu.pm migrate_vm: the worker locks the config ('migrate') and the config moves at the end (phase3)
    upid = pve_api.nodes("pve3").qemu(103).migrate.post(target="pve2", online=1)
    pve_cluster.clock.advance(30)
    row = guest_row(pve_api, 103)
    assert (row["node"], row.get("lock")) == ("pve3", "migrate")
    assert pve_api.nodes("pve3").tasks(upid).status.get()["status"] == "running"
    pve_cluster.clock.advance(120)
    row = guest_row(pve_api, 103)
    assert (row["node"], row.get("lock"), row["status"]) == ("pve2", None, "running")
    assert pve_api.nodes("pve3").tasks(upid).status.get()["exitstatus"] == "OK"


@MANUAL
def test_migrate_live_with_local_disks_copies_disks_and_memory(pve_cluster, pve_api):
    # QemuMigrate.pm phase2: with-local-disks mirrors the local disk (NBD) before the memory: 32 GiB + 4 GiB
    upid = pve_api.nodes("pve1").qemu(100).migrate.post(target="pve2", online=1, **{"with-local-disks": 1})
    pve_cluster.clock.advance(60)
    assert pve_api.nodes("pve1").tasks(upid).status.get()["status"] == "running"
    pve_cluster.clock.settle()
    status = pve_api.nodes("pve1").tasks(upid).status.get()
    (entry,) = [task for task in pve_api.nodes("pve1").tasks.get(source="all") if task["upid"] == upid]
    took = entry["endtime"] - entry["starttime"]
    assert status["exitstatus"] == "OK" and 36 * GIB / LINK <= took <= 36 * GIB / LINK + 8
    log = log_of(pve_api, "pve1", upid)
    assert any("starting storage migration" in line for line in log)
    assert any("found local disk 'local-lvm:vm-100-disk-0' (attached)" in line for line in log)


@MANUAL
def test_migrate_offline_local_disk_takes_disk_size(pve_cluster, pve_api):
    # QemuMigrate.pm phase1 "copying local disk images" (storage_migrate): 48 GiB of VM 102 on local-lvm
    upid = pve_api.nodes("pve2").qemu(102).migrate.post(target="pve3")
    pve_cluster.clock.settle()
    (entry,) = [task for task in pve_api.nodes("pve2").tasks.get(source="all") if task["upid"] == upid]
    took = entry["endtime"] - entry["starttime"]
    assert 48 * GIB / LINK <= took <= 48 * GIB / LINK + 3
    assert any(line.endswith("copying local disk images") for line in log_of(pve_api, "pve2", upid))


@MANUAL
def test_migrate_online_local_disks_without_option_aborts_at_once(pve_cluster, pve_api):
    # QemuMigrate.pm 540-544 (phase1, inside the worker); AbstractMigrate.pm migrate 236-242: the lock is gone
    upid = pve_api.nodes("pve1").qemu(100).migrate.post(target="pve2", online=1)
    pve_cluster.clock.advance(1)
    status = pve_api.nodes("pve1").tasks(upid).status.get()
    assert status["status"] == "stopped" and status["exitstatus"] == "migration aborted"
    assert guest_row(pve_api, 100)["node"] == "pve1" and guest_row(pve_api, 100).get("lock") is None


@MANUAL
def test_migrate_running_ct_restart_is_stopped_while_moving(pve_cluster, pve_api):
    # LXC/Migrate.pm prepare 168 "shutdown CT", phase3 "start container on target node"
    upid = pve_api.nodes("pve2").lxc(110).migrate.post(target="pve1", restart=1)
    pve_cluster.clock.advance(2)
    assert guest_row(pve_api, 110)["status"] == "stopped" and guest_row(pve_api, 110)["lock"] == "migrate"
    pve_cluster.clock.settle()
    assert guest_row(pve_api, 110)["node"] == "pve1" and guest_row(pve_api, 110)["status"] == "running"
    log = log_of(pve_api, "pve2", upid)
    assert log[0].endswith("shutdown CT 110") and any(line.endswith("start container on target node") for line in log)


@MANUAL
def test_migrate_running_vm_without_online_refused(pve_api):
    # Qemu.pm migrate_vm: before the worker
    with pytest.raises(ResourceException, match="can't migrate running VM without --online"):
        pve_api.nodes("pve3").qemu(103).migrate.post(target="pve2")
