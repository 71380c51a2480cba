"""``GET /cluster/jobs/schedule-analyze``: when a job schedule falls due next, on the cluster's clock.

pve-manager PVE/API2/Cluster/Jobs.pm ``schedule-analyze`` (lines 49-121 at 14a22df3): from ``starttime`` (default
``time()``: now on the cluster's clock) ``iterations`` times (default 10), each event after the one before, in the
node's local time (proxmox-time's ``compute_next_event``), with ``utc`` as Perl's ``scalar(gmtime)`` writes it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.model.calendar_event import CalendarEvent


def perl_gmtime(moment: int) -> str:
    """``scalar(gmtime($t))``: ``Mon Sep 14 10:00:00 2026``, the day of the month padded with a space."""
    when = datetime.fromtimestamp(moment, timezone.utc)
    return f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}"


@handles("GET", "/cluster/jobs/schedule-analyze")
def schedule_analyze(ctx: HandlerContext) -> list[dict[str, Any]]:
    event = CalendarEvent.parse(str(ctx.params["schedule"]))
    start = ctx.params.get("starttime")
    moment = int(start) if start is not None else ctx.cluster.clock.now()
    rows: list[dict[str, Any]] = []
    for _ in range(int(ctx.params.get("iterations") or 10)):
        following = event.next_after(moment, ctx.cluster.tzinfo)
        if following is None:
            break
        rows.append({"timestamp": following, "utc": perl_gmtime(following)})
        moment = following
    return rows
