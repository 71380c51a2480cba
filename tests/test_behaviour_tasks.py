"""Catalogue rows (docs/behaviour.md, "Tasks") read from pve-manager PVE/API2/Tasks.pm and Cluster.pm at 14a22df3
and pve-common at f665029e, driven through a real proxmoxer client on a manual clock (tasks run until the test
moves time)."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException  # noqa: E402

pytestmark = pytest.mark.pve_cluster(task_mode="manual", validate=True)

PASSWORD = "bob-password"


def refused(call, status):
    with pytest.raises(ResourceException) as caught:
        call()
    assert caught.value.status_code == status, caught.value
    return caught.value


def bob(cluster, api, role="PVEVMUser", path="/vms/100"):
    api.access.users.post(userid="bob@pve", password=PASSWORD)
    api.access.acl.put(path=path, roles=role, users="bob@pve")
    return proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user="bob@pve", password=PASSWORD, verify_ssl=False)


def upids(rows):
    return [row["upid"] for row in rows]


def test_task_list_active_status_running(pve_cluster, pve_api):
    # Tasks.pm node_tasks 226-236: source=active lists the running tasks with status RUNNING
    upid = pve_api.nodes("pve2").qemu(102).status.start.post()
    active = pve_api.nodes("pve2").tasks.get(source="active")
    assert [(row["upid"], row["status"]) for row in active] == [(upid, "RUNNING")]
    assert upid not in upids(pve_api.nodes("pve2").tasks.get())  # archive (the default): finished tasks only
    pve_cluster.clock.settle()
    assert pve_api.nodes("pve2").tasks.get(source="active") == []


def test_task_list_type_and_vmid_filters(pve_cluster, pve_api):
    # Tasks.pm node_tasks 192-193: typefilter is the exact type, vmid the task's id
    start = pve_api.nodes("pve2").qemu(102).status.start.post()
    snap = pve_api.nodes("pve2").lxc(110).snapshot.post(snapname="s1")
    pve_cluster.clock.settle()
    assert upids(pve_api.nodes("pve2").tasks.get(typefilter="qmstart")) == [start]
    assert upids(pve_api.nodes("pve2").tasks.get(vmid=110)) == [snap]


def test_task_list_userfilter_ignores_case(pve_cluster, pve_api):
    # Tasks.pm node_tasks 189: userfilter is a case-insensitive substring of the user
    upid = pve_api.nodes("pve2").qemu(102).status.start.post()
    pve_cluster.clock.settle()
    assert upids(pve_api.nodes("pve2").tasks.get(userfilter="ROOT@")) == [upid]
    assert pve_api.nodes("pve2").tasks.get(userfilter="bob") == []


def test_task_list_errors_lists_failed_tasks(pve_cluster, pve_api):
    # Tasks.pm node_tasks 177-179, 198-199 and pve-common UPID.pm normalize_status_type 94-106: errors=1 drops OK
    vm = pve_api.nodes("pve2").qemu(102)
    vm.snapshot.post(snapname="s1")
    pve_cluster.clock.settle()
    failed = vm.snapshot.post(snapname="s1")
    pve_cluster.clock.settle()
    rows = pve_api.nodes("pve2").tasks.get(errors=1)
    assert upids(rows) == [failed] and rows[0]["status"] == "snapshot name 's1' already used"


def test_task_list_since_until(pve_cluster, pve_api):
    # Tasks.pm node_tasks 196-197: by starttime, both ends included
    first = pve_api.nodes("pve2").qemu(102).status.start.post()
    pve_cluster.clock.settle()
    pve_cluster.clock.advance(600)
    middle = pve_cluster.clock.now()
    second = pve_api.nodes("pve2").qemu(102).status.stop.post()
    pve_cluster.clock.settle()
    assert upids(pve_api.nodes("pve2").tasks.get(since=middle)) == [second]
    assert upids(pve_api.nodes("pve2").tasks.get(until=middle - 1)) == [first]


def test_task_list_start_limit_and_total(pve_cluster, pve_api):
    # Tasks.pm node_tasks 200-203, 255: start skips, limit caps (0: nothing), total counts every match
    vm = pve_api.nodes("pve2").qemu(102)
    made = []
    for name in ("a", "b", "c"):
        made.append(vm.snapshot.post(snapname=f"s{name}"))
        pve_cluster.clock.settle()
    newest_first = list(reversed(made))
    assert upids(pve_api.nodes("pve2").tasks.get(typefilter="qmsnapshot", start=1, limit=1)) == newest_first[1:2]
    assert pve_api.nodes("pve2").tasks.get(typefilter="qmsnapshot", limit=0) == []
    response = pve_api.nodes("pve2").tasks.get(typefilter="qmsnapshot", limit=1)
    assert upids(response) == newest_first[:1]


def test_task_status_running_then_stopped(pve_cluster, pve_api):
    # Tasks.pm read_task_status 531-541: running without exitstatus, then stopped with it
    upid = pve_api.nodes("pve2").qemu(102).status.start.post()
    status = pve_api.nodes("pve2").tasks(upid).status.get()
    assert status["status"] == "running" and "exitstatus" not in status and status["upid"] == upid
    pve_cluster.clock.settle()
    status = pve_api.nodes("pve2").tasks(upid).status.get()
    assert (status["status"], status["exitstatus"]) == ("stopped", "OK")


def test_task_status_unknown_upid(pve_api):
    # Tasks.pm read_task_status 515-517: a UPID that parses but has no log file, or one that does not parse
    unknown = "UPID:pve2:0000AAAA:0000BBBB:6553F00D:qmstart:102:root@pam:"
    error = refused(lambda: pve_api.nodes("pve2").tasks(unknown).status.get(), 400)
    assert error.errors == {"upid": "no such task"}
    error = refused(lambda: pve_api.nodes("pve2").tasks("garbage").status.get(), 400)
    assert error.errors == {"upid": "unable to parse worker upid"}


def test_task_log_start_and_limit(pve_cluster, pve_api):
    # Tasks.pm read_task_log 440-444 and pve-common Tools.pm dump_logfile_by_filehandle 779-787: lines numbered
    # from 1, start skips, limit caps, total counts them all
    upid = pve_api.nodes("pve2").qemu(102).status.start.post()
    pve_cluster.clock.settle()
    every = pve_api.nodes("pve2").tasks(upid).log.get(limit=0)
    assert [row["n"] for row in every] == list(range(1, len(every) + 1)) and every[-1]["t"] == "TASK OK"
    assert pve_api.nodes("pve2").tasks(upid).log.get(start=1, limit=1) == every[1:2]


def test_task_stop_running_task(pve_cluster, pve_api):
    # Tasks.pm stop_task 314-328 and pve-common RESTEnvironment.pm fork_worker 566, 653-659: the worker dies on
    # SIGTERM with 'received interrupt'; the guest is left as it was
    upid = pve_api.nodes("pve2").qemu(102).status.start.post()
    pve_api.nodes("pve2").tasks(upid).delete()
    status = pve_api.nodes("pve2").tasks(upid).status.get()
    assert (status["status"], status["exitstatus"]) == ("stopped", "received interrupt")
    pve_cluster.clock.settle()
    assert pve_api.nodes("pve2").qemu(102).status.current.get()["status"] == "stopped"


def test_task_list_own_tasks_without_sys_audit(pve_cluster, pve_api):
    # Tasks.pm node_tasks 184, 190 (check_task_user 27-38) and Cluster.pm tasks 758-766: without Sys.Audit only
    # the caller's own tasks
    mine = bob(pve_cluster, pve_api)
    pve_api.nodes("pve1").qemu(101).status.stop.post()
    own = mine.nodes("pve1").qemu(100).status.stop.post()
    pve_cluster.clock.settle()
    assert upids(mine.nodes("pve1").tasks.get()) == [own]
    assert upids(mine.cluster.tasks.get()) == [own]
    assert len(pve_api.nodes("pve1").tasks.get()) == 2


def test_task_of_other_user_needs_sys_audit(pve_cluster, pve_api):
    # Tasks.pm read_task_status 526-529, read_task_log 404-407 (Sys.Audit), stop_task 323-326 (Sys.Modify)
    mine = bob(pve_cluster, pve_api)
    upid = pve_api.nodes("pve1").qemu(101).status.stop.post()
    error = refused(lambda: mine.nodes("pve1").tasks(upid).status.get(), 403)
    assert error.content == "Permission check failed (/nodes/pve1, Sys.Audit)"
    refused(lambda: mine.nodes("pve1").tasks(upid).log.get(), 403)
    error = refused(lambda: mine.nodes("pve1").tasks(upid).delete(), 403)
    assert error.content == "Permission check failed (/nodes/pve1, Sys.Modify)"


def test_task_list_statusfilter(pve_cluster, pve_api):
    # Tasks.pm node_tasks 160-179 (pve-task-status-type-list): ok, warning, error, unknown (running) by name
    vm = pve_api.nodes("pve2").qemu(102)
    ok = vm.snapshot.post(snapname="s1")
    pve_cluster.clock.settle()
    failed = vm.snapshot.post(snapname="s1")
    pve_cluster.clock.settle()
    running = vm.status.start.post()
    tasks = pve_api.nodes("pve2").tasks
    assert upids(tasks.get(statusfilter="ok")) == [ok]
    assert upids(tasks.get(statusfilter="error", source="all")) == [failed]
    assert upids(tasks.get(statusfilter="unknown", source="all")) == [running]


def test_task_cluster_list_token_without_sys_audit(pve_cluster, pve_api):
    # Cluster.pm tasks 758-766: the task's user (its token split off) is compared with the caller, a token id for
    # a token: without Sys.Audit on / a token lists no task, not even its own
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="bob@pve")
    made = pve_api.access.users("bob@pve").token("ci").post(privsep=0)
    api = proxmoxer.ProxmoxAPI(
        pve_cluster.host, port=pve_cluster.port, user="bob@pve", token_name="ci", token_value=made["value"],
        verify_ssl=False,
    )  # fmt: skip
    upid = api.nodes("pve1").qemu(100).status.stop.post()
    pve_cluster.clock.settle()
    assert api.cluster.tasks.get() == []
    assert upids(api.nodes("pve1").tasks.get()) == [upid]  # the node list shows a token its own tasks
    row = next(row for row in pve_api.cluster.tasks.get() if row["upid"] == upid)
    assert (row["user"], row["tokenid"]) == ("bob@pve", "ci")
