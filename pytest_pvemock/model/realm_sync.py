"""Realm sync jobs: the ``realm-sync`` sections of ``jobs.cfg`` (pve-access-control src/PVE/Jobs/RealmSync.pm and
src/PVE/API2/Jobs/RealmSync.pm at 5ccd07d9), and ``pvescheduler`` running them.

A job names an LDAP or AD realm of ``domains.cfg`` and a calendar-event schedule. Every node's scheduler checks
its jobs once a minute (pve-manager PVE/Jobs.pm ``run_jobs`` 285-335 at 14a22df3); the first node whose turn has
come runs the sync (``PVE::Jobs::RealmSync::run``: a cluster-wide state file says who ran it last and its task),
as root@pam, from the realm's directory (:mod:`.access.directory`). ``last-run`` is that task's start, the next
run counts from it (from now for a job that never ran).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.access.directory import start_sync
from pytest_pvemock.model.calendar_event import CalendarEvent
from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.schema.formats.checks import split_list

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

JOBS = "/etc/pve/jobs.cfg"
#: pvescheduler's loop: once a minute.
PERIOD = 60
BACKUP_JOBS = "/cluster/backup"  # vzdump jobs share jobs.cfg's ids
REALMS = "/access/domains"
# PVE::Jobs::RealmSync::options: required (False) or optional (True); 'realm' is fixed once created
OPTIONS = {"schedule": False, "scope": False, "realm": False, "enabled": True, "comment": True,
           "enable-new": True, "remove-vanished": True}  # fmt: skip


def _jobs(cluster: FakeCluster) -> dict[str, dict[str, Any]]:
    return config_store_of(cluster).section(JOBS).records


def job_ids(cluster: FakeCluster) -> list[str]:
    """The realm-sync jobs in the file's order."""
    return [jobid for jobid, job in _jobs(cluster).items() if job.get("type") == "realm-sync"]


def read_job(cluster: FakeCluster, jobid: str) -> dict[str, Any]:
    """The job's section (``type`` and its options), or PVE's ``No such job`` parameter error."""
    job = _jobs(cluster).get(jobid)
    if job is None or job.get("type") != "realm-sync":
        raise ParameterError({"id": f"No such job '{jobid}'"})
    return dict(job)


def next_run(cluster: FakeCluster, job: Mapping[str, Any], last: int | None = None) -> int | None:
    """``compute_next_event`` of the schedule from the last run (from now for a job that never ran)."""
    schedule = str(job.get("schedule") or "")
    if not schedule:
        return None
    return CalendarEvent.parse(schedule).next_after(cluster.clock.now() if last is None else last, cluster.tzinfo)


def last_run(cluster: FakeCluster, jobid: str) -> int | None:
    """API2/Jobs/RealmSync.pm ``$get_cluster_last_run`` 17-32: the start of the job's last task, else the time a
    node tried and failed to start it."""
    state = cluster.realm_sync_schedule.state.get(jobid, {})
    task = cluster.tasks.get(state["upid"]) if "upid" in state else None
    if task is not None:
        return task.starttime
    return state.get("time")


