"""``/nodes/{node}/ceph/...`` and ``/cluster/ceph/...`` reads: PVE's error where Ceph is not installed, the Ceph
cluster's state (:mod:`pytest_pvemock.model.ceph`) where it is.

Every read of pve-manager's Ceph API (PVE/API2/Ceph.pm, Ceph/{Cfg,FS,MDS,MGR,MON,OSD,Pool}.pm, Cluster/Ceph.pm,
commit 14a22df3) first calls ``PVE::Ceph::Tools::check_ceph_inited`` (the flags: ``check_ceph_configured``, which
calls it first), which on a node without Ceph dies with ``binary not installed: /usr/bin/ceph-mon`` (Tools.pm lines
189-231; the message is the same since c64c04dd, 2017, so on every release): HTTP 500. Only the index listings
(``osd/{osdid}``, ``pool/{name}``) and ``/cluster/ceph/metadata?scope=versions`` answer without Ceph.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.api.handlers.log_pages import dump_logfile
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import ceph_admin, figures
from pytest_pvemock.model.ceph import CephCluster, CephPool, Osd
from pytest_pvemock.model.ceph_fs import mds_states
from pytest_pvemock.model.cluster import FakeCluster

RULE = "replicated_rule"
FLAG_NAMES = {  # PVE::Ceph::Tools::get_possible_osd_flags (Tools.pm), name -> description
    "nobackfill": "Backfilling of PGs is suspended.",
    "nodeep-scrub": "Deep Scrubbing is disabled.",
    "nodown": "OSD failure reports are being ignored, such that the monitors will not mark OSDs down.",
    "noin": "OSDs that were previously marked out will not be marked back in when they start.",
    "noout": "OSDs will not automatically be marked out after the configured interval.",
    "norebalance": "Rebalancing of PGs is suspended.",
    "norecover": "Recovery of PGs is suspended.",
    "noscrub": "Scrubbing is disabled.",
    "notieragent": "Cache tiering activity is suspended.",
    "noup": "OSDs are not allowed to start.",
    "pause": "Pauses read and writes.",
}


def _inited_on(ctx: HandlerContext) -> CephCluster:
    """The Ceph cluster, as the node in the path sees it (``check_ceph_inited`` there), for the reads of files."""
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    return ceph_admin.check_inited(ctx.cluster, node.name)


def _ceph_on(ctx: HandlerContext) -> CephCluster:
    """The Ceph cluster for the reads that ask a monitor (``check_ceph_inited``, then ``PVE::RADOS->new``)."""
    return ceph_admin.connect(_inited_on(ctx))


def _ceph(ctx: HandlerContext, configured: bool = False) -> CephCluster:
    """The Ceph cluster, for the ``/cluster/ceph`` methods (answered by the node the client talks to); the flags
    check ``check_ceph_configured``."""
    node = ceph_admin.answering_node(ctx.cluster)
    check = ceph_admin.check_configured if configured else ceph_admin.check_inited
    return ceph_admin.connect(check(ctx.cluster, node))


def _iso(epoch: int) -> str:
    """A time as Ceph's JSON prints it (``2026-12-05T12:59:59.123456+0000``)."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc) + timedelta(microseconds=(epoch * 7919) % 1_000_000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def _ip(cluster: FakeCluster, host: str) -> str:
    return cluster.node(host).ip


def _nonce(ceph: CephCluster, *parts: object) -> int:
    return figures.seeded(ceph.seed, "ceph-nonce", *parts).randrange(1000, 4_000_000)


# ---- status -----------------------------------------------------------------------------------------------------


def mon_dump(cluster: FakeCluster, ceph: CephCluster) -> dict[str, Any]:
    mons = []
    for rank, (monid, host) in enumerate(ceph.mons.items()):
        ip = _ip(cluster, host)
        mons.append({
            "rank": rank, "name": monid,
            "public_addrs": {"addrvec": [{"type": "v2", "addr": f"{ip}:3300", "nonce": 0},
                                         {"type": "v1", "addr": f"{ip}:6789", "nonce": 0}]},
            "addr": f"{ip}:6789/0", "public_addr": f"{ip}:6789/0", "priority": 0, "weight": 0,
            "crush_location": "{}",
        })  # fmt: skip
    quorum = ceph.mons_in_quorum(cluster)
    return {
        "epoch": len(ceph.mons),
        "fsid": ceph.fsid,
        "modified": _iso(ceph.created + 60 * len(ceph.mons)),
        "created": _iso(ceph.created),
        "min_mon_release": ceph.release.major,
        "min_mon_release_name": ceph.release.codename,
        "election_strategy": 1,
        "disallowed_leaders": "",
        "stretch_mode": False,
        "tiebreaker_mon": "",
        "removed_ranks": "",
        "mons": mons,
        "quorum": [ceph.mon_rank(monid) for monid in quorum],
    }


