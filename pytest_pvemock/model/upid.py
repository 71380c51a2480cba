"""PVE's unique process ids: ``UPID:node:PID:PSTART:STARTTIME:TYPE:ID:USER[!TOKEN]:``.

The three hex fields are the task's own pid, process start (in clock ticks since boot) and start time, so a
client that decodes a UPID gets the same numbers as the task's status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UPID = re.compile(
    r"^UPID:(?P<node>[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):(?P<pid>[0-9A-Fa-f]{8}):(?P<pstart>[0-9A-Fa-f]{8,9}):"
    r"(?P<starttime>[0-9A-Fa-f]{8}):(?P<type>[^:\s]+):(?P<id>[^:\s]*):(?P<authid>[^:\s]+):$"
)


@dataclass(frozen=True)
class Upid:
    node: str
    pid: int
    pstart: int
    starttime: int
    type: str
    id: str
    authid: str

    @property
    def user(self) -> str:
        return self.authid.split("!", 1)[0]

    @property
    def tokenid(self) -> str | None:
        return self.authid.split("!", 1)[1] if "!" in self.authid else None

    def __str__(self) -> str:
        return (
            f"UPID:{self.node}:{self.pid:08X}:{self.pstart:08X}:{self.starttime:08X}:"
            f"{self.type}:{self.id}:{self.authid}:"
        )


def parse_upid(text: str) -> Upid | None:
    """The parts of ``text``, or ``None`` when it is not a well-formed UPID."""
    match = _UPID.match(text)
    if match is None:
        return None
    return Upid(
        node=match["node"],
        pid=int(match["pid"], 16),
        pstart=int(match["pstart"], 16),
        starttime=int(match["starttime"], 16),
        type=match["type"],
        id=match["id"],
        authid=match["authid"],
    )
