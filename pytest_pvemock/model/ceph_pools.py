"""``pveceph pool create|set|destroy`` (pve-manager 14a22df3 PVE/API2/Ceph/Pool.pm, PVE/Ceph/Tools.pm ``set_pool``):
a pool with its settings and, with ``add_storages``, its RBD storage; what Ceph's monitor refuses (too many PGs,
a min_size above the size, a pool a CephFS uses) fails the task as PVE::RADOS reports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.ceph import CephCluster, CephPool
from pytest_pvemock.model.ceph_admin import check_configured, check_inited, connect, mon_error
from pytest_pvemock.model.tasks import start_worker

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task

MAX_PGS_PER_OSD = 250  # Ceph's mon_max_pg_per_osd default
# pve-manager 8.2.5 (76ed4900, "fix #5010: ceph: pool set only changed properties"): from PVE 8.3 on, set_pool skips
# the settings a pool already has.
SKIPS_UNCHANGED = (8, 3)
STORAGE_ID = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]$", re.IGNORECASE)  # PVE::JSONSchema::parse_storage_id


def _check_pg_num(cluster: FakeCluster, ceph: CephCluster, pool: CephPool | None, pg_num: int, size: int) -> None:
    """Ceph's OSDMonitor::check_pg_num: the PG replicas of all pools with this one's new count may not exceed
    mon_max_pg_per_osd times the OSDs ``in`` (at least 3 are assumed)."""
    osds = max(len(ceph.placed_osds(cluster)), 3)
    projected = sum(other.pg_num * other.size for other in ceph.pools if other is not pool) + pg_num * size
    if projected > MAX_PGS_PER_OSD * osds:
        prefix = "osd pool create" if pool is None else "osd pool set"
        owner = f"pool id {pool.pool_id}" if pool is not None else ""
        raise mon_error(prefix, f"{owner} pg_num {pg_num} size {size} for this pool would result in "
                         f"{projected // osds} cumulative PGs per OSD ({projected} total PG replicas on {osds} 'in' "
                         f"root OSDs by crush rule) which exceeds the mon_max_pg_per_osd value of "
                         f"{MAX_PGS_PER_OSD}")  # fmt: skip


def _pool_properties(pool: CephPool) -> dict[str, str]:
    """``osd pool get <pool> all`` as set_pool compares it (the settings it can skip)."""
    props = {"size": str(pool.size), "min_size": str(pool.min_size), "pg_num": str(pool.pg_num),
             "crush_rule": "replicated_rule", "pg_autoscale_mode": pool.pg_autoscale_mode}  # fmt: skip
    if pool.pg_num_min is not None:
        props["pg_num_min"] = str(pool.pg_num_min)
    if pool.target_size_bytes:
        props["target_size_bytes"] = str(pool.target_size_bytes)
    if pool.target_size_ratio:
        props["target_size_ratio"] = f"{pool.target_size_ratio:g}"
    if pool.erasure_profile:
        props["erasure_code_profile"] = pool.erasure_profile
        props["allow_ec_overwrites"] = "true" if pool.allow_ec_overwrites else "false"
    return props


def _apply_setting(cluster: FakeCluster, ceph: CephCluster, pool: CephPool, setting: str, value: Any) -> None:
    """One ``osd pool set`` / ``osd pool application enable`` as Ceph's monitor takes it (or refuses it)."""
    if setting == "application":
        if pool.application and pool.application != value:
            raise mon_error("osd pool application enable", f"are you SURE? Pool '{pool.name}' already has an "
                             "enabled application; pass --yes-i-really-mean-it to proceed anyway")  # fmt: skip
        pool.application = str(value)
        return
    if setting == "size":
        size = int(value)
        if size == 1:
            raise mon_error("osd pool set", "configuring pool size as 1 is disabled by default.")
        pool.size = size
        pool.min_size = min(ceph.default_min_size, size)  # Ceph resets min_size with the size
    elif setting == "min_size":
        if not 1 <= int(value) <= pool.size:
            raise mon_error("osd pool set", f"pool min_size must be between 1 and size, which is set to {pool.size}")
        pool.min_size = int(value)
    elif setting == "pg_num":
        _check_pg_num(cluster, ceph, pool, int(value), pool.size)
        pool.pg_num = int(value)
    elif setting == "pg_num_min":
        pool.pg_num_min = int(value)
    elif setting == "crush_rule":
        if value != "replicated_rule":
            raise mon_error("osd pool set", f"crush rule {value} does not exist")
    elif setting == "pg_autoscale_mode":
        pool.pg_autoscale_mode = str(value)
    elif setting == "target_size_bytes":
        pool.target_size_bytes = int(value)
    elif setting == "target_size_ratio":
        pool.target_size_ratio = float(value)
    elif setting == "allow_ec_overwrites":
        pool.allow_ec_overwrites = str(value) == "true"