def mgr_dump(cluster: FakeCluster, ceph: CephCluster) -> dict[str, Any]:
    active = ceph.active_mgr(cluster)
    ids = list(ceph.mgrs)
    standbys = [mgrid for mgrid, host in ceph.mgrs.items()
                if mgrid != active and ceph.running(cluster, f"mgr.{mgrid}", host)]  # fmt: skip
    answer: dict[str, Any] = {
        "epoch": 10 + 2 * len(ceph.mgrs),
        "flags": 0,
        "active_gid": 14100 + ids.index(active) if active else 0,
        "active_name": active or "",
        "available": active is not None,
        "standbys": [{"gid": 14100 + ids.index(mgrid), "name": mgrid, "available_modules": []} for mgrid in standbys],
        "modules": ["iostat", "nfs", "restful"],
        "available_modules": [],
        "services": {},
    }
    if active:
        ip = _ip(cluster, ceph.mgrs[active])
        nonce = _nonce(ceph, "mgr", active)
        answer["active_addr"] = f"{ip}:6801/{nonce}"
        answer["active_addrs"] = {"addrvec": [{"type": "v2", "addr": f"{ip}:6800", "nonce": nonce},
                                              {"type": "v1", "addr": f"{ip}:6801", "nonce": nonce}]}  # fmt: skip
        answer["active_change"] = _iso(cluster.node(ceph.mgrs[active]).boot_time + 40)
    return answer


def cluster_status(cluster: FakeCluster, ceph: CephCluster) -> dict[str, Any]:
    """``ceph status`` with ``health detail``, ``mon dump`` and ``mgr dump`` (PVE::Ceph::Tools::ceph_cluster_status,
    Tools.pm lines 624-637)."""
    now = cluster.clock.now()
    quorum = ceph.mons_in_quorum(cluster)
    used = ceph.osd_used(cluster)
    up = [osd for osd in ceph.osds if ceph.osd_up(cluster, osd)]
    raw_total = ceph.raw_total()
    raw_used = sum(used.values())
    num_pgs = ceph.pg_total()
    state = "active+clean" if len(up) == len(ceph.osds) else "active+undersized+degraded"
    boots = [cluster.node(ceph.mons[monid]).boot_time for monid in quorum]
    status: dict[str, Any] = {
        "fsid": ceph.fsid,
        "health": ceph.health(cluster),
        "election_epoch": 2 * len(ceph.mons) + 2 * len(quorum),
        "quorum": [ceph.mon_rank(monid) for monid in quorum],
        "quorum_names": quorum,
        "quorum_age": now - max(boots) if boots else 0,
        "monmap": mon_dump(cluster, ceph),
        "osdmap": {
            "epoch": 40 + 3 * len(ceph.osds) + 2 * (len(ceph.osds) - len(up)),
            "num_osds": len(ceph.osds),
            "num_up_osds": len(up),
            "osd_up_since": max((cluster.node(osd.host).boot_time + 30 for osd in up), default=0),
            "num_in_osds": len(ceph.placed_osds(cluster)),
            "osd_in_since": ceph.created + 600 + 97 * max(len(ceph.osds) - 1, 0),
            "num_remapped_pgs": 0,
        },
        "pgmap": {
            "pgs_by_state": [{"state_name": state, "count": num_pgs}] if num_pgs else [],
            "num_pgs": num_pgs,
            "num_pools": len(ceph.pools),
            "num_objects": sum(ceph.pool_objects(cluster, pool) for pool in ceph.pools),
            "data_bytes": sum(ceph.pool_stored(cluster, pool) for pool in ceph.pools),
            "bytes_used": raw_used,
            "bytes_avail": raw_total - raw_used,
            "bytes_total": raw_total,
        },
        "fsmap": fs_map(cluster, ceph),
        "mgrmap": mgr_dump(cluster, ceph),
        "servicemap": {"epoch": 3 + len(ceph.mons), "modified": _iso(ceph.created + 900), "services": {}},
        "progress_events": {},
    }
    return status


def fs_map(cluster: FakeCluster, ceph: CephCluster) -> dict[str, Any]:
    """The summary ``ceph status`` gives of the file systems: the active MDS per rank, the standbys counted."""
    answer: dict[str, Any] = {"epoch": 1, "by_rank": [], "up:standby": 0}
    if not ceph.filesystems:
        return answer
    states = mds_states(cluster, ceph)
    active = [name for name, state in states.items() if state == "up:active"]
    answer["epoch"] = 8 + len(ceph.mds)
    answer["id"] = 1
    answer["up"] = len(active)
    answer["in"] = len(active)
    answer["max"] = len(ceph.filesystems)
    answer["by_rank"] = [{"filesystem_id": index + 1, "rank": 0, "name": name, "status": "up:active",
                          "gid": 24100 + list(ceph.mds).index(name)} for index, name in enumerate(active)]  # fmt: skip
    answer["up:standby"] = sum(1 for state in states.values() if state == "up:standby")
    return answer


@handles("GET", "/cluster/ceph/status")
def get_cluster_ceph_status(ctx: HandlerContext) -> dict[str, Any]:
    return cluster_status(ctx.cluster, _ceph(ctx))


@handles("GET", "/nodes/{node}/ceph/status")
def get_node_ceph_status(ctx: HandlerContext) -> dict[str, Any]:
    return cluster_status(ctx.cluster, _ceph_on(ctx))


# ---- services -----------------------------------------------------------------------------------------------------


