"""The cluster log (pmxcfs ``clusterlog``): what ``pvedaemon`` writes there for every worker it forks,
``starting task UPID...`` and ``end task UPID... <status>``, shared by all nodes.

pmxcfs dumps it newest first as ``{uid, time, pri, tag, pid, node, user, msg}`` (pve-cluster
src/pmxcfs/logger.c ``clog_dump_json``, lines 139-200 at 7091d92e), 50 entries unless asked for more
(src/pmxcfs/server.c line 304), only the caller's own entries for a caller without ``Sys.Syslog`` on ``/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.model import figures

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

INFO, ERR = 6, 3


def cluster_log(cluster: FakeCluster) -> list[dict[str, Any]]:
    """Every entry, newest first, with its ``uid`` counting up in the order they were written."""
    now = cluster.clock.now()
    written: list[tuple[int, int, dict[str, Any]]] = []
    for order, task in enumerate(cluster.tasks):
        who = f"{task.user}!{task.tokenid}" if task.tokenid else task.user
        base = {"tag": "pvedaemon", "pid": task.pid, "node": task.node, "user": who}
        written.append((task.starttime, 2 * order, {**base, "pri": INFO, "msg": f"starting task {task.upid}"}))
        if task.endtime is not None and task.endtime <= now:
            status = task.exitstatus or "OK"
            priority = INFO if status == "OK" or status.startswith("WARNINGS") else ERR
            written.append(
                (task.endtime, 2 * order + 1, {**base, "pri": priority, "msg": f"end task {task.upid} {status}"})
            )
    written.sort(key=lambda item: (item[0], item[1]))
    first_uid = figures.seeded(cluster.seed, "clusterlog-uid").randrange(100, 5000)
    entries = [{"uid": first_uid + index, "time": time, **entry} for index, (time, _order, entry) in enumerate(written)]
    entries.reverse()
    return entries
