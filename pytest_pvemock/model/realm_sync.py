"""Realm sync jobs: the ``realm-sync`` sections of ``jobs.cfg`` (pve-access-control src/PVE/Jobs/RealmSync.pm and
src/PVE/API2/Jobs/RealmSync.pm at 5ccd07d9).

A job names an LDAP or AD realm of ``domains.cfg`` and a calendar-event schedule; its next run follows from the
schedule and the cluster's clock. The fake's pvescheduler does not run the jobs (no directory to sync from), so a
job has no state file: no ``last-run``, and the next run counts from now, as PVE counts for a job never run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.calendar_event import CalendarEvent
from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.schema.formats.checks import split_list

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

JOBS = "/etc/pve/jobs.cfg"
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


def next_run(cluster: FakeCluster, job: Mapping[str, Any]) -> int | None:
    """``compute_next_event`` of the schedule from the last run, here always from now (the job never ran)."""
    schedule = str(job.get("schedule") or "")
    if not schedule:
        return None
    return CalendarEvent.parse(schedule).next_after(cluster.clock.now(), cluster.tzinfo)


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