def _service_base(ceph: CephCluster, name: str, host: str) -> dict[str, Any]:
    """What each node broadcasts of its Ceph daemons (PVE::Ceph::Services, ``service`` and ``direxists``) and what
    the daemon's metadata adds (versions)."""
    return {
        "name": name,
        "host": host,
        "service": 1,
        "direxists": 1,
        "ceph_version": ceph.release.version_text,
        "ceph_version_short": ceph.release.version,
    }


@handles("GET", "/nodes/{node}/ceph/mon")
def list_monitors(ctx: HandlerContext) -> list[dict[str, Any]]:
    """MON.pm ``listmon`` (lines 280-318): the services with rank and address from ``quorum_status``, quorum and
    ``running`` for the members of the quorum, ``stopped`` for the others."""
    cluster = ctx.cluster
    ceph = _inited_on(ctx)
    quorum = ceph.mons_in_quorum(cluster)
    rows = []
    for monid in sorted(ceph.mons):
        host = ceph.mons[monid]
        row = _service_base(ceph, monid, host)
        row["addr"] = f"{_ip(cluster, host)}:6789/0"
        row["rank"] = ceph.mon_rank(monid)
        if monid in quorum:
            row["quorum"] = 1
            row["state"] = "running"
        else:
            row["state"] = "stopped"
        rows.append(row)
    return rows


@handles("GET", "/nodes/{node}/ceph/mgr")
def list_managers(ctx: HandlerContext) -> list[dict[str, Any]]:
    """MGR.pm index (lines 86-108): ``active`` for ``mgr dump``'s active one, ``standby`` for its standbys."""
    cluster = ctx.cluster
    ceph = _ceph_on(ctx)
    dump = mgr_dump(cluster, ceph)
    standbys = {entry["name"] for entry in dump["standbys"]}
    rows = []
    for mgrid in sorted(ceph.mgrs):
        row = _service_base(ceph, mgrid, ceph.mgrs[mgrid])
        row["addr"] = _ip(cluster, ceph.mgrs[mgrid])
        row["state"] = "active" if mgrid == dump["active_name"] else "standby" if mgrid in standbys else "stopped"
        rows.append(row)
    return rows


@handles("GET", "/nodes/{node}/ceph/mds")
def list_metadata_servers(ctx: HandlerContext) -> list[dict[str, Any]]:
    """MDS.pm index (lines 104-125): the services merged with the MDS map's state, rank and address."""
    cluster = ctx.cluster
    ceph = _ceph_on(ctx)
    rows = []
    for mdsid, state in sorted(mds_states(cluster, ceph).items()):
        host = ceph.mds[mdsid]
        row = _service_base(ceph, mdsid, host)
        row["addr"] = f"{_ip(cluster, host)}:6801/{_nonce(ceph, 'mds', mdsid)}"
        row["state"] = state
        if state == "up:active":
            row["rank"] = 0
        row["standby_replay"] = 0
        rows.append(row)
    return rows


@handles("GET", "/nodes/{node}/ceph/fs")
def list_filesystems(ctx: HandlerContext) -> list[dict[str, Any]]:
    ceph = _ceph_on(ctx)
    return [{"name": fs.name, "metadata_pool": fs.metadata_pool, "data_pool": fs.data_pool}
            for fs in ceph.filesystems]  # fmt: skip


# ---- OSDs ---------------------------------------------------------------------------------------------------------


def _host_bucket_id(ceph: CephCluster, host: str) -> int:
    """CRUSH bucket ids: ``default`` is -1, its device-class shadow -2, then each host and its shadow."""
    return -3 - 2 * ceph.installed.index(host)


@handles("GET", "/nodes/{node}/ceph/osd")
def osd_tree(ctx: HandlerContext) -> dict[str, Any]:
    """OSD.pm index (lines 128-240): ``osd df tree`` with each OSD's state, usage and metadata under its host."""
    cluster = ctx.cluster
    ceph = _ceph_on(ctx)
    used = ceph.osd_used(cluster)
    pgs = ceph.osd_pgs(cluster)
    hosts = []
    for host in ceph.crush_hosts():
        children = []
        for osd in ceph.osds_on(host):
            total = osd.size
            children.append({
                "id": osd.osdid, "name": f"osd.{osd.osdid}", "type": "osd", "host": host, "leaf": 1,
                "status": "up" if ceph.osd_up(cluster, osd) else "down", "in": 1 if ceph.osd_in(cluster, osd) else 0,
                "crush_weight": osd.crush_weight, "reweight": 1, "device_class": osd.device_class,
                "pgs": pgs[osd.osdid] if ceph.osd_up(cluster, osd) else 0,
                "total_space": total, "bytes_used": used[osd.osdid],
                "percent_used": used[osd.osdid] * 100 / total,
                "commit_latency_ms": 0, "apply_latency_ms": 0,
                "osdtype": "bluestore", "blfsdev": f"/dev/dm-{ceph.osds_on(host).index(osd) + 5}",
                "ceph_version": ceph.release.version_text, "ceph_version_short": ceph.release.version,
            })  # fmt: skip
        entry: dict[str, Any] = {
            "id": _host_bucket_id(ceph, host),
            "name": host,
            "type": "host",
            "crush_weight": round(sum(osd.crush_weight for osd in ceph.osds_on(host)), 5),
            "version": ceph.release.version,
        }
        if children:
            entry["children"] = children
            entry["leaf"] = 0
        else:
            entry["leaf"] = 0
        hosts.append(entry)
    root = {"id": -1, "name": "default", "type": "root", "children": hosts, "leaf": 0,
            "crush_weight": round(sum(osd.crush_weight for osd in ceph.osds), 5)}  # fmt: skip
    return {"root": {"leaf": 0, "children": [root]}, "flags": ceph.flag_text()}