def _set_pool(cluster: FakeCluster, ceph: CephCluster, name: str, settings: Mapping[str, Any], task: Task) -> None:
    """PVE::Ceph::Tools::set_pool (Tools.pm lines 271-315): size first (it resets min_size), then the others
    sorted; a setting Ceph refuses is printed and named in ``Could not set: ...`` at the end."""
    pool = ceph.pool(name)
    if pool is None:
        raise mon_error("osd pool get", f"unrecognized pool '{name}'")
    if pool.erasure_profile and isinstance(settings, dict):
        for setting in ("size", "crush_rule"):
            if settings.get(setting):
                task.log.append(f"cannot set '{setting}' for erasure coded pool")
                del settings[setting]
    keys = sorted(key for key in settings if key != "size")
    if "size" in settings:
        keys.insert(0, "size")
    skips = (cluster.release.major, int(cluster.release.minor.split(".")[1])) >= SKIPS_UNCHANGED
    current = _pool_properties(pool)
    failed = []
    for key in keys:
        value = settings[key]
        text = f"{value:g}" if isinstance(value, float) else str(value)
        if skips and current.get(key) == text:
            task.log.append(f"skipping '{key}', did not change")
            continue
        task.log.append(f"pool {name}: applying {key} = {text}")
        try:
            _apply_setting(cluster, ceph, pool, key, value)
        except PVEError as error:
            task.log.append(error.message)
            failed.append(key)
    if isinstance(settings, dict):
        for key in keys:
            if key not in failed:
                del settings[key]
    if failed:
        raise PVEError(f"Could not set: {', '.join(sorted(failed))}")


def create_in_ceph(cluster: FakeCluster, ceph: CephCluster, name: str, settings: dict[str, Any], task: Task) -> None:
    """PVE::Ceph::Tools::create_pool (Tools.pm lines 336-356): ``osd pool create`` with the PG count (Ceph keeps a
    pool of that name: 'already exists' is no error), then set_pool, which drops what it applied or skipped from
    ``settings`` as PVE's does from its hash."""
    profile = settings.pop("erasure_code_profile", None)
    if ceph.pool(name) is None:
        size, min_size, chunks = ceph.default_size, min(ceph.default_min_size, ceph.default_size), 0
        if profile is not None:  # an erasure coded pool: k+m chunks, k+1 needed for I/O
            chunks, coding = int(ceph.ec_profiles[profile]["k"]), int(ceph.ec_profiles[profile]["m"])
            size, min_size = chunks + coding, chunks + 1
        _check_pg_num(cluster, ceph, None, int(settings["pg_num"]), size)
        ceph.pool_max += 1
        draw = figures.seeded(ceph.seed, "ceph-pool", name)
        ceph.pools.append(CephPool(ceph.pool_max, name, "", int(settings["pg_num"]), size=size, min_size=min_size,
                                   base_stored=draw.randrange(0, 200), erasure_profile=profile,
                                   data_chunks=chunks))  # fmt: skip
    _set_pool(cluster, ceph, name, settings, task)


POOL_SETTINGS = ("size", "min_size", "pg_num", "pg_num_min", "crush_rule", "application", "pg_autoscale_mode",
                 "target_size_bytes", "target_size_ratio")  # fmt: skip


def _pool_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    settings = {key: params[key] for key in POOL_SETTINGS if params.get(key) is not None}
    if params.get("target_size") is not None:
        settings["target_size_bytes"] = parse_size(str(params["target_size"]))
    return settings


def parse_size(text: str) -> int:
    """PVE::JSONSchema::parse_size: a number with an optional K, M, G or T (binary units)."""
    match = re.match(r"^(\d+(?:\.\d+)?)([KMGT])?$", text)
    if match is None:
        raise PVEError(f"unable to parse size '{text}'")
    factor = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}[match.group(2) or ""]
    return int(float(match.group(1)) * factor)


