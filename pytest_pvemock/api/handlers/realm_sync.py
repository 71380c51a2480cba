"""``POST /access/domains/{realm}/sync`` and ``/cluster/jobs/realm-sync``: pve-access-control src/PVE/API2/Domains.pm
and src/PVE/API2/Jobs/RealmSync.pm (commit 5ccd07d9), the sync of :mod:`pytest_pvemock.model.access.directory` and
the jobs of :mod:`pytest_pvemock.model.realm_sync` with their next run from the schedule and the cluster's clock."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.model.access.directory import start_sync
from pytest_pvemock.model.realm_sync import create_job, delete_job, job_ids, last_run, next_run, read_job, update_job

_CONTROLS = ("id", "delete", "digest")


@handles("GET", "/cluster/jobs/realm-sync")
def list_realm_sync_jobs(ctx: HandlerContext) -> list[dict[str, Any]]:
    """RealmSync.pm 87-116: every job with its ``id``, ``last-run`` (the last sync task's start, once it ran) and
    ``next-run``."""
    rows = []
    for jobid in job_ids(ctx.cluster):
        job = {**read_job(ctx.cluster, jobid), "id": jobid}
        if job.get("schedule"):
            ran = last_run(ctx.cluster, jobid)
            if ran is not None:
                job["last-run"] = ran
            upcoming = next_run(ctx.cluster, job, ran)
            if upcoming is not None:
                job["next-run"] = upcoming
        rows.append(job)
    return ordered_rows(ctx, rows)


@handles("GET", "/cluster/jobs/realm-sync/{id}")
def read_realm_sync_job(ctx: HandlerContext) -> dict[str, Any]:
    """RealmSync.pm 139-149: the job's section as stored (``type`` and its options)."""
    return ordered(ctx, read_job(ctx.cluster, str(ctx.params["id"])), f"realm-sync/{ctx.params['id']}")


def _values(ctx: HandlerContext) -> dict[str, Any]:
    return {key: value for key, value in ctx.params.items() if key not in _CONTROLS}


@handles("POST", "/cluster/jobs/realm-sync/{id}")
def create_realm_sync_job(ctx: HandlerContext) -> None:
    """RealmSync.pm 169-204."""
    create_job(ctx.cluster, str(ctx.params["id"]), _values(ctx))


@handles("PUT", "/cluster/jobs/realm-sync/{id}")
def update_realm_sync_job(ctx: HandlerContext) -> None:
    """RealmSync.pm 224-256."""
    delete = ctx.params.get("delete")
    update_job(ctx.cluster, str(ctx.params["id"]), _values(ctx), str(delete) if delete else None)


@handles("DELETE", "/cluster/jobs/realm-sync/{id}")
def delete_realm_sync_job(ctx: HandlerContext) -> None:
    """RealmSync.pm 278-304."""
    delete_job(ctx.cluster, str(ctx.params["id"]))


@handles("POST", "/access/domains/{realm}/sync")
def sync_realm_now(ctx: HandlerContext) -> str:
    """Domains.pm sync 505-609 (see :func:`~pytest_pvemock.model.access.directory.start_sync`)."""
    return start_sync(ctx.cluster, ctx.entry_node, str(ctx.params["realm"]), ctx.params, ctx.principal.authid).upid
