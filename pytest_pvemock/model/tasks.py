"""Tasks: PVE's worker processes, with real UPIDs, a status, an exit status and a log.

A task is started on a node for an action (``qmstart``, ``vzmigrate``, ...). Its effect (``work``) runs when the
task completes: at once in the clock's ``instant`` mode, after ``duration`` virtual seconds in ``manual`` mode.
A :class:`~pytest_pvemock.errors.PVEError` raised by the work ends the task with that message as its exit
status, as a failed ``die`` in a PVE worker does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.clock import Clock
from pytest_pvemock.model.upid import Upid

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

# Virtual seconds an action takes in manual mode unless the caller says otherwise.
DEFAULT_DURATIONS = {
    "qmstart": 2,
    "qmstop": 1,
    "qmshutdown": 4,
    "qmreboot": 5,
    "qmreset": 1,
    "qmsuspend": 1,
    "qmresume": 1,
    "qmigrate": 12,
    "qmclone": 8,
    "qmcreate": 3,
    "qmdestroy": 2,
    "qmconfig": 1,
    "qmsnapshot": 3,
    "qmdelsnapshot": 2,
    "qmrollback": 3,
    "vzstart": 2,
    "vzstop": 1,
    "vzshutdown": 3,
    "vzreboot": 4,
    "vzsuspend": 1,
    "vzresume": 1,
    "vzmigrate": 10,
    "vzclone": 6,
    "vzcreate": 5,
    "vzdestroy": 2,
    "vzsnapshot": 2,
    "vzdelsnapshot": 2,
    "vzrollback": 3,
}

Work = Callable[["Task"], None]
ProcessIds = Callable[[str, int], tuple[int, int]]


@dataclass
class Task:
    """One worker task. ``status`` is ``running`` until it ends, then ``stopped`` with an ``exitstatus``."""

    upid: str
    node: str
    pid: int
    pstart: int
    starttime: int
    type: str
    id: str
    user: str
    tokenid: str | None = None
    status: str = "running"
    exitstatus: str | None = None
    endtime: int | None = None
    log: list[str] = field(default_factory=list)
    work: Work | None = field(default=None, repr=False)
    warnings: int = 0

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def ok(self) -> bool:
        return self.exitstatus == "OK"

    def _identity(self) -> dict[str, Any]:
        """The fields that name the task (what its UPID encodes), first in both views."""
        return {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": self.user,
        }

    def info(self) -> dict[str, Any]:
        """The task's fields as ``GET /nodes/{node}/tasks/{upid}/status`` reports them."""
        data = self._identity()
        data["status"] = self.status
        if self.tokenid:
            data["tokenid"] = self.tokenid
        if not self.running:
            data["exitstatus"] = self.exitstatus
        return data

    def list_entry(self) -> dict[str, Any]:
        """The task as a row of ``GET /nodes/{node}/tasks``: ``status`` holds the exit text once it ended."""
        data = self._identity()
        if self.tokenid:
            data["tokenid"] = self.tokenid
        if not self.running:
            data["status"] = self.exitstatus
            data["endtime"] = self.endtime
        return data

    def log_lines(self) -> list[str]:
        lines = list(self.log)
        if not self.running:
            lines.append("TASK OK" if self.ok else _final_line(self))
        return lines


def _final_line(task: Task) -> str:
    if task.exitstatus and task.exitstatus.startswith("WARNINGS"):
        return f"TASK {task.exitstatus}"
    return f"TASK ERROR: {task.exitstatus}"


class TaskRegistry:
    """Every task of a cluster, by UPID and by node, driven by the cluster's clock."""

    def __init__(self, clock: Clock, process_ids: ProcessIds) -> None:
        self._clock = clock
        self._process_ids = process_ids
        self._tasks: dict[str, Task] = {}

    def __iter__(self) -> Iterator[Task]:
        return iter(self._tasks.values())

    def __len__(self) -> int:
        return len(self._tasks)

    def start(
        self,
        node: str,
        type: str,
        id: str | int,
        authid: str = "root@pam",
        duration: int | None = None,
        work: Work | None = None,
        log: list[str] | None = None,
    ) -> Task:
        """Start a task; it completes (running ``work``) now or after ``duration`` seconds, by the clock's mode."""
        task = self.begin(node, type, id, authid, log)
        task.work = work
        if self._clock.instant:
            self._complete(task)
        else:
            seconds = DEFAULT_DURATIONS.get(type, 1) if duration is None else duration
            self._clock.call_at(task.starttime + max(int(seconds), 0), lambda: self._complete(task))
        return task

    def begin(
        self, node: str, type: str, id: str | int, authid: str = "root@pam", log: list[str] | None = None
    ) -> Task:
        """Start a task that runs until :meth:`end` ends it (a worker that waits for something: a console proxy)."""
        now = self._clock.now()
        pid, pstart = self._process_ids(node, now)
        upid = Upid(node=node, pid=pid, pstart=pstart, starttime=now, type=type, id=str(id), authid=authid)
        user, _, tokenid = authid.partition("!")
        task = Task(
            upid=str(upid),
            node=node,
            pid=pid,
            pstart=pstart,
            starttime=now,
            type=type,
            id=str(id),
            user=user,
            tokenid=tokenid or None,
            log=list(log or []),
        )
        self._tasks[task.upid] = task
        return task

    def end(self, task: Task, exitstatus: str = "OK") -> None:
        """End a task :meth:`begin` started, with ``exitstatus`` (``OK`` or the worker's error)."""
        if task.running:
            self._finish(task, exitstatus)

    def get(self, upid: str) -> Task | None:
        return self._tasks.get(upid)

    def on_node(self, node: str) -> list[Task]:
        """The node's tasks, newest first (as ``/nodes/{node}/tasks`` lists them)."""
        tasks = [task for task in self._tasks.values() if task.node == node]
        return sorted(tasks, key=lambda task: (task.starttime, task.pid), reverse=True)

    def running(self) -> list[Task]:
        return [task for task in self._tasks.values() if task.running]

    def stop(self, task: Task, exitstatus: str = "received interrupt") -> None:
        """End a running task without its effect (``DELETE /nodes/{node}/tasks/{upid}``)."""
        if task.running:
            task.work = None
            self._finish(task, exitstatus)

    def _complete(self, task: Task) -> None:
        if not task.running:
            return
        try:
            if task.work is not None:
                task.work(task)
        except PVEError as error:
            # PVE::RESTEnvironment::fork_worker (pve-common src/PVE/RESTEnvironment.pm 654-656 at f665029e):
            # chomp, then every newline of the message becomes a blank
            self._finish(task, error.message.rstrip("\n").replace("\n", " "))
            return
        self._finish(task, f"WARNINGS: {task.warnings}" if task.warnings else "OK")

    def _finish(self, task: Task, exitstatus: str) -> None:
        task.status = "stopped"
        task.exitstatus = exitstatus
        task.endtime = self._clock.now()


def start_worker(cluster: FakeCluster, node: str, kind: str, ident: str, authid: str, work: Work) -> Task:
    """A task whose work changes state the views read: the cluster's revision moves on when it ends, failed or not."""

    def run(task: Task) -> None:
        try:
            work(task)
        finally:
            cluster.revision.touch()

    return cluster.tasks.start(node, kind, ident, authid, work=run)
