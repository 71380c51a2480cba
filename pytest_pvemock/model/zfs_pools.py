"""A node's ZFS pools as ``zpool status -P`` shows them, the way ``/nodes/{node}/disks/zfs/{name}`` reads it.

The node has the pool ``rpool`` where it has a ZFS storage (as ``disks/zfs`` lists it): the installer's single-disk
pool on the third partition of the system disk (:func:`pytest_pvemock.model.node_disks.node_layout`), named by its
``/dev/disk/by-id`` path, healthy, last scrubbed by zfsutils-linux's monthly cron job (``24 0 8-14 * *`` on a Sunday,
``/etc/cron.d/zfsutils-linux``) at a pace that follows the pool's use.

Sources: pve-storage 0c56bad8b2a7d69e5ce2c243651fe830d6caa936 ``src/PVE/API2/Disks/ZFS.pm`` ``detail`` 129-292 (the
``zpool status -P`` parser: ``field: value`` lines, the config tree two spaces a level, ``preparetree``); a pool
``zpool`` cannot open makes ``run_command`` die with the command line (pve-common f665029e ``src/PVE/Cmd.pm``
317-324).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.node_disks import node_layout

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

ZPOOL = "/sbin/zpool"
SCRUB_BYTES_PER_SECOND = 450 * 1024**2


def pool_names(cluster: FakeCluster, node: str) -> list[str]:
    """The pools ``zpool list`` shows on the node: ``rpool`` where a ZFS storage is."""
    return ["rpool"] if any(s.plugintype == "zfspool" for s in cluster.storages_on(node)) else []


def _last_scrub_start(now: dt.datetime) -> dt.datetime:
    """The latest second Sunday of a month, 00:24 local time, at or before ``now``."""
    year, month = now.year, now.month
    while True:
        first = dt.datetime(year, month, 8, 0, 24, tzinfo=now.tzinfo)
        start = first + dt.timedelta(days=(6 - first.weekday()) % 7)
        if start <= now:
            return start
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def zpool_status(cluster: FakeCluster, node: str, name: str) -> dict[str, Any]:
    """ZFS.pm ``detail``: the pool's state, last scrub, errors and vdev tree (each with ``leaf``)."""
    if name not in pool_names(cluster, node):
        raise PVEError(f"command '{ZPOOL} status -P {name}' failed: exit code 1")
    storage = next(s for s in cluster.storages_on(node) if s.plugintype == "zfspool")
    _total, used, _avail = cluster.storage_usage(storage.storage, node)
    disks, _groups = node_layout(cluster, node)
    system = disks[0]
    vendor = "nvme" if "/nvme" in system.devpath else "ata"
    device = f"/dev/disk/by-id/{vendor}-{system.model.replace(' ', '_')}_{system.serial}-part3"
    start = _last_scrub_start(dt.datetime.fromtimestamp(cluster.clock.now(), cluster.tzinfo))
    took = max(used // SCRUB_BYTES_PER_SECOND, 1)
    end = start + dt.timedelta(seconds=took)
    hours, rest = divmod(took, 3600)
    when = f"{end:%a %b} {end.day:2d} {end:%H:%M:%S %Y}"
    scan = f"scrub repaired 0B in {hours:02d}:{rest // 60:02d}:{rest % 60:02d} with 0 errors on {when}"
    vdev = {"name": device, "state": "ONLINE", "read": 0, "write": 0, "cksum": 0, "msg": "", "leaf": 1}
    top = {"name": name, "state": "ONLINE", "read": 0, "write": 0, "cksum": 0, "msg": "", "children": [vdev],
           "leaf": 0}  # fmt: skip
    return {"name": name, "state": "ONLINE", "scan": scan, "errors": "No known data errors", "children": [top],
            "leaf": 0}  # fmt: skip
