"""``pveceph fs create`` (pve-manager 14a22df3 PVE/API2/Ceph/FS.pm lines 149-254): a data and a metadata pool, the
file system on them, which a standby MDS takes over, and with ``add-storage`` the CephFS storage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.ceph import CephCluster, CephFs
from pytest_pvemock.model.ceph_admin import check_configured, connect
from pytest_pvemock.model.ceph_pools import create_in_ceph
from pytest_pvemock.model.tasks import start_worker

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task


def mds_states(cluster: FakeCluster, ceph: CephCluster) -> dict[str, str]:
    """The MDS map's states by MDS id: each file system (in order) gets the next running MDS as its active one,
    the other running ones stand by, the others are stopped."""
    states: dict[str, str] = {}
    unserved = len(ceph.filesystems)
    for mdsid, host in ceph.mds.items():
        if not ceph.running(cluster, f"mds.{mdsid}", host):
            states[mdsid] = "stopped"
        elif unserved:
            states[mdsid] = "up:active"
            unserved -= 1
        else:
            states[mdsid] = "up:standby"
    return states


def create_filesystem(cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str) -> Task:
    """Refused before the worker: pools or a file system of that name, no running or no standby MDS, a storage
    of that name (with ``add-storage``). The metadata pool gets a quarter of the PGs (at least 8); set_pool has
    already dropped the application from PVE's parameters by then, so only its pg_num is applied."""
    ceph = connect(check_configured(cluster, node))
    name = str(params.get("name") or "cephfs")
    pg_num = int(params.get("pg_num") or 128)
    data, metadata = f"{name}_data", f"{name}_metadata"
    if ceph.pool(data) is not None or ceph.pool(metadata) is not None:
        raise PVEError(f"ceph pools '{data}' and/or '{metadata}' already exist")
    if any(fs.name == name for fs in ceph.filesystems):
        raise PVEError(f"ceph fs '{name}' already exists")
    states = mds_states(cluster, ceph)
    if not any(state != "stopped" for state in states.values()):
        raise PVEError("no running Metadata Server (MDS) found!")
    if "up:standby" not in states.values():
        raise PVEError("no standby Metadata Server (MDS) found!")
    add_storage = bool(params.get("add-storage"))
    if add_storage and cluster.storage(name) is not None:
        raise PVEError(f"storage ID '{name}' already defined")

    def work(task: Task) -> None:
        settings: dict[str, Any] = {"application": "cephfs", "pg_num": pg_num}
        created = []
        try:
            task.log.append(f"creating data pool '{data}'...")
            create_in_ceph(cluster, ceph, data, settings, task)
            created.append(data)
            task.log.append(f"creating metadata pool '{metadata}'...")
            settings["pg_num"] = pg_num // 4 if pg_num >= 32 else 8
            create_in_ceph(cluster, ceph, metadata, settings, task)
            created.append(metadata)
            task.log.append(f"configuring new CephFS '{name}'")
        except PVEError:
            if created:
                task.log.append("Encountered error after creating at least one pool")
                task.warnings += 1
                for pool_name in created:
                    task.log.append(f"cleaning up left over pool '{pool_name}'")
                    task.warnings += 1
                    ceph.pools = [pool for pool in ceph.pools if pool.name != pool_name]
            raise
        for pool_name in created:  # 'fs new' enables the cephfs application on both pools
            pool = ceph.pool(pool_name)
            if pool is not None:
                pool.application = "cephfs"
        ceph.filesystems.append(CephFs(name, metadata, data))
        task.log.append(f"Successfully create CephFS '{name}'")
        if add_storage:
            task.log.append(f"Adding '{name}' to storage configuration...")
            cluster.add_storage(name, plugintype="cephfs", content=["backup", "iso", "vztmpl"], shared=True,
                                path=f"/mnt/pve/{name}", options={"fs-name": name})  # FS.pm 236-242  # fmt: skip

    return start_worker(cluster, node, "cephfscreate", name, authid, work)
