"""A node's ``/var/log/pve-firewall.log`` and its rotated files, as ``pvefw-logger`` and logrotate leave them.

``pvefw-logger`` writes ``0 5 - <time> starting pvefw logger`` when it starts (at boot, and when logrotate restarts
it after each daily rotation) and ``stopping pvefw logger`` when it stops (pve-firewall src/pvefw-logger.c lines
184-194, 1144, 1175; ``debian/pve-firewall.logrotate``: daily, 7 rotations, ``postrotate`` restarts the logger;
commit 6f1311f3). The fake sends no packets through the firewall, so those are all the lines there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pytest_pvemock.model import figures

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node

ROTATIONS = 7


@dataclass(frozen=True)
class FirewallLogLine:
    """One line and the file it is in: 0 is ``pve-firewall.log``, N its rotation ``pve-firewall.log.N``."""

    time: int
    text: str
    file: int


def firewall_log(cluster: FakeCluster, node: Node) -> list[FirewallLogLine]:
    """Every line still on disk (the current file and the rotations logrotate keeps), oldest first."""
    zone = cluster.tzinfo
    now = cluster.clock.now()

    def stamp(moment: int) -> str:
        return datetime.fromtimestamp(moment, tz=zone).strftime("%d/%b/%Y:%H:%M:%S %z")

    rng = figures.seeded(cluster.seed, "logrotate", node.name)
    delay = rng.randrange(1, 90)  # logrotate.timer fires within its accuracy after midnight
    midnight = datetime.fromtimestamp(now, tz=zone).replace(hour=0, minute=0, second=0, microsecond=0)
    rotations = []
    for days in range(ROTATIONS):
        moment = int((midnight - timedelta(days=days)).timestamp()) + delay
        if node.boot_time < moment <= now:
            rotations.append(moment)
    rotations.reverse()
    boot_start = node.boot_time + rng.randrange(4, 9)
    lines = []
    if boot_start <= now and (not rotations or boot_start < rotations[0]) and len(rotations) < ROTATIONS:
        lines.append((boot_start, "starting pvefw logger"))
    for moment in rotations:
        lines.append((moment, "stopping pvefw logger"))
        lines.append((moment, "starting pvefw logger"))
    result = []
    for moment, message in lines:
        # a stop is written to the file just rotated away, a start to the new one
        file = sum(1 for rotation in rotations if rotation > moment or (rotation == moment and "stopping" in message))
        result.append(FirewallLogLine(moment, f"0 5 - {stamp(moment)} {message}", file))
    return result
