"""A node's ZFS pools as ``zpool status -P`` shows them, the way ``/nodes/{node}/disks/zfs/{name}`` reads it.

Pools ``disks/zfs`` created (:mod:`pytest_pvemock.model.node_disk_writes`) show their RAID layout (``mirror-0``,
``raidz1-0``, ...) over the by-id partitions they were made on, never scrubbed yet. The node has the pool ``rpool``
where it has a ZFS storage on it (as ``disks/zfs`` lists it): the installer's single-disk
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
from pytest_pvemock.model.node_disks import Zpool, disk_state, node_layout

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

ZPOOL = "/sbin/zpool"
SCRUB_BYTES_PER_SECOND = 450 * 1024**2


def installer_pool(cluster: FakeCluster, node: str) -> Any:
    """The first ZFS storage on the installer's ``rpool`` the node has (``None``: an LVM install)."""
    return next((s for s in cluster.storages_on(node) if s.plugintype == "zfspool"
                 and str(s.options.get("pool", "")).split("/", 1)[0] == "rpool"), None)  # fmt: skip


def pool_names(cluster: FakeCluster, node: str) -> list[str]:
    """The pools ``zpool list`` shows on the node (sorted by name): ``rpool`` where a ZFS storage is on it, and
    the pools ``disks/zfs`` created."""
    names = ["rpool"] if installer_pool(cluster, node) is not None else []
    return sorted(names + [pool.name for pool in disk_state(cluster, node).zpools])


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
    created = next((pool for pool in disk_state(cluster, node).zpools if pool.name == name), None)
    if created is not None:
        return _created_status(created)
    storage = installer_pool(cluster, node)
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


def _created_status(pool: Zpool) -> dict[str, Any]:
    """A pool ``zpool create`` made: its vdevs under their RAID groups (``mirror-0``, ``raidz2-0``,
    ``draid1:6d:7c:1s-0``); a draid's distributed spares listed as ``spares``."""

    def vdev(name: str, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": name, "state": "ONLINE", "read": 0, "write": 0, "cksum": 0, "msg": ""}
        if children:
            entry["children"] = children
        entry["leaf"] = 0 if children else 1
        return entry

    leaves = [vdev(name) for name in pool.vdevs]
    if pool.raidlevel == "single":
        groups = leaves
    elif pool.raidlevel == "raid10":
        groups = [vdev(f"mirror-{i // 2}", leaves[i : i + 2]) for i in range(0, len(leaves), 2)]
    elif pool.raidlevel.startswith("raidz"):
        parity = {"raidz": 1, "raidz2": 2, "raidz3": 3}[pool.raidlevel]
        groups = [vdev(f"raidz{parity}-0", leaves)]
    elif pool.raidlevel == "mirror":
        groups = [vdev("mirror-0", leaves)]
    else:
        parity = {"draid": 1, "draid2": 2, "draid3": 3}[pool.raidlevel]
        spares = pool.draid.get("spares", 0)
        data = pool.draid.get("data") or min(8, len(leaves) - spares - parity)
        groups = [vdev(f"draid{parity}:{data}d:{len(leaves)}c:{spares}s-0", leaves)]
    top = vdev(pool.name, groups)
    return {"name": pool.name, "state": "ONLINE", "errors": "No known data errors", "children": [top], "leaf": 0}
