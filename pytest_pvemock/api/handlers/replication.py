"""Storage replication: ``/cluster/replication`` (the jobs of ``replication.cfg``) and ``/nodes/{node}/replication``
(each node's jobs with their state, a job's status, its log and ``schedule_now``), over
:mod:`pytest_pvemock.model.replication`.

pve-manager 14a22df3 ``PVE/API2/ReplicationConfig.pm`` (index 54-72, read 97-118, create 133-192, update 207-254,
delete 286-324) and ``PVE/API2/Replication.pm`` (status 226-244, job_status 299-317, read_job_log 365-394,
schedule_now 418-435): the permission checks come first (``VM.Replicate`` to write, ``VM.Audit`` to read; the log
also with ``Sys.Audit`` on the node), lists leave out the jobs the caller may not audit.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.api.handlers.log_pages import dump_logfile
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import PermissionDenied, PVEError
from pytest_pvemock.model import replication
from pytest_pvemock.model.access.acl import privileges
from pytest_pvemock.model.replication import parse_job_id


def _may(ctx: HandlerContext, path: str, privs: list[str]) -> bool:
    return PermissionChecker(ctx.cluster).check(ctx.principal.authid, path, privs, noerr=True)


def _require(ctx: HandlerContext, path: str, privs: list[str]) -> None:
    """The handler's own check; ``VM.Replicate`` only where the release has it (9.0.5 on: before, the schema's
    ``Datastore.Allocate`` on ``/storage`` is the whole check, made before the handler)."""
    privs = [priv for priv in privs if priv != "VM.Replicate" or priv in privileges(ctx.cluster.release.version)]
    if privs:
        PermissionChecker(ctx.cluster).check(ctx.principal.authid, path, privs)


def visible_jobs(ctx: HandlerContext) -> list[dict[str, Any]]:
    """The jobs of ``replication.cfg`` the caller may audit (``VM.Audit`` on the guest), sorted by id."""
    jobs = [replication.job(ctx.cluster, jobid) for jobid in replication.job_ids(ctx.cluster)]
    return [job for job in jobs if job is not None and _may(ctx, f"/vms/{job['guest']}", ["VM.Audit"])]


@handles("GET", "/cluster/replication")
def list_replication_jobs(ctx: HandlerContext) -> list[dict[str, Any]]:
    return ordered_rows(ctx, visible_jobs(ctx))


@handles("GET", "/cluster/replication/{id}")
def read_replication_job(ctx: HandlerContext) -> dict[str, Any]:
    jobid = str(ctx.params["id"])
    job = replication.job(ctx.cluster, jobid)
    if job is None:
        raise PVEError(f"no such replication job '{jobid}'")
    _require(ctx, f"/vms/{job['guest']}", ["VM.Audit"])
    return ordered(ctx, {**job, "digest": replication.digest(ctx.cluster)}, f"replication/{jobid}")


def _guest_of(ctx: HandlerContext) -> int:
    return parse_job_id(str(ctx.params["id"]))[0]


@handles("POST", "/cluster/replication")
def create_replication_job(ctx: HandlerContext) -> None:
    _require(ctx, f"/vms/{_guest_of(ctx)}", ["VM.Replicate"])
    ctx.cluster.require_quorum()
    replication.create_job(ctx.cluster, str(ctx.params["id"]), ctx.params)


@handles("PUT", "/cluster/replication/{id}")
def update_replication_job(ctx: HandlerContext) -> None:
    _require(ctx, f"/vms/{_guest_of(ctx)}", ["VM.Replicate"])
    ctx.cluster.require_quorum()
    delete, digest = ctx.params.get("delete"), ctx.params.get("digest")
    jobid = str(ctx.params["id"])
    replication.update_job(ctx.cluster, jobid, ctx.params, delete and str(delete), digest and str(digest))


@handles("DELETE", "/cluster/replication/{id}")
def delete_replication_job(ctx: HandlerContext) -> None:
    _require(ctx, f"/vms/{_guest_of(ctx)}", ["VM.Replicate"])
    ctx.cluster.require_quorum()
    keep, force = bool(ctx.params.get("keep")), bool(ctx.params.get("force"))
    replication.delete_job(ctx.cluster, str(ctx.params["id"]), keep, force)


def _node(ctx: HandlerContext) -> str:
    return ctx.cluster.require_node_reachable(str(ctx.params["node"])).name


@handles("GET", "/nodes/{node}/replication")
def node_replication_status(ctx: HandlerContext) -> list[dict[str, Any]]:
    node = _node(ctx)
    state = ctx.cluster.replication
    rows = []
    for _jobid, jobcfg in sorted(state.job_status(node, get_disabled=True).items()):
        data = state.status_entry(jobcfg)
        if ctx.params.get("guest") is not None and data["guest"] != int(ctx.params["guest"]):
            continue
        if _may(ctx, f"/vms/{data['guest']}", ["VM.Audit"]):
            rows.append(data)
    return ordered_rows(ctx, rows)


@handles("GET", "/nodes/{node}/replication/{id}/status")
def replication_job_status(ctx: HandlerContext) -> dict[str, Any]:
    node = _node(ctx)
    jobid = str(ctx.params["id"])
    state = ctx.cluster.replication
    jobcfg = state.job_status(node, get_disabled=True).get(jobid)
    if jobcfg is None:
        raise PVEError(f"no such replication job '{jobid}'")
    data = state.status_entry(jobcfg)
    _require(ctx, f"/vms/{data['guest']}", ["VM.Audit"])
    return ordered(ctx, data, f"replication-status/{jobid}")


@handles("GET", "/nodes/{node}/replication/{id}/log")
def replication_job_log(ctx: HandlerContext) -> Result:
    """The log file ``/var/log/pve/replicate/<id>`` of the job's last run on the node; for a job that never ran there
    ``dump_logfile``'s one line for a file it cannot open (pve-common f665029e ``src/PVE/Tools.pm`` 801-807)."""
    node = _node(ctx)
    jobid = str(ctx.params["id"])
    job = replication.job(ctx.cluster, jobid)
    if job is None:
        raise PVEError(f"no such replication job '{jobid}'")
    if not (_may(ctx, f"/vms/{job['guest']}", ["VM.Audit"]) or _may(ctx, f"/nodes/{node}", ["Sys.Audit"])):
        raise PermissionDenied()
    lines = ctx.cluster.replication.log_lines(node, jobid)
    if lines is None:
        return Result([{"n": 1, "t": "unable to open file - No such file or directory"}], extra={"total": 1})
    return dump_logfile(lines, ctx.params)


@handles("POST", "/nodes/{node}/replication/{id}/schedule_now")
def schedule_replication_now(ctx: HandlerContext) -> str:
    """No task: the job's state says it is due, and the node's pvescheduler runs it within the minute. The answer is
    what ``schedule_job_now`` returns: its last statement ``die $@ if $@`` (ReplicationState.pm 367) evaluates to
    the empty ``$@``."""
    node = _node(ctx)
    _require(ctx, f"/vms/{_guest_of(ctx)}", ["VM.Replicate"])
    ctx.cluster.replication.schedule_now(node, str(ctx.params["id"]))
    return ""