class RealmSyncScheduler:
    """``pvescheduler`` of every node for realm-sync jobs (``PVE::Jobs::run_jobs`` with ``PVE::Jobs::RealmSync``)."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        #: The cluster-wide state file of each job (``realm-sync-<id>.json``): ``node``, ``upid`` or ``time``/``error``.
        self.state: dict[str, dict[str, Any]] = {}
        #: Each node's own last run of a job (Jobs.pm ``get_last_runtime``); absent: the scheduler's start.
        self.node_last: dict[tuple[str, str], int] = {}
        self.started = cluster.clock.now()
        cluster.clock.every(PERIOD, self._tick)

    def _tick(self, moment: int) -> None:
        jobs = _jobs(self.cluster)
        for jobid in sorted(jobs):
            job = jobs[jobid]
            if job.get("type") != "realm-sync" or not job.get("schedule"):
                continue
            if str(job.get("enabled", 1)) in ("0", "False", "false"):
                continue
            try:
                event = CalendarEvent.parse(str(job["schedule"]))
            except (PVEError, ValueError):
                continue
            for node in sorted(node.name for node in self.cluster.nodes if node.online):
                due = event.next_after(self.node_last.get((jobid, node), self.started), self.cluster.tzinfo)
                if due is None or moment < due:
                    continue
                self.node_last[(jobid, node)] = moment
                self._run(jobid, job, node, event, moment)

    def _run(self, jobid: str, job: Mapping[str, Any], node: str, event: CalendarEvent, moment: int) -> None:
        """Jobs/RealmSync.pm ``run``: under the cluster lock, skip what another node already ran this turn."""
        state = self.state.get(jobid, {})
        task = self.cluster.tasks.get(state["upid"]) if "upid" in state else None
        if task is not None:
            upcoming = event.next_after(task.starttime, self.cluster.tzinfo)
            if upcoming is None or moment < upcoming:
                return
            last_node = self.cluster.find_node(task.node)
            if task.running and last_node is not None and last_node.online:
                return
        elif "time" in state and state["time"] + 60 > moment:
            return
        params = {key: value for key, value in job.items() if key in OPTIONS and key != "schedule"}
        try:
            started = start_sync(self.cluster, node, str(job["realm"]), params, "root@pam")
        except (PVEError, ParameterError) as error:
            self.state[jobid] = {"node": node, "time": moment, "error": str(error)}
            return
        self.state[jobid] = {"node": node, "upid": started.upid}


def create_job(cluster: FakeCluster, jobid: str, values: Mapping[str, Any]) -> None:
    """API2/Jobs/RealmSync.pm 172-203: a taken id, ``check_config`` (create), then the realm's existence and type."""
    if jobid in _jobs(cluster) or jobid in config_store_of(cluster).section(BACKUP_JOBS).records:
        raise PVEError(f"Job '{jobid}' already exists\n")
    for key in values:
        if key not in OPTIONS:
            raise PVEError(f"unexpected property '{key}'\n")
    for key, optional in OPTIONS.items():
        if not optional and values.get(key) is None:
            raise PVEError(f"missing value for required option '{key}'\n")
    CalendarEvent.parse(str(values["schedule"]))
    realm = str(values["realm"])
    record = _realm(cluster, realm)
    if record is None:
        raise ParameterError({"realm": f"No such realm '{realm}'"})
    if record.get("type") not in ("ldap", "ad"):
        raise ParameterError({"realm": "Only LDAP/AD realms can be synced."})
    _jobs(cluster)[jobid] = {"type": "realm-sync", **values}


def _realm(cluster: FakeCluster, realm: str) -> dict[str, Any] | None:
    if realm in ("pam", "pve"):
        return {"type": realm}
    return config_store_of(cluster).section(REALMS).get(realm)


def update_job(cluster: FakeCluster, jobid: str, values: Mapping[str, Any], delete: str | None) -> None:
    """API2/Jobs/RealmSync.pm 224-256: ``check_config`` (update), the job's existence, ``delete_from_config``."""
    if not values:
        raise PVEError("no job options specified\n")
    for key in values:
        if key == "realm":
            raise PVEError("can't change value of fixed parameter 'realm'\n")
        if key not in OPTIONS:
            raise PVEError(f"unexpected property '{key}'\n")
    job = _jobs(cluster).get(jobid)
    if job is None or job.get("type") != "realm-sync":
        raise PVEError("no such realm-sync job\n")
    if "schedule" in values:
        CalendarEvent.parse(str(values["schedule"]))
    for key in split_list(delete or ""):
        if key not in OPTIONS:
            raise PVEError(f"no such option '{key}'\n")
        if not OPTIONS[key]:
            raise PVEError(f"unable to delete required option '{key}'\n")
        if key in values:
            raise PVEError(f"cannot set and delete property '{key}' at the same time!\n")
        job.pop(key, None)
    job.update(values)


def delete_job(cluster: FakeCluster, jobid: str) -> None:
    """API2/Jobs/RealmSync.pm 278-304: ``No such job`` for anything but a realm-sync job."""
    read_job(cluster, jobid)
    del _jobs(cluster)[jobid]
