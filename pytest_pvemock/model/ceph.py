"""A hyper-converged Ceph cluster on the PVE nodes, as ``pveceph`` sets one up: a monitor and a manager per node,
OSDs on each node's spare disks, pools (``.mgr`` plus the ones asked for, each with its RBD storage), optionally a
CephFS with a metadata server per node.

Every figure is derived, so that the answers agree with each other: a pool *stores* its base objects plus the guest
volumes on the RBD storage named after it (pveceph ``pool create --add_storages`` names the storage after the
pool); the OSDs hold every pool's data times its replica count, spread by CRUSH weight; a pool's ``max_avail`` is
what the fullest OSD still allows at the 0.95 full ratio, divided by the replica count, and the RBD storage shows
``stored`` as used and ``stored + max_avail`` as total (pve-storage src/PVE/Storage/RBDPlugin.pm ``status``, lines
779-802, commit 0c56bad8). OSDs and monitors on an offline node are down, and health says so.

Which Ceph release runs follows the PVE release (``third_party/pve-ceph``, see its SOURCE.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model import figures

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.storage import Storage

GIB = 1024**3
TIB = 1024**4
FULL_RATIO = 0.95
OBJECT_SIZE = 4 * 1024**2  # RBD's default object size
NOT_INSTALLED = "binary not installed: /usr/bin/ceph-mon"  # pve-manager PVE/Ceph/Tools.pm check_ceph_installed
# Ceph's OSDMap::get_flag_string order; the first fourteen raise OSDMAP_FLAGS when set.
FLAG_ORDER = ("pauserd", "pausewr", "noup", "nodown", "noout", "noin", "nobackfill", "norebalance", "norecover",
              "noscrub", "nodeep-scrub", "notieragent", "nosnaptrim", "sortbitwise", "recovery_deletes",
              "purged_snapdirs", "pglog_hardlimit")  # fmt: skip
WARN_FLAGS = FLAG_ORDER[:13]
DOWN_OUT_INTERVAL = 600  # Ceph's mon_osd_down_out_interval

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_CANDIDATES = (_PACKAGE_DIR / "_pve_ceph", _PACKAGE_DIR.parent / "third_party" / "pve-ceph")

# What each device class looks like on a node: the kernel's device names and a model with its size.
DEVICE_CLASSES = {
    "nvme": ("/dev/nvme{n}n1", "SAMSUNG MZQL2960HCJR-00A07", 960_197_124_096),
    "ssd": ("/dev/sd{letter}", "SAMSUNG MZ7L3960HCJR-00A07", 960_197_124_096),
    "hdd": ("/dev/sd{letter}", "ST4000NM000A-2HZ100", 4_000_787_030_016),
}


@cache
def _releases() -> dict[str, Any]:
    for folder in _CANDIDATES:
        path = folder / "releases.json"
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    raise FileNotFoundError("releases.json not found in " + ", ".join(str(folder) for folder in _CANDIDATES))


@dataclass(frozen=True)
class CephRelease:
    codename: str
    release: str
    version: str
    commit: str

    @property
    def version_text(self) -> str:
        """What ``ceph --version`` prints and the daemons' metadata carry."""
        return f"ceph version {self.version} ({self.commit}) {self.codename} (stable)"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def release_for(cluster: FakeCluster) -> CephRelease:
    """The Ceph release a new setup gets on the cluster's PVE release (the install wizard's default then)."""
    data = _releases()
    codename = data["default_by_pve_release"][0]["codename"]
    for entry in data["default_by_pve_release"]:
        major, minor = (int(part) for part in entry["from"].split("."))
        if (cluster.release.major, _minor_number(cluster)) >= (major, minor):
            codename = entry["codename"]
    info = data["releases"][codename]
    return CephRelease(codename, info["release"], info["version"], info["commit"])


def _minor_number(cluster: FakeCluster) -> int:
    return int(cluster.release.minor.split(".")[1])


