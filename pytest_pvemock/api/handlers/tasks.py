"""``/nodes/{node}/tasks/{upid}``: a task's index, status and log, and stopping it."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.api.handlers.log_pages import dump_logfile
from pytest_pvemock.api.handlers.nodes import task_for
from pytest_pvemock.api.handlers.shaping import ordered
from pytest_pvemock.api.index import pve_index_listing


@handles("GET", "/nodes/{node}/tasks/{upid}")
def task_index(ctx: HandlerContext) -> list[dict[str, str]]:
    task_for(ctx)
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


@handles("GET", "/nodes/{node}/tasks/{upid}/status")
def task_status(ctx: HandlerContext) -> dict[str, Any]:
    """``status: running`` without ``exitstatus``, then ``stopped`` with it (QUIRKS §2.5)."""
    task = task_for(ctx, "Sys.Audit")
    return ordered(ctx, task.info(), task.upid)


@handles("GET", "/nodes/{node}/tasks/{upid}/log")
def task_log(ctx: HandlerContext) -> Result:
    """Numbered log lines from ``start`` (0-based), at most ``limit``; ``total`` counts them all."""
    task = task_for(ctx, "Sys.Audit")
    return dump_logfile(task.log_lines(), ctx.params)


@handles("DELETE", "/nodes/{node}/tasks/{upid}")
def stop_task(ctx: HandlerContext) -> None:
    # Tasks.pm stop_task 323-328 (pve-manager 14a22df3): the worker gets SIGTERM and dies with 'received interrupt'
    # (pve-common RESTEnvironment.pm fork_worker 566, 653-659, f665029e)
    ctx.cluster.tasks.stop(task_for(ctx, "Sys.Modify"), "received interrupt")
    return None