def _own_osd(ctx: HandlerContext) -> tuple[CephCluster, Osd]:
    ceph = _ceph_on(ctx)
    osdid = int(ctx.params["osdid"])
    osd = ceph.osd(osdid)
    if osd is None or osd.host != ctx.params["node"]:
        # OSD.pm line 767 (an OSD of another node); for an id no OSD has, 'osd metadata' fails before that
        raise PVEError(f"OSD '{osdid}' does not exists on host '{ctx.params['node']}'", 500)
    return ceph, osd


def osd_metadata_entry(cluster: FakeCluster, ceph: CephCluster, osd: Osd) -> dict[str, Any]:
    """The OSD's entry of ``ceph osd metadata`` (the keys PVE reads and lists)."""
    ip = _ip(cluster, osd.host)
    nonce = _nonce(ceph, "osd", osd.osdid)
    return {
        "id": osd.osdid,
        "hostname": osd.host,
        "arch": "x86_64",
        "back_addr": f"[v2:{ip}:{6802 + 4 * osd.osdid % 40}/{nonce},v1:{ip}:{6803 + 4 * osd.osdid % 40}/{nonce}]",
        "front_addr": f"[v2:{ip}:{6800 + 4 * osd.osdid % 40}/{nonce},v1:{ip}:{6801 + 4 * osd.osdid % 40}/{nonce}]",
        "hb_back_addr": f"[v2:{ip}:{6806 + 4 * osd.osdid % 40}/{nonce},v1:{ip}:{6807 + 4 * osd.osdid % 40}/{nonce}]",
        "hb_front_addr": f"[v2:{ip}:{6804 + 4 * osd.osdid % 40}/{nonce},v1:{ip}:{6805 + 4 * osd.osdid % 40}/{nonce}]",
        "ceph_release": ceph.release.codename,
        "ceph_version": ceph.release.version_text,
        "ceph_version_short": ceph.release.version,
        "device_ids": f"{osd.devpath.rsplit('/', 1)[1]}={osd.model.replace(' ', '_')}_{osd.serial}",
        "devices": osd.devpath.rsplit("/", 1)[1],
        "osd_data": f"/var/lib/ceph/osd/ceph-{osd.osdid}",
        "osd_objectstore": "bluestore",
        "bluefs": "1",
        "bluestore_bdev_dev_node": f"/dev/dm-{ceph.osds_on(osd.host).index(osd) + 5}",
        "bluestore_bdev_devices": osd.devpath.rsplit("/", 1)[1],
        "bluestore_bdev_size": str(osd.lv_size),
        "bluestore_bdev_support_discard": "1",
        "bluestore_bdev_type": "ssd" if osd.device_class != "hdd" else "hdd",
        "mem_swap_kb": "0",
        "mem_total_kb": str(cluster.node(osd.host).maxmem // 1024),
    }


@handles("GET", "/nodes/{node}/ceph/osd/{osdid}/metadata")
def osd_details(ctx: HandlerContext) -> dict[str, Any]:
    """OSD.pm ``osddetails`` (lines 758-834): the OSD's addresses, data path, version and memory, its block
    device (no separate DB/WAL: pveceph's default)."""
    ceph, osd = _own_osd(ctx)
    meta = osd_metadata_entry(ctx.cluster, ceph, osd)
    running = ceph.osd_up(ctx.cluster, osd)
    answer: dict[str, Any] = {
        "osd": {
            "hostname": osd.host, "id": osd.osdid, "mem_usage": osd.mem_usage if running else 0,
            "osd_data": meta["osd_data"], "osd_objectstore": "bluestore",
            "version": f"{ceph.release.version} ({ceph.release.codename})",
            "front_addr": meta["front_addr"], "back_addr": meta["back_addr"],
            "hb_front_addr": meta["hb_front_addr"], "hb_back_addr": meta["hb_back_addr"], "pid": osd.pid,
        },
        "devices": [{
            "dev_node": meta["bluestore_bdev_dev_node"], "devices": meta["bluestore_bdev_devices"],
            "size": int(meta["bluestore_bdev_size"]), "support_discard": 1,
            "type": meta["bluestore_bdev_type"], "device": "block",
        }],
    }  # fmt: skip
    return answer


@handles("GET", "/nodes/{node}/ceph/osd/{osdid}/lv-info")
def osd_volume(ctx: HandlerContext) -> dict[str, Any]:
    """OSD.pm ``osdvolume`` (lines 891-945): the block LV ``ceph-volume lvm list`` names, with ``lvs``' creation
    time (pveceph creates no separate db/wal volume: asking for one fails as PVE does)."""
    _ceph, osd = _own_osd(ctx)
    kind = ctx.params.get("type") or "block"
    if kind != "block":
        raise PVEError(f"volume type '{kind}' not found for OSD {osd.osdid}", 500)
    created = datetime.fromtimestamp(osd.created, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")
    return {
        "creation_time": created,
        "lv_name": osd.lv_name,
        "lv_path": osd.lv_path,
        "lv_size": osd.lv_size,
        "lv_uuid": osd.lv_uuid,
        "vg_name": osd.vg_name,
    }


# ---- pools --------------------------------------------------------------------------------------------------------


def _autoscale(cluster: FakeCluster, ceph: CephCluster, pool: CephPool) -> dict[str, Any]:
    """The pool's row of ``osd pool autoscale-status``."""
    stored = ceph.pool_stored(cluster, pool)
    raw_total = ceph.raw_total() or 1
    ratio = stored * pool.raw_rate / raw_total
    return {
        "pool_id": pool.pool_id,
        "pool_name": pool.name,
        "crush_root_id": -1,
        "pg_autoscale_mode": "on",
        "pg_num_target": pool.pg_num,
        "pg_num_final": pool.pg_num,
        "logical_used": stored,
        "target_bytes": 0,
        "raw_used_rate": pool.raw_rate,
        "subtree_capacity": raw_total,
        "capacity_ratio": float(f"{ratio:.8g}"),
        "target_ratio": 0.0,
        "effective_target_ratio": 0.0,
        "pg_num_ideal": max(int(ratio * 100 * len(ceph.osds) / pool.size), 0),
        "would_adjust": False,
        "bias": 4.0 if pool.application == "cephfs" and pool.name.endswith("_metadata") else 1.0,
        "bulk": False,
    }


def pool_rows(cluster: FakeCluster, ceph: CephCluster) -> list[dict[str, Any]]:
    """Pool.pm ``lspools`` (lines 168-250): ``osd dump``'s pools with ``df`` usage and the autoscaler's view."""
    used = ceph.osd_used(cluster)
    rows = []
    for pool in ceph.pools:
        df = ceph.pool_df(cluster, pool, used)
        auto = _autoscale(cluster, ceph, pool)
        row: dict[str, Any] = {
            "pool": pool.pool_id, "pool_name": pool.name, "size": pool.size, "min_size": pool.min_size,
            "pg_num": pool.pg_num, "crush_rule": pool.crush_rule, "pg_autoscale_mode": pool.pg_autoscale_mode,
            "application_metadata": {pool.application: _application_keys(pool)},
            "autoscale_status": auto, "pg_num_final": auto["pg_num_final"],
            "crush_rule_name": RULE, "bytes_used": df["bytes_used"], "percent_used": df["percent_used"],
            "type": "erasure" if pool.erasure_profile else "replicated",
        }  # fmt: skip
        if pool.pg_num_min is not None:
            row["pg_num_min"] = pool.pg_num_min
        rows.append(row)
    return rows


def _application_keys(pool: CephPool) -> dict[str, str]:
    if pool.application == "cephfs":
        return {"metadata" if pool.name.endswith("_metadata") else "data": pool.name.rsplit("_", 1)[0]}
    return {}


@handles("GET", "/nodes/{node}/ceph/pool")
def list_pools(ctx: HandlerContext) -> list[dict[str, Any]]:
    return pool_rows(ctx.cluster, _ceph_on(ctx))


@handles("GET", "/nodes/{node}/ceph/pools")  # PVE 7: the old name of the same method
def list_pools_pve7(ctx: HandlerContext) -> list[dict[str, Any]]:
    return pool_rows(ctx.cluster, _ceph_on(ctx))


def _pool_status(ctx: HandlerContext) -> dict[str, Any]:
    """Pool.pm ``getpool`` (lines 844-905): ``osd pool get <pool> all``; with ``verbose`` the autoscaler's row,
    ``df`` statistics and the applications."""
    cluster = ctx.cluster
    ceph = _ceph_on(ctx)
    name = str(ctx.params["name"])
    pool = ceph.pool(name)
    if pool is None:
        raise PVEError(f"error with 'osd pool get': mon_cmd failed - unrecognized pool '{name}'", 500)
    answer: dict[str, Any] = {
        "id": pool.pool_id, "name": pool.name, "size": pool.size, "min_size": pool.min_size,
        "pg_num": pool.pg_num, "pgp_num": pool.pg_num, "crush_rule": RULE,
        "pg_autoscale_mode": pool.pg_autoscale_mode,
        "noscrub": 0, "nodeep-scrub": 0, "nodelete": 0, "nopgchange": 0, "nosizechange": 0,
        "write_fadvise_dontneed": 0, "hashpspool": 1, "use_gmt_hitset": 1, "fast_read": 0,
    }  # fmt: skip
    if pool.pg_num_min is not None:
        answer["pg_num_min"] = pool.pg_num_min
    if pool.erasure_profile:
        answer["erasure_code_profile"] = pool.erasure_profile
        answer["allow_ec_overwrites"] = 1 if pool.allow_ec_overwrites else 0
    if ctx.params.get("verbose"):
        answer["autoscale_status"] = _autoscale(cluster, ceph, pool)
        answer["statistics"] = ceph.pool_df(cluster, pool)
        answer["application_list"] = [pool.application]
    return answer


@handles("GET", "/nodes/{node}/ceph/pool/{name}/status")
def get_pool_status(ctx: HandlerContext) -> dict[str, Any]:
    return _pool_status(ctx)


@handles("GET", "/nodes/{node}/ceph/pools/{name}")  # PVE 7: the old name of the same method
def get_pool_status_pve7(ctx: HandlerContext) -> dict[str, Any]:
    return _pool_status(ctx)


@handles("GET", "/nodes/{node}/ceph/rules")
def list_rules(ctx: HandlerContext) -> list[dict[str, str]]:
    _ceph_on(ctx)
    return [{"name": RULE}]


@handles("GET", "/nodes/{node}/ceph/crush")
def crush_map(ctx: HandlerContext) -> str:
    """``crushtool -d`` of the cluster's map (Ceph.pm ``crush``, lines 852-883)."""
    return crush_text(_ceph_on(ctx))


def crush_text(ceph: CephCluster) -> str:
    classes = sorted({osd.device_class for osd in ceph.osds})
    lines = ["# begin crush map", "tunable choose_local_tries 0", "tunable choose_local_fallback_tries 0",
             "tunable choose_total_tries 50", "tunable chooseleaf_descend_once 1", "tunable chooseleaf_vary_r 1",
             "tunable chooseleaf_stable 1", "tunable straw_calc_version 1", "tunable allowed_bucket_algs 54", "",
             "# devices"]  # fmt: skip
    lines += [f"device {osd.osdid} osd.{osd.osdid} class {osd.device_class}" for osd in ceph.osds]
    lines += ["", "# types"]
    types = ["osd", "host", "chassis", "rack", "row", "pdu", "pod", "room", "datacenter", "zone", "region", "root"]
    lines += [f"type {index} {name}" for index, name in enumerate(types)]
    lines += ["", "# buckets"]
    for host in ceph.crush_hosts():
        osds = ceph.osds_on(host)
        bucket = _host_bucket_id(ceph, host)
        lines += [f"host {host} {{", f"\tid {bucket}\t\t# do not change unnecessarily"]
        lines += [f"\tid {bucket - 1} class {cls}\t\t# do not change unnecessarily" for cls in classes]
        lines += [f"\t# weight {sum(osd.crush_weight for osd in osds):.5f}", "\talg straw2", "\thash 0\t# rjenkins1"]
        lines += [f"\titem osd.{osd.osdid} weight {osd.crush_weight:.5f}" for osd in osds]
        lines += ["}"]
    lines += ["root default {", "\tid -1\t\t# do not change unnecessarily"]
    lines += [f"\tid -2 class {cls}\t\t# do not change unnecessarily" for cls in classes]
    lines += [f"\t# weight {sum(osd.crush_weight for osd in ceph.osds):.5f}", "\talg straw2", "\thash 0\t# rjenkins1"]
    lines += [f"\titem {host} weight {sum(osd.crush_weight for osd in ceph.osds_on(host)):.5f}"
              for host in ceph.crush_hosts()]  # fmt: skip
    lines += ["}", "", "# rules", f"rule {RULE} {{", "\tid 0", "\ttype replicated", "\tstep take default",
              "\tstep chooseleaf firstn 0 type host", "\tstep emit", "}", "", "# end crush map", ""]  # fmt: skip
    return "\n".join(lines)


# ---- configuration ------------------------------------------------------------------------------------------------


def ceph_conf(cluster: FakeCluster, ceph: CephCluster) -> str:
    """/etc/pve/ceph.conf as ``pveceph init`` and ``pveceph mon/mds create`` write it (Ceph.pm ``init`` lines
    279-324, MON.pm lines 431-539, MDS.pm lines 186-199): the global settings, the keyrings' places, a section per
    monitor and MDS."""
    auth = "cephx" if ceph.cephx else "none"
    settings = {"auth_client_required": auth, "auth_cluster_required": auth, "auth_service_required": auth,
                "fsid": ceph.fsid, "mon_allow_pool_delete": "true",
                "osd_pool_default_min_size": str(ceph.default_min_size),
                "osd_pool_default_size": str(ceph.default_size)}  # fmt: skip
    if ceph.public_network:
        settings["public_network"] = ceph.public_network
    if ceph.cluster_network:
        settings["cluster_network"] = ceph.cluster_network
    if ceph.mons:
        settings["mon_host"] = " ".join(_ip(cluster, host) for host in ceph.mons.values())
        settings["ms_bind_ipv4"] = "true"
        settings["ms_bind_ipv6"] = "false"
    lines = ["[global]"] + [f"\t{key} = {value}" for key, value in sorted(settings.items())] + [""]
    if ceph.cephx:
        lines += ["[client]", "\tkeyring = /etc/pve/priv/$cluster.$name.keyring", ""]
    if ceph.mons:
        lines += ["[client.crash]", "\tkeyring = /etc/pve/ceph/$cluster.$name.keyring", ""]
    if ceph.mds:
        lines += ["[mds]", "\tkeyring = /var/lib/ceph/mds/ceph-$id/keyring", ""]
        for mdsid, host in ceph.mds.items():
            lines += [f"[mds.{mdsid}]", f"\thost = {host}", "\tmds_standby_for_name = pve", ""]
    for monid, host in ceph.mons.items():
        lines += [f"[mon.{monid}]", f"\tpublic_addr = {_ip(cluster, host)}", ""]
    return "\n".join(lines)


def config_db(ceph: CephCluster) -> list[dict[str, Any]]:
    """``ceph config dump``: what the first ``pveceph mon create`` set (MON.pm lines 511-529) and, from Quincy on,
    the IOPS capacity each OSD measured at its first start (the keys OSD.pm's destroy removes, lines 1055-1070)."""
    rows: list[dict[str, Any]] = [
        {"section": "mon", "name": "auth_allow_insecure_global_id_reclaim", "value": "false", "level": "advanced",
         "can_update_at_runtime": 1, "mask": ""},
    ]  # fmt: skip
    if ceph.release.major >= 17:
        for osd in ceph.osds:
            draw = figures.seeded(ceph.seed, "ceph-osd-iops", osd.osdid)
            kind = "hdd" if osd.device_class == "hdd" else "ssd"
            iops = draw.uniform(280, 420) if kind == "hdd" else draw.uniform(18_000, 42_000)
            rows.append({"section": f"osd.{osd.osdid}", "name": f"osd_mclock_max_capacity_iops_{kind}",
                         "value": f"{iops:.6f}", "level": "basic", "can_update_at_runtime": 1, "mask": ""})  # fmt: skip
    return rows


@handles("GET", "/nodes/{node}/ceph/cfg/raw")
def config_raw(ctx: HandlerContext) -> str:
    return ceph_conf(ctx.cluster, _inited_on(ctx))


@handles("GET", "/nodes/{node}/ceph/config")  # PVE 7: the old name of cfg/raw
def config_raw_pve7(ctx: HandlerContext) -> str:
    return ceph_conf(ctx.cluster, _inited_on(ctx))


@handles("GET", "/nodes/{node}/ceph/cfg/db")
def config_database(ctx: HandlerContext) -> list[dict[str, Any]]:
    return config_db(_ceph_on(ctx))


@handles("GET", "/nodes/{node}/ceph/configdb")  # PVE 7: the old name of cfg/db
def config_database_pve7(ctx: HandlerContext) -> list[dict[str, Any]]:
    return config_db(_ceph_on(ctx))


@handles("GET", "/nodes/{node}/ceph/cfg/value")
def config_values(ctx: HandlerContext) -> dict[str, Any]:
    """Cfg.pm ``value`` (lines 181-235): the asked ``section:key`` pairs from the config DB, then ceph.conf;
    underscores read as hyphens."""
    ceph = _ceph_on(ctx)
    wanted: dict[str, set[str]] = {}
    for pair in str(ctx.params["config-keys"]).replace(";", " ").replace(",", " ").split():
        section, _, key = pair.partition(":")
        wanted.setdefault(section.replace("_", "-"), set()).add(key.replace("_", "-"))
    answer: dict[str, dict[str, str]] = {}

    def offer(section: str, key: str, value: str) -> None:
        section, key = section.replace("_", "-"), key.replace("_", "-")
        if key in wanted.get(section, ()):
            answer.setdefault(section, {})[key] = value

    for row in config_db(ceph):
        offer(row["section"], row["name"], row["value"])
    section = ""
    for line in ceph_conf(ctx.cluster, ceph).splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif " = " in line:
            key, _, value = line.partition(" = ")
            offer(section, key, value)
    return answer


# ---- log ----------------------------------------------------------------------------------------------------------


def ceph_log_lines(cluster: FakeCluster, ceph: CephCluster) -> list[str]:
    """/var/log/ceph/ceph.log since its daily rotation: the leader monitor's ``overall`` health line every ten
    minutes (mon_health_to_clog_interval = 600)."""
    now = cluster.clock.now()
    leader = next(iter(ceph.mons_in_quorum(cluster)), next(iter(ceph.mons), ""))
    if not leader:
        return []
    start = max(now - now % 86400, ceph.created)
    health = ceph.health(cluster)["status"]
    lines = []
    sequence = figures.seeded(ceph.seed, "ceph-log").randrange(100_000, 900_000) + (start - ceph.created) // 600
    for moment in range(start - start % 600 + 600, now + 1, 600):
        sequence += 1
        text = "overall HEALTH_OK" if health == "HEALTH_OK" else f"Health detail: {health}"
        level = "INF" if health == "HEALTH_OK" else "WRN"
        lines.append(f"{_iso(moment)} mon.{leader} (mon.{ceph.mon_rank(leader)}) {sequence} : cluster [{level}] "
                     f"{text}")  # fmt: skip
    return lines


@handles("GET", "/nodes/{node}/ceph/log")
def read_log(ctx: HandlerContext) -> Result:
    """Ceph.pm ``log`` (lines 930-946) through PVE::Tools::dump_logfile: ``limit`` lines (50) from ``start``, 1-based
    numbers, the count of all lines as ``total`` ("no content" for an empty file)."""
    ceph = _inited_on(ctx)
    return dump_logfile(ceph_log_lines(ctx.cluster, ceph), ctx.params)


# ---- cluster-wide -------------------------------------------------------------------------------------------------


def _versions(cluster: FakeCluster, ceph: CephCluster) -> dict[str, Any]:
    release = ceph.release
    parts = [int(part) for part in release.version.split(".")]
    return {host: {"version": {"str": release.version, "parts": parts}, "buildcommit": release.commit}
            for host in ceph.installed}  # fmt: skip


@handles("GET", "/cluster/ceph/metadata")
def cluster_metadata(ctx: HandlerContext) -> dict[str, Any]:
    """Cluster/Ceph.pm ``metadata`` (lines 265-311): the versions the nodes report (also without Ceph, then none),
    then per daemon type its metadata keyed ``<id>@<host>``, and the OSDs' metadata."""
    cluster = ctx.cluster
    ceph = cluster.ceph
    answer: dict[str, Any] = {"node": _versions(cluster, ceph) if ceph else {}}
    if ctx.params.get("scope") == "versions":
        return answer
    ceph = _ceph(ctx)
    for kind, daemons in (("mon", ceph.mons), ("mgr", ceph.mgrs), ("mds", ceph.mds)):
        entries = {}
        for name, host in daemons.items():
            node = cluster.node(host)
            draw = figures.seeded(ceph.seed, "ceph-daemon-mem", kind, host)
            entry = {
                "name": name, "hostname": host, "ceph_release": ceph.release.codename,
                "ceph_version": ceph.release.version_text, "ceph_version_short": ceph.release.version,
                "mem_swap_kb": 0, "mem_total_kb": node.maxmem // 1024, "service": 1, "direxists": 1,
                "arch": "x86_64", "kernel_version": cluster.kernel[0],
                "addr" if kind != "mon" else "addrs": (
                    f"[v2:{node.ip}:3300/0,v1:{node.ip}:6789/0]" if kind == "mon"
                    else f"{node.ip}:{6800 + draw.randrange(0, 30)}/{_nonce(ceph, kind, host)}"
                ),
            }  # fmt: skip
            entries[f"{name}@{host}"] = entry
        answer[kind] = entries
    answer["osd"] = [osd_metadata_entry(cluster, ceph, osd) for osd in ceph.osds]
    return answer


@handles("GET", "/cluster/ceph/flags")
def list_flags(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Cluster/Ceph.pm ``get_all_flags`` (lines 879-903): every settable OSD flag with whether it is set."""
    ceph = _ceph(ctx, configured=True)
    return [{"name": name, "description": text, "value": 1 if ceph_admin.flag_is_set(ceph, name) else 0}
            for name, text in FLAG_NAMES.items()]  # fmt: skip


@handles("GET", "/cluster/ceph/flags/{flag}")
def get_flag(ctx: HandlerContext) -> int:
    ceph = _ceph(ctx, configured=True)
    return 1 if ceph_admin.flag_is_set(ceph, str(ctx.params["flag"])) else 0


@handles("GET", "/nodes/{node}/ceph/cmd-safety")
def command_safety(ctx: HandlerContext) -> dict[str, Any]:
    """Ceph.pm ``cmd_safety``: ``ok-to-stop`` / ``ok-to-rm`` as Ceph answers them for a monitor, an OSD or an MDS:
    stopping a monitor is safe while the others keep a quorum, an OSD while every PG keeps min_size copies."""
    cluster = ctx.cluster
    ceph = _ceph_on(ctx)
    service, ident, action = str(ctx.params["service"]), str(ctx.params["id"]), str(ctx.params["action"])
    if service == "mds" and action == "destroy":
        raise PVEError(f"Service does not support this action: {service}: {action}", 500)
    known = {"mon": list(ceph.mons), "mds": list(ceph.mds), "osd": [str(osd.osdid) for osd in ceph.osds]}[service]
    if ident not in known:
        return {"safe": 0}  # Ceph refuses an id it does not know (its message is not modelled)
    if service == "mon":
        quorum = ceph.mons_in_quorum(cluster)
        remaining = [host for host in quorum if host != ident]
        safe = len(remaining) * 2 > len(ceph.mons)
        if safe:
            return {"safe": 1, "status": f"quorum should be preserved ({','.join(remaining)}) after changes"}
        return {"safe": 0, "status": f"not enough monitors would be available ({','.join(remaining)}) after {action}"}
    if service == "osd":
        hosts_up = {osd.host for osd in ceph.osds if ceph.osd_up(cluster, osd) and str(osd.osdid) != ident}
        safe = len(hosts_up) >= max(pool.min_size for pool in ceph.pools)
        pgs = ceph.osd_pgs(cluster).get(int(ident), 0) if ident.isdigit() else 0
        if safe:
            status = (f"OSD(s) {ident} are ok to stop without reducing availability or risking data, provided there "
                      "are no other concurrent failures or interventions. "
                      f"{pgs} PGs are likely to be degraded (but remain available) as a result.")  # fmt: skip
            return {"safe": 1, "status": status}
        return {"safe": 0, "status": f"{pgs} PGs are already too degraded, would become too degraded or might "
                                     "become unavailable"}  # fmt: skip
    return {"safe": 1, "status": ""}