@dataclass
class Osd:
    """One OSD: a whole disk given to ``pveceph osd create``, as an LVM volume of its own volume group."""

    osdid: int
    host: str
    device_class: str
    devpath: str
    size: int
    model: str
    serial: str
    osd_fsid: str
    vg_uuid: str
    lv_uuid: str
    created: int
    pid: int
    mem_usage: int
    #: ``in`` the data placement (``ceph osd in``/``out``); an OSD taken out keeps running but holds no PGs.
    placed: bool = True

    @property
    def crush_weight(self) -> float:
        """The CRUSH weight ``ceph-volume`` gives: the size in TiB, five decimals."""
        return round(self.size / TIB, 5)

    @property
    def lv_size(self) -> int:
        """The block LV: every 4 MiB extent of the disk after LVM's 1 MiB of metadata (``ceph-volume``: 100%FREE)."""
        return (self.size - 1024**2) // (4 * 1024**2) * (4 * 1024**2)

    @property
    def vg_name(self) -> str:
        return f"ceph-{self.vg_uuid}"

    @property
    def lv_name(self) -> str:
        return f"osd-block-{self.osd_fsid}"

    @property
    def lv_path(self) -> str:
        return f"/dev/{self.vg_name}/{self.lv_name}"


@dataclass
class CephPool:
    pool_id: int
    name: str
    application: str
    pg_num: int
    size: int = 3
    min_size: int = 2
    crush_rule: int = 0
    base_stored: int = 0
    pg_num_min: int | None = None
    pg_autoscale_mode: str = "on"
    target_size_bytes: int = 0
    target_size_ratio: float = 0.0
    #: An erasure coded pool: its profile and data chunks (k; ``size`` is k+m), and whether RBD may overwrite.
    erasure_profile: str | None = None
    data_chunks: int = 0
    allow_ec_overwrites: bool = False

    @property
    def raw_rate(self) -> float:
        """Raw bytes per byte stored: the replica count, or (k+m)/k for an erasure coded pool."""
        return self.size / self.data_chunks if self.erasure_profile else float(self.size)

    @property
    def objects_base(self) -> int:
        return max(self.base_stored // OBJECT_SIZE, 2)


@dataclass
class SpareDisk:
    """A disk of a node that no OSD uses: empty (``used`` ""), or left with the LVM of an OSD destroyed without
    ``cleanup`` (``used`` "LVM"; ``pveceph osd create`` refuses it as in use)."""

    host: str
    devpath: str
    size: int
    model: str
    serial: str
    device_class: str
    used: str = ""


@dataclass
class CephFs:
    name: str
    metadata_pool: str
    data_pool: str


@dataclass
class CephCluster:
    """The Ceph cluster's state; figures that depend on the guests are computed from the :class:`FakeCluster`."""

    fsid: str
    release: CephRelease
    created: int
    network: str
    #: The monitors, ``{monid: node}`` (the id is the node's name unless ``pveceph mon create`` was given one).
    mons: dict[str, str]
    #: The nodes where the Ceph packages are installed (``pveceph install``).
    installed: list[str] = field(default_factory=list)
    #: ``/etc/pve/ceph.conf`` exists (``pveceph init``); without it every Ceph call but ``init`` is refused.
    initialized: bool = True
    #: ``/etc/pve/priv/ceph.client.admin.keyring`` exists (init with cephx, or the first monitor made it).
    admin_keyring: bool = True
    mgrs: dict[str, str] = field(default_factory=dict)
    mds: dict[str, str] = field(default_factory=dict)
    osds: list[Osd] = field(default_factory=list)
    pools: list[CephPool] = field(default_factory=list)
    filesystems: list[CephFs] = field(default_factory=list)
    spare_disks: list[SpareDisk] = field(default_factory=list)
    #: The OSD map's flags as ``ceph osd dump`` names them (``noout``, ``pauserd``, ...).
    flags: set[str] = field(default_factory=lambda: {"sortbitwise", "recovery_deletes", "purged_snapdirs",
                                                       "pglog_hardlimit"})  # fmt: skip
    #: Daemons stopped through ``pveceph stop`` (``mon.pve1``, ``osd.3``) and since when: down although their
    #: node runs.
    stopped: dict[str, int] = field(default_factory=dict)
    #: ``[global]`` of ceph.conf as ``pveceph init`` wrote it.
    public_network: str | None = None
    cluster_network: str | None = None
    default_size: int = 3
    default_min_size: int = 2
    cephx: bool = True
    #: The highest pool id Ceph gave (ids are never reused).
    pool_max: int = 0
    #: Erasure code profiles (``osd erasure-code-profile set``): name -> k, m, failure domain, device class.
    ec_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    #: RBD storages whose pool is not their name (``pool``, ``data-pool`` of an erasure coded pool's storage).
    rbd_pools: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    seed: str = "0"

    @property
    def hosts(self) -> list[str]:
        """The nodes that run a monitor, in the monitor map's order."""
        return list(self.mons.values())

    @property
    def mds_hosts(self) -> list[str]:
        return list(self.mds.values())

    # ---- lookups ---------------------------------------------------------------------------------------------

    def installed_on(self, node: str) -> bool:
        """Whether the Ceph packages are on ``node`` and ceph.conf exists (``check_ceph_inited`` passes)."""
        return node in self.installed and self.initialized

    def running(self, cluster: FakeCluster, daemon: str, host: str) -> bool:
        """Whether ``daemon`` (``mon.pve1``) runs: its node is online and nobody stopped it."""
        node = cluster.find_node(host)
        return node is not None and node.online and daemon not in self.stopped

    def pool(self, name: str) -> CephPool | None:
        return next((pool for pool in self.pools if pool.name == name), None)

    def osd(self, osdid: int) -> Osd | None:
        return next((osd for osd in self.osds if osd.osdid == osdid), None)

    def osds_on(self, node: str) -> list[Osd]:
        return [osd for osd in self.osds if osd.host == node]

    def osd_up(self, cluster: FakeCluster, osd: Osd) -> bool:
        return self.running(cluster, f"osd.{osd.osdid}", osd.host)

    def mons_in_quorum(self, cluster: FakeCluster) -> list[str]:
        """The monitors in quorum (their ids): those running, if they are a majority of the map (else none)."""
        up = [monid for monid, host in self.mons.items() if self.running(cluster, f"mon.{monid}", host)]
        return up if len(up) * 2 > len(self.mons) else []

    def mon_rank(self, monid: str) -> int:
        return list(self.mons).index(monid)

    def active_mgr(self, cluster: FakeCluster) -> str | None:
        """The first running manager is active (the others are standbys); its id."""
        return next((mgrid for mgrid, host in self.mgrs.items() if self.running(cluster, f"mgr.{mgrid}", host)), None)

    def crush_hosts(self) -> list[str]:
        """The CRUSH map's host buckets: the nodes with OSDs (ceph-volume adds a host with its first OSD)."""
        return [host for host in self.installed if self.osds_on(host)]

    def osd_in(self, cluster: FakeCluster, osd: Osd) -> bool:
        """Whether the OSD is ``in``: not taken out, and not stopped for longer than mon_osd_down_out_interval
        (the monitors then mark it out, unless the ``noout`` flag is set; it comes back in when it starts again:
        mon_osd_auto_mark_auto_out_in)."""
        if not osd.placed:
            return False
        since = self.stopped.get(f"osd.{osd.osdid}")
        return since is None or "noout" in self.flags or cluster.clock.now() - since < DOWN_OUT_INTERVAL

    def placed_osds(self, cluster: FakeCluster) -> list[Osd]:
        """The OSDs ``in`` the data placement."""
        return [osd for osd in self.osds if self.osd_in(cluster, osd)]

    def flag_text(self) -> str:
        """The flags as ``ceph osd dump`` prints them: in the order of Ceph's OSDMap::get_flag_string."""
        return ",".join(flag for flag in FLAG_ORDER if flag in self.flags)

    # ---- figures ---------------------------------------------------------------------------------------------

    def pool_storages(self, cluster: FakeCluster, pool: CephPool) -> list[Storage]:
        """The PVE storages that keep their data in ``pool``: RBD storages named after it, a CephFS on it."""
        data_pools = {fs.name: fs.data_pool for fs in self.filesystems}
        found = []
        for storage in cluster.storages:
            rbd = storage.plugintype == "rbd" and pool.name in self.rbd_pools.get(storage.storage, (storage.storage,))
            if rbd or (storage.plugintype == "cephfs" and data_pools.get(storage.storage) == pool.name):
                found.append(storage)
        return found

    def pool_stored(self, cluster: FakeCluster, pool: CephPool) -> int:
        """User data in the pool (without replication): its base objects and the volumes on its storages."""
        stored = pool.base_stored
        for storage in self.pool_storages(cluster, pool):
            data_pool = self.rbd_pools.get(storage.storage, ("", None))[1]
            if data_pool is not None and data_pool != pool.name:
                continue  # the images' data is in the data pool, their metadata here is small
            stored += sum(size for _guest, _volid, size in cluster.guest_volumes(storage.storage))
            stored += sum(volume.size for volume in storage.volumes)
        return stored

    def pool_objects(self, cluster: FakeCluster, pool: CephPool) -> int:
        return pool.objects_base + (self.pool_stored(cluster, pool) - pool.base_stored) // OBJECT_SIZE

    def raw_total(self) -> int:
        return sum(osd.size for osd in self.osds)

    def osd_overhead(self, osd: Osd) -> int:
        """BlueStore's own use of an OSD (RocksDB, BlueFS): about a GiB, drawn per OSD."""
        return figures.seeded(self.seed, "ceph-osd-overhead", osd.osdid).randrange(900_000_000, 1_600_000_000)

    def osd_used(self, cluster: FakeCluster) -> dict[int, int]:
        """Raw bytes used per OSD: every pool's data times its replicas, spread by CRUSH weight over the OSDs ``in``
        with a little imbalance (as CRUSH places PGs), plus BlueStore's overhead."""
        raw = int(sum(self.pool_stored(cluster, pool) * pool.raw_rate for pool in self.pools))
        shares = {}
        for osd in self.placed_osds(cluster):
            jitter = figures.seeded(self.seed, "ceph-osd-share", osd.osdid).uniform(0.96, 1.04)
            shares[osd.osdid] = osd.crush_weight * jitter
        whole = sum(shares.values()) or 1.0
        used = {osd.osdid: int(raw * shares.get(osd.osdid, 0.0) / whole) for osd in self.osds}
        if shares:
            first = self.placed_osds(cluster)[0].osdid
            used[first] += raw - sum(used.values())
        return {osd.osdid: used[osd.osdid] + self.osd_overhead(osd) for osd in self.osds}

    def max_avail(self, cluster: FakeCluster, pool: CephPool, used: dict[int, int] | None = None) -> int:
        """What can still be written to ``pool`` (before replication): the fullest OSD's room below the full
        ratio, scaled by its share of the CRUSH weight, divided by the replica count (Ceph's PGMap::get_rule_avail)."""
        used = self.osd_used(cluster) if used is None else used
        up = [osd for osd in self.placed_osds(cluster) if self.osd_up(cluster, osd)]
        whole = sum(osd.crush_weight for osd in up)
        if not up or whole <= 0:
            return 0
        room = min(max(int(osd.size * FULL_RATIO) - used[osd.osdid], 0) / (osd.crush_weight / whole) for osd in up)
        return int(room / pool.raw_rate)

    def pool_df(self, cluster: FakeCluster, pool: CephPool, used: dict[int, int] | None = None) -> dict[str, Any]:
        """The pool's ``stats`` as ``ceph df`` reports them."""
        stored = self.pool_stored(cluster, pool)
        avail = self.max_avail(cluster, pool, used)
        raw_used = int(stored * pool.raw_rate)
        percent = raw_used / (raw_used + avail * pool.raw_rate) if raw_used + avail else 0.0
        return {
            "stored": stored,
            "stored_data": stored,
            "stored_omap": 0,
            "objects": self.pool_objects(cluster, pool),
            "kb_used": -(-raw_used // 1024),
            "bytes_used": raw_used,
            "data_bytes_used": raw_used,
            "omap_bytes_used": 0,
            "percent_used": float(f"{percent:.8g}"),
            "max_avail": avail,
            "quota_objects": 0,
            "quota_bytes": 0,
            "dirty": 0,
            "rd": 0,
            "rd_bytes": 0,
            "wr": 0,
            "wr_bytes": 0,
            "compress_bytes_used": 0,
            "compress_under_bytes": 0,
            "stored_raw": raw_used,
            "avail_raw": int(avail * pool.raw_rate),
        }

    def storage_usage(self, cluster: FakeCluster, storage: Storage) -> tuple[int, int, int] | None:
        """(total, used, avail) of a storage on this Ceph cluster as PVE computes it: used is the pool's stored
        data, avail its max_avail (RBDPlugin.pm ``status``); ``None`` for other storages."""
        if storage.plugintype == "rbd":  # RBDPlugin: the data pool's figures where there is one
            pool_name, data_pool = self.rbd_pools.get(storage.storage, (storage.storage, None))
            pool = self.pool(data_pool or pool_name)
        elif storage.plugintype == "cephfs":
            fs = next((fs for fs in self.filesystems if fs.name == storage.storage), None)
            pool = self.pool(fs.data_pool) if fs else None
        else:
            return None
        if pool is None:
            return None
        stored = self.pool_stored(cluster, pool)
        avail = self.max_avail(cluster, pool)
        return stored + avail, stored, avail

    def pg_total(self) -> int:
        return sum(pool.pg_num for pool in self.pools)

    def osd_pgs(self, cluster: FakeCluster) -> dict[int, int]:
        """PG replicas per OSD, spread by weight (the sum is every pool's pg_num times its size)."""
        total = sum(pool.pg_num * pool.size for pool in self.pools)
        placed = self.placed_osds(cluster)
        whole = sum(osd.crush_weight for osd in placed) or 1.0
        pgs = {osd.osdid: int(total * osd.crush_weight / whole) if osd in placed else 0 for osd in self.osds}
        if placed:
            pgs[placed[0].osdid] += total - sum(pgs.values())
        return pgs

    def health(self, cluster: FakeCluster) -> dict[str, Any]:
        """``ceph health detail``: HEALTH_OK, or the warnings of Ceph's checks (keyed by name, sorted as Ceph's
        map is): monitors and OSDs down (an offline node, ``pveceph stop``), no active manager, OSD map flags set,
        fewer OSDs than ``osd_pool_default_size``."""
        checks: dict[str, Any] = {}
        quorum = self.mons_in_quorum(cluster)
        down_mons = [monid for monid, host in self.mons.items() if not self.running(cluster, f"mon.{monid}", host)]
        if down_mons and quorum:
            message = f"{len(down_mons)}/{len(self.mons)} mons down, quorum {','.join(quorum)}"
            checks["MON_DOWN"] = _check(
                "HEALTH_WARN",
                message,
                [
                    f"mon.{monid} (rank {self.mon_rank(monid)}) addr [v2:{_ip(cluster, self.mons[monid])}:3300/0,"
                    f"v1:{_ip(cluster, self.mons[monid])}:6789/0] is down (out of quorum)"
                    for monid in down_mons
                ],
            )
        if self.mgrs and self.active_mgr(cluster) is None:
            checks["MGR_DOWN"] = _check("HEALTH_WARN", "no active mgr", [])
        down_osds = [osd for osd in self.osds if not self.osd_up(cluster, osd)]
        if down_osds:
            checks["OSD_DOWN"] = _check("HEALTH_WARN", f"{len(down_osds)} osds down",
                                        [f"osd.{osd.osdid} (root=default,host={osd.host}) is down"
                                         for osd in down_osds])  # fmt: skip
        down_hosts = [host for host in dict.fromkeys(osd.host for osd in self.osds)
                      if all(osd in down_osds for osd in self.osds_on(host))]  # fmt: skip
        if down_hosts:
            count = sum(len(self.osds_on(host)) for host in down_hosts)
            checks["OSD_HOST_DOWN"] = _check("HEALTH_WARN", f"{len(down_hosts)} host ({count} osds) down",
                                             [f"host {host} (root=default) ({len(self.osds_on(host))} osds) is down"
                                              for host in down_hosts])  # fmt: skip
        flags = [flag for flag in WARN_FLAGS if flag in self.flags]
        if flags:
            checks["OSDMAP_FLAGS"] = _check("HEALTH_WARN", f"{','.join(flags)} flag(s) set", [])
        if len(self.osds) < self.default_size:
            message = f"OSD count {len(self.osds)} < osd_pool_default_size {self.default_size}"
            checks["TOO_FEW_OSDS"] = _check("HEALTH_WARN", message, [])
        status = "HEALTH_WARN" if checks else "HEALTH_OK"
        return {"status": status, "checks": dict(sorted(checks.items())), "mutes": []}


def _check(severity: str, message: str, detail: list[str]) -> dict[str, Any]:
    return {
        "severity": severity,
        "summary": {"message": message, "count": len(detail)},
        "detail": [{"message": line} for line in detail],
        "muted": False,
    }


def _ip(cluster: FakeCluster, host: str) -> str:
    node = cluster.find_node(host)
    return node.ip if node else ""


def _disk_letter(index: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[index % 26]


def build_ceph(
    cluster: FakeCluster,
    *,
    nodes: list[str] | None = None,
    osds_per_node: int = 2,
    device_class: str = "nvme",
    pools: list[dict[str, Any]] | None = None,
    cephfs: dict[str, Any] | None = None,
    initialized: bool = True,
    spare_disks: int = 0,
) -> CephCluster:
    """A Ceph cluster on ``nodes`` (default: all) as pveceph builds it; adds the RBD (and CephFS) storages.

    ``initialized=False``: only the packages are installed (``pveceph install``), no ceph.conf, no daemons, no
    OSDs or pools: what ``pveceph init`` and ``mon create`` start from. ``spare_disks``: empty disks per node of the
    device class, for ``pveceph osd create``."""
    if not initialized and (pools or cephfs is not None):
        raise ValueError("a Ceph that is only installed (initialized: false) has no pools and no CephFS")
    if not 0 <= spare_disks <= 24:
        raise ValueError(f"spare_disks must be between 0 and 24, not {spare_disks}")
    if device_class not in DEVICE_CLASSES:
        raise ValueError(f"device class must be one of {', '.join(DEVICE_CLASSES)}, not {device_class!r}")
    if osds_per_node < 0:
        raise ValueError(f"osds_per_node must be 0 or more, not {osds_per_node}")
    hosts = list(nodes) if nodes else [node.name for node in cluster.nodes]
    for host in hosts:
        cluster.node(host)  # a LookupError naming the nodes there are
    seed = str(cluster.seed)
    rng = figures.seeded(seed, "ceph", cluster.name)
    now = cluster.clock.now()
    created = now - rng.randrange(90 * 86400, 400 * 86400)
    first_ip = cluster.node(hosts[0]).ip
    network = ".".join(first_ip.split(".")[:3]) + ".0/24"
    ceph = CephCluster(
        fsid=figures.uuid4(rng), release=release_for(cluster), created=created, network=network,
        mons={host: host for host in hosts}, installed=list(hosts), mgrs={host: host for host in hosts}, seed=seed,
        public_network=f"{first_ip}/24", cluster_network=f"{first_ip}/24",
    )  # fmt: skip
    device, model, size = DEVICE_CLASSES[device_class]
    if not initialized:
        ceph.mons, ceph.mgrs, ceph.initialized, ceph.admin_keyring = {}, {}, False, False
        ceph.public_network = ceph.cluster_network = None
        osds_per_node = 0
    for host in hosts:
        for index in range(osds_per_node, osds_per_node + spare_disks):
            draw = figures.seeded(seed, "ceph-spare-disk", host, index)
            devpath = device.format(n=index + 1, letter=_disk_letter(index + 1))
            serial = f"S6{figures.hex_string(draw, 6).upper()}{draw.randrange(100000, 999999)}"
            ceph.spare_disks.append(SpareDisk(host, devpath, size, model, serial, device_class))
    osdid = 0
    for host in hosts:
        for index in range(osds_per_node):
            draw = figures.seeded(seed, "ceph-osd", osdid)
            ceph.osds.append(
                Osd(
                    osdid=osdid,
                    host=host,
                    device_class=device_class,
                    devpath=device.format(n=index + 1, letter=_disk_letter(index + 1)),
                    size=size,
                    model=model,
                    serial=f"S6{figures.hex_string(draw, 6).upper()}{draw.randrange(100000, 999999)}",
                    osd_fsid=figures.uuid4(draw),
                    vg_uuid=figures.uuid4(draw),
                    lv_uuid=lvm_uuid(draw),
                    created=created + 600 + osdid * 97,
                    pid=draw.randrange(1500, 9000),
                    mem_usage=draw.randrange(2_400_000_000, 4_200_000_000),
                )
            )
            osdid += 1
    if not initialized:
        pools = []
    else:
        ceph.pools.append(CephPool(1, ".mgr", "mgr", 1, base_stored=rng.randrange(1_300_000, 2_600_000),
                                   pg_num_min=1))  # fmt: skip
    for spec in pools if pools is not None else [{"name": "ceph-vm"}]:
        name = str(spec["name"])
        if ceph.pool(name) is not None:
            raise ValueError(f"ceph pool '{name}' is defined twice")
        ceph.pools.append(
            CephPool(
                len(ceph.pools) + 1,
                name,
                "rbd",
                int(spec.get("pg_num", 128)),
                size=int(spec.get("size", 3)),
                min_size=int(spec.get("min_size", 2)),
                base_stored=rng.randrange(20_000, 90_000),
            )
        )
    if cephfs is not None:
        fs_name = str(cephfs.get("name", "cephfs"))
        data, metadata = f"{fs_name}_data", f"{fs_name}_metadata"
        pg_num = int(cephfs.get("pg_num", 32))
        ceph.pools.append(CephPool(len(ceph.pools) + 1, data, "cephfs", pg_num, base_stored=0))
        ceph.pools.append(
            CephPool(len(ceph.pools) + 1, metadata, "cephfs", 16, base_stored=rng.randrange(40_000_000, 90_000_000))
        )
        ceph.filesystems.append(CephFs(fs_name, metadata, data))
        ceph.mds = {host: host for host in hosts}
    ceph.pool_max = len(ceph.pools)
    for spec in pools if pools is not None else [{"name": "ceph-vm"}]:
        existing = cluster.storage(str(spec["name"]))
        if spec.get("storage", True) and existing is not None and existing.plugintype != "rbd":
            raise ValueError(f"ceph pool '{spec['name']}' would add an RBD storage, but storage '{spec['name']}' "
                             f"is {existing.plugintype}")  # fmt: skip
    cluster.ceph = ceph
    for spec in pools if pools is not None else [{"name": "ceph-vm"}]:
        if spec.get("storage", True) and cluster.storage(str(spec["name"])) is None:
            cluster.add_storage(str(spec["name"]), plugintype="rbd", content=["images", "rootdir"], shared=True)
    for fs in ceph.filesystems:
        if cluster.storage(fs.name) is None:
            cluster.add_storage(fs.name, plugintype="cephfs", content=["backup", "iso", "vztmpl"], shared=True,
                                path=f"/mnt/pve/{fs.name}")  # fmt: skip
    return ceph


def lvm_uuid(rng: figures.Draw) -> str:
    """An LVM UUID: 32 characters of [A-Za-z0-9] in groups of 6-4-4-4-4-4-6."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    chars = "".join(alphabet[rng.randrange(len(alphabet))] for _ in range(32))
    groups, start = [], 0
    for width in (6, 4, 4, 4, 4, 4, 6):
        groups.append(chars[start : start + width])
        start += width
    return "-".join(groups)
