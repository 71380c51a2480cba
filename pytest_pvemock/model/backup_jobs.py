"""Which guests the cluster's backup jobs cover (``jobs.cfg`` vzdump jobs, as ``/cluster/backup`` stores them).

A port of ``PVE::VZDump::get_included_guests`` (pve-manager PVE/VZDump.pm line 1580, commit 14a22df3): a job takes
its pool's guests, else its ``vmid`` list, else with ``all`` every guest but the ``exclude`` list; ``node`` limits
it to the guests on that node. Disabled jobs count too (``get_included_vmids`` in PVE/API2/Cluster/BackupInfo.pm
does not look at ``enabled``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model.config_store import config_store_of

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

BACKUP_JOBS = "/cluster/backup"


def _vmid_list(text: Any) -> set[int]:
    return {int(part) for part in re.split(r"[\s,;]+", str(text or "")) if part.isdigit()}


def _truthy(value: Any) -> bool:
    return str(value).strip() not in ("", "0", "false", "no", "off", "None")


def guests_of_job(cluster: FakeCluster, job: dict[str, Any]) -> set[int]:
    """The VMIDs one vzdump job backs up (existing guests only: PVE files unknown ones under no node)."""
    pool_id = job.get("pool")
    if pool_id:
        pool = cluster.pool(str(pool_id))
        vmids = set(pool.vmids) if pool is not None else set()
    elif job.get("vmid"):
        vmids = _vmid_list(job["vmid"])
    elif _truthy(job.get("all", 0)) or job.get("exclude") is not None:
        vmids = {guest.vmid for guest in cluster.guests} - _vmid_list(job.get("exclude"))
    else:
        return set()
    node = job.get("node")
    guests = [guest for vmid in vmids if (guest := cluster.find_guest(vmid)) is not None]
    return {guest.vmid for guest in guests if not node or guest.node == str(node)}


def backed_up_vmids(cluster: FakeCluster) -> set[int]:
    """Every VMID that at least one vzdump job includes."""
    jobs = config_store_of(cluster).section(BACKUP_JOBS).records.values()
    covered: set[int] = set()
    for job in jobs:
        if job.get("type", "vzdump") == "vzdump":
            covered |= guests_of_job(cluster, job)
    return covered
