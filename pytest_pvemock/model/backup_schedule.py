"""The backup jobs of ``/cluster/backup`` run at their schedule on the cluster's clock, as ``pvescheduler`` runs them.

pve-manager 14a22df35955d97dfc1af21e117dc894a29df0c9: ``PVE/Service/pvescheduler.pm`` wakes every minute and calls
``PVE::Jobs::run_jobs`` (``PVE/Jobs.pm`` 285-335) on every node: each enabled job of the node (or of every node)
whose next event after its last run (``get_last_runtime`` 269-283: the last run's start, else the job's creation;
without ``repeat-missed`` the scheduler's start) has come is run by its plugin, ``PVE/Jobs/VZDump.pm`` ``run``:
``PVE::API2::VZDump->vzdump`` as root@pam with the job's vzdump options, ``job-id`` and ``quiet``. On a node
without guests of the job the call answers ``OK`` and starts nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.backup_jobs import BACKUP_JOBS, included_guests
from pytest_pvemock.model.calendar_event import CalendarEvent
from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.model.vzdump import VzdumpRun, command_line, start_run

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

#: pvescheduler's loop: once a minute.
PERIOD = 60
#: Options of jobs.cfg that are no vzdump option (``run`` keeps only the plugin's properties).
NOT_VZDUMP = ("type", "id", "schedule", "comment", "repeat-missed", "digest", "enabled")


class BackupScheduler:
    """``pvescheduler`` of every node for vzdump jobs: the last run per (job, node), checked once a minute."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        #: (job id, node) -> the start of its last run; absent: the scheduler's start (no missed run repeated).
        self.last_run: dict[tuple[str, str], int] = {}
        self.started = cluster.clock.now()
        self._events: dict[str, CalendarEvent | None] = {}
        cluster.clock.every(PERIOD, self._tick)

    def _event(self, schedule: str) -> CalendarEvent | None:
        if schedule not in self._events:
            try:
                self._events[schedule] = CalendarEvent.parse(schedule)
            except (PVEError, ValueError):
                self._events[schedule] = None
        return self._events[schedule]

    def _tick(self, moment: int) -> None:
        jobs = config_store_of(self.cluster).section(BACKUP_JOBS).records
        if not jobs:
            return
        for jobid in sorted(jobs):
            job = jobs[jobid]
            if job.get("type", "vzdump") != "vzdump" or not job.get("schedule"):
                continue
            if str(job.get("enabled", 1)) in ("0", "False", "false"):
                continue
            event = self._event(str(job["schedule"]))
            if event is None:
                continue
            for node in self.cluster.nodes:
                if not node.online or (job.get("node") and str(job["node"]) != node.name):
                    continue
                last = self.last_run.get((jobid, node.name), self.started)
                due = event.next_after(last, self.cluster.tzinfo)
                if due is None or moment < due:
                    continue
                self.last_run[(jobid, node.name)] = moment
                run_job(self.cluster, node.name, jobid, job)


def run_job(cluster: FakeCluster, node: str, jobid: str, job: dict[str, Any]) -> str:
    """``PVE::Jobs::VZDump::run`` on ``node``: the vzdump call as root@pam; its UPID, or ``OK`` when no guest of
    the job is on the node."""
    params: dict[str, Any] = {key: value for key, value in job.items() if key not in NOT_VZDUMP}
    params["job-id"] = jobid
    params["quiet"] = 1
    if params.get("exclude") is not None and not params.get("pool"):
        params["all"] = 1
    per_node = included_guests(cluster, {**params, "node": None})
    local = per_node.pop(node, []) + per_node.pop("", [])
    if not local and str(params.get("all", "0")) not in ("1", "True", "true"):
        return "OK"
    skiplist = [vmid for vmids in per_node.values() for vmid in vmids]
    run = VzdumpRun(
        node=node,
        authid="root@pam",
        cmdline=command_line(params),
        vmids=local,
        skiplist=skiplist,
        options=params,
        max_protected=-1,
    )
    return start_run(cluster, run, str(local[0]) if len(local) == 1 else "").upid