def create_pool(cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str,
                may_add_storage: Callable[[], None]) -> Task:  # fmt: skip
    """``pveceph pool create`` (Pool.pm lines 461-543): ``osd pool create`` with the PG count (Ceph refuses more
    PGs than the OSDs may hold), the settings (defaults: size 3, min_size 2, rbd, autoscale ``warn``), and with
    ``add_storages`` the RBD storage named after the pool. A pool of that name is kept (Ceph answers 'already
    exists' without an error) and gets the settings."""
    cluster.require_quorum()
    ceph = connect(check_configured(cluster, node))
    name = str(params["name"])
    ec = _erasure_coding(ceph, params.get("erasure-coding"))
    add_storages = bool(params.get("add_storages")) if params.get("add_storages") is not None else ec is not None
    if add_storages:
        may_add_storage()
        if not STORAGE_ID.match(name):
            raise PVEError("pool name contains characters which are illegal for storage naming")
    settings = _pool_settings(params)
    settings.setdefault("pg_num", 128)
    settings.setdefault("size", 3)
    settings.setdefault("min_size", 2)
    settings.setdefault("application", "rbd")
    settings.setdefault("pg_autoscale_mode", "warn")

    def work(task: Task) -> None:
        pool, data_pool = name, None
        if ec is not None:  # Pool.pm 501-532: the EC data pool, then a replicated metadata pool with 32 PGs
            profile = ec.get("profile")
            if not profile:
                profile = f"pve_ec_{name}"
                ceph.ec_profiles[profile] = {"k": ec["k"], "m": ec["m"],
                                             "crush-failure-domain": ec.get("failure-domain") or "host",
                                             "crush-device-class": ec.get("device-class") or ""}  # fmt: skip
                task.log.append(f"created new erasure code profile '{profile}'")
            data_settings = {key: value for key, value in settings.items() if key not in ("size", "min_size",
                             "crush_rule")}  # fmt: skip
            data_settings.update(allow_ec_overwrites="true", erasure_code_profile=profile)
            settings["pg_num"] = 32
            pool, data_pool = f"{name}-metadata", f"{name}-data"
            create_in_ceph(cluster, ceph, data_pool, data_settings, task)
        create_in_ceph(cluster, ceph, pool, settings, task)
        if add_storages:
            if cluster.storage(name) is not None:
                raise PVEError(f"adding PVE storage for ceph pool '{name}' failed: storage ID '{name}' already "
                               "defined")  # fmt: skip
            if pool != name:
                ceph.rbd_pools[name] = (pool, data_pool)
            options: dict[str, str | int] = {"pool": pool, "krbd": 0}  # Pool.pm $add_storage 340-354
            if pool != name and data_pool is not None:
                options["data-pool"] = data_pool
            cluster.add_storage(name, plugintype="rbd", content=["images", "rootdir"], shared=True, options=options)

    return start_worker(cluster, node, "cephcreatepool", name, authid, work)


def _erasure_coding(ceph: CephCluster, text: Any) -> dict[str, str] | None:
    """Pool.pm ``ec_parse_and_check`` (lines 415-425): the property string; a named profile must exist."""
    if not text:
        return None
    ec = dict(part.split("=", 1) for part in str(text).split(",") if "=" in part)
    if ec.get("profile") and ec["profile"] not in ceph.ec_profiles:
        raise PVEError(f"Erasure code profile '{ec['profile']}' does not exist.")
    if not ec.get("profile") and not (ec.get("k") and ec.get("m")):
        raise PVEError("erasure-coding: 'k' and 'm' are required without 'profile'")
    return ec


def set_pool(cluster: FakeCluster, node: str, name: str, params: Mapping[str, Any], authid: str) -> Task:
    """``pveceph pool set`` (Pool.pm lines 671-693)."""
    ceph = check_configured(cluster, node)
    settings = _pool_settings(params)

    def work(task: Task) -> None:
        _set_pool(cluster, connect(ceph), name, settings, task)

    return start_worker(cluster, node, "cephsetpool", name, authid, work)


def destroy_pool(cluster: FakeCluster, node: str, name: str, params: Mapping[str, Any], authid: str,
                 may_remove_storages: Callable[[], None]) -> Task:  # fmt: skip
    """``pveceph pool destroy`` (Pool.pm lines 586-650): unless ``force``, refused while an RBD storage on the pool
    holds images; Ceph refuses a pool a CephFS uses; ``remove_storages`` drops the pool's RBD storages."""
    ceph = check_inited(cluster, node)
    if params.get("remove_storages"):
        may_remove_storages()

    def work(task: Task) -> None:
        storages = [s for s in cluster.storages  # Pool.pm 356-376: the RBD storages with it as pool or data-pool
                    if s.plugintype == "rbd" and name in ceph.rbd_pools.get(s.storage, (s.storage,))]  # fmt: skip
        if not params.get("force"):
            for storage in storages:
                task.log.append(f"checking storage '{storage.storage}' for RBD images..")
                images = [v for v in storage.volumes if v.content in ("images", "rootdir")]
                if cluster.guest_volumes(storage.storage) or images:
                    raise PVEError(f"ceph pool '{name}' still in use by storage '{storage.storage}'")
        connect(ceph)
        pool = ceph.pool(name)
        if pool is None:
            raise mon_error("osd pool get", f"unrecognized pool '{name}'")
        if any(name in (fs.data_pool, fs.metadata_pool) for fs in ceph.filesystems):
            raise mon_error("osd pool delete", f"pool '{name}' is in use by CephFS")
        ceph.pools.remove(pool)
        if pool.erasure_profile:  # Pool.pm 621-632
            task.log.append(f"found erasure coded profile '{pool.erasure_profile}', destroying its CRUSH rule")
            if params.get("remove_ecprofile", 1):
                task.log.append(f"destroying erasure coded profile '{pool.erasure_profile}'")
                ceph.ec_profiles.pop(pool.erasure_profile, None)
        if params.get("remove_storages"):
            for storage in storages:
                cluster.remove_storage(storage.storage)
                ceph.rbd_pools.pop(storage.storage, None)

    return start_worker(cluster, node, "cephdestroypool", name, authid, work)
