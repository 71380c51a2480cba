"""Backup archives on a storage: vzdump's file names, the guest config each one carries, and PVE's prune selection.

A backup is a :class:`~pytest_pvemock.model.storage.Volume` of content ``backup`` named as vzdump names it
(``backup/vzdump-qemu-100-2026_12_05-01_00_03.vma.zst``, the time in the node's local time) holding the guest's
config as it was when the backup ran (:attr:`Volume.config`), which ``vzdump/extractconfig`` answers.

Sources:

- pve-storage 0c56bad8b2a7d69e5ce2c243651fe830d6caa936 ``src/PVE/Storage.pm``: ``archive_info`` 1800-1832 (the
  standard name, its vmid and its local ``ctime``), ``extract_vzdump_config`` 1938-1978, ``prune_backups``
  1980-1996, ``$prune_mark`` and ``prune_mark_backup_group`` 1998-2072; ``src/PVE/Storage/Plugin.pm``
  ``prune_backups`` 2074-2143 (groups per type and vmid, ``renamed`` and ``protected`` marks);
- qemu-server e6352be67f70042a7433a3a3c712b36d02f9f7cb ``src/PVE/VZDump/QemuServer.pm`` ``assemble`` 226-285: the
  config file's lines up to the first section, without ``lock``, ``parent`` and ``unused`` drives, then a
  ``#qmdump#map`` line per backed-up disk;
- pve-container 94f558522ef61f9858c39c264d0ac4e697e49268 ``src/PVE/VZDump/LXC.pm`` ``assemble`` 325-343: the config
  without ``lock``, ``snapshots``, ``parent`` and ``pending``, as ``write_pct_config`` writes it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.backup_jobs import backup_volumes
from pytest_pvemock.model.guest_config import config_text, parse_size
from pytest_pvemock.model.storage import Volume
from pytest_pvemock.model.volumes import parse_volid

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.storage import Storage

#: Storage.pm $BACKUP_EXT_RE_2 (the archive formats and compressions vzdump writes).
_ARCHIVE = re.compile(r"^vzdump-(lxc|openvz|qemu)-.+\.(tgz$|tar|vma)(?:\.(gz|lzo|zst|bz2|xz))?$")
_STANDARD = re.compile(r"^vzdump-(lxc|openvz|qemu)-([1-9][0-9]{2,8})-(\d{4})_(\d{2})_(\d{2})-(\d{2})_(\d{2})_(\d{2})\.")
KEEP_OPTIONS = ("keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly")


def archive_info(cluster: FakeCluster, volname: str) -> dict[str, Any] | None:
    """Storage.pm ``archive_info``: ``type``, and for a standard name ``vmid`` and ``ctime`` (the name's local time);
    ``None`` for a name vzdump does not write."""
    name = volname.rsplit("/", 1)[-1]
    match = _ARCHIVE.match(name)
    if match is None:
        return None
    info: dict[str, Any] = {"type": match[1], "is_std_name": False}
    std = _STANDARD.match(name)
    if std is not None:
        year, month, day, hour, minute, second = (int(part) for part in std.groups()[2:])
        local = dt.datetime(year, month, day, hour, minute, second, tzinfo=cluster.tzinfo)
        info.update(vmid=int(std[2]), ctime=int(local.timestamp()), is_std_name=True)
    return info


def _qemu_backup_config(guest: Guest) -> str:
    lines = []
    for line in config_text(guest.config).splitlines():
        if line.startswith("["):
            break
        if re.match(r"^(unused\d+|lock|parent):", line):
            continue
        lines.append(line)
    for key, volume, included, _reason in backup_volumes(guest):
        if not included:
            continue
        parsed = parse_volid(volume)
        storeid = volume.split(":", 1)[0] if ":" in volume else ""
        fmt = parsed.format if parsed is not None else "raw"
        device = "drive-tpmstate0-backup" if key.startswith("tpmstate") else f"drive-{key}"
        lines.append(f"#qmdump#map:{key}:{device}:{storeid}:{fmt}:")
    return "\n".join(lines) + "\n"


def _lxc_backup_config(guest: Guest) -> str:
    config = {key: value for key, value in guest.config.items() if key not in ("lock", "parent", "digest")}
    return config_text(config)


def add_backup(
    cluster: FakeCluster,
    storage_id: str,
    vmid: int,
    *,
    ctime: int | None = None,
    notes: str | None = None,
    protected: bool = False,
    compress: str = "zstd",
    size: int | None = None,
) -> Volume:
    """A vzdump archive of guest ``vmid`` on ``storage_id`` made at ``ctime`` (default: now), holding the guest's
    config as it is now; on a storage of one node, the file lies on the guest's node. ``compress`` is vzdump's
    (``0``, ``lzo``, ``gzip``, ``zstd``: the name's extension); ``size`` the archive's bytes (default: a fraction
    of the guest's disks)."""
    storage = cluster.storage(storage_id)
    if storage is None:
        raise PVEError(f"storage '{storage_id}' does not exist")
    if "backup" not in storage.content:
        raise PVEError(f"storage '{storage_id}' does not support backups")
    guest = cluster.guest(vmid)
    when = cluster.clock.now() if ctime is None else int(ctime)
    local = dt.datetime.fromtimestamp(when, cluster.tzinfo)
    qemu = guest.kind == "qemu"
    # VZDump.pm compressor_info 840-869 and exec_backup_task 1003-1007: .vma/.tar, then the compressor's extension
    ext = {"zstd": ".zst", "gzip": ".gz", "lzo": ".lzo", "1": ".lzo"}.get(str(compress), "")
    fmt = f"{'vma' if qemu else 'tar'}{ext}"
    name = f"vzdump-{guest.kind}-{vmid}-{local:%Y_%m_%d-%H_%M_%S}.{fmt}"
    volname = f"backup/{name}"
    if storage.plugintype == "pbs":  # PBSPlugin.pm print_volid 226-233: backup/<vm|ct>/<vmid>/<UTC time>
        utc = dt.datetime.fromtimestamp(when, dt.timezone.utc)
        volname = f"backup/{'vm' if qemu else 'ct'}/{vmid}/{utc:%Y-%m-%dT%H:%M:%SZ}"
        fmt = f"pbs-{'vm' if qemu else 'ct'}"
    disks = sum(parse_size(str(value)) for _key, value, included, _r in backup_volumes(guest) if included)
    if size is None:
        size = max(disks // 7 + len(name) * 4099, 1)  # zstd of a mostly empty disk: a fraction of its size
    volume = Volume(
        f"{storage_id}:{volname}",
        "backup",
        size,
        fmt,
        when,
        vmid=vmid,
        node=None if storage.shared else guest.node,
        notes=notes,
        protected=protected,
        config=_qemu_backup_config(guest) if qemu else _lxc_backup_config(guest),
    )
    storage.volumes.append(volume)
    cluster.revision.touch()
    return volume


def backup_on(storage: Storage, node: str, volid: str) -> Volume | None:
    """The backup ``volid`` on ``storage`` as ``node`` sees it."""
    for volume in storage.volumes:
        found = volume.volid == volid and volume.content == "backup" and volume.node in (None, node)
        if found and volid not in storage.freed:
            return volume
    return None


def extract_config(cluster: FakeCluster, node: str, volid: str) -> str:
    """Storage.pm ``extract_vzdump_config``: the config the archive carries."""
    storeid, _, volname = volid.partition(":")
    storage = cluster.storage(storeid) if volname else None
    if storage is None:
        raise PVEError(f"storage '{storeid}' does not exist")
    volume = backup_on(storage, node, volid)
    if volume is None:  # abs_filesystem_path 784-785
        raise PVEError(f"can't find file '{volid}'")
    if volume.config is None:
        raise PVEError("ERROR: archive contains no configuration file")
    return volume.config


def _mark(entries: list[dict[str, Any]], count: int, period: Any) -> None:
    """Storage.pm ``$prune_mark``: keep the newest backup of each of the ``count`` newest periods not yet kept."""
    if not count:
        return
    already = {period(entry["ctime"]) for entry in entries if entry.get("mark") == "keep"}
    newly: set[Any] = set()
    for entry in entries:
        ident = period(entry["ctime"])
        if entry.get("mark") is not None or ident in already:
            continue
        if ident not in newly:
            if len(newly) >= count:
                break
            newly.add(ident)
            entry["mark"] = "keep"
        else:
            entry["mark"] = "remove"


def mark_backup_group(cluster: FakeCluster, group: list[dict[str, Any]], keep: dict[str, int]) -> None:
    """Storage.pm ``prune_mark_backup_group``: mark each backup of one guest ``keep`` or ``remove``."""
    positive = [option for option in KEEP_OPTIONS if keep.get(option, 0) > 0]
    if keep.get("keep-all") or not positive:
        for entry in group:
            if not entry.get("mark") or entry["mark"] == "remove":
                entry["mark"] = "keep"
        return
    entries = sorted(group, key=lambda entry: -entry["ctime"])

    def local(ctime: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ctime, cluster.tzinfo)

    _mark(entries, keep.get("keep-last", 0), lambda ctime: ctime)
    _mark(entries, keep.get("keep-hourly", 0), lambda ctime: local(ctime).strftime("%H/%d/%m/%Y"))
    _mark(entries, keep.get("keep-daily", 0), lambda ctime: local(ctime).strftime("%d/%m/%Y"))
    _mark(entries, keep.get("keep-weekly", 0), lambda ctime: local(ctime).isocalendar()[:2])
    _mark(entries, keep.get("keep-monthly", 0), lambda ctime: local(ctime).strftime("%m/%Y"))
    _mark(entries, keep.get("keep-yearly", 0), lambda ctime: local(ctime).year)
    for entry in entries:
        if entry.get("mark") is None:
            entry["mark"] = "remove"


def parse_keep(text: str) -> dict[str, int]:
    """The ``prune-backups`` property string (``keep-last=3,keep-daily=7``) as numbers."""
    keep: dict[str, int] = {}
    for part in str(text).split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            keep[key.strip()] = int(value)
    return keep


def _pbs_snapshot_info(volume: Volume) -> dict[str, Any]:
    """A PBS snapshot's group and time (PBSPlugin.pm prune_backups 409-503: PBS prunes per group, every snapshot
    counts as standard-named)."""
    snapshot = re.match(r"^[^:]+:backup/(vm|ct)/(\d+)/", volume.volid)
    if snapshot is None:
        return {}
    kind = "qemu" if snapshot[1] == "vm" else "lxc"
    return {"type": kind, "vmid": int(snapshot[2]), "ctime": volume.ctime, "is_std_name": True}


def prune_selection(
    cluster: FakeCluster,
    storage: Storage,
    node: str,
    keep: dict[str, int] | None,
    vmid: int | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Storage.pm ``prune_backups`` with Plugin.pm's ``prune_backups`` (dry run): every backup the node sees on the
    storage (of ``vmid``, of guests of type ``kind``), marked ``keep``, ``remove``, ``protected`` or ``renamed``."""
    if "backup" not in storage.content:
        raise PVEError(f"storage '{storage.storage}' does not support backups")
    if keep is None:
        configured = storage.cfg_properties().get("prune-backups")
        if configured is None:
            raise PVEError(f"no prune-backups options configured for storage '{storage.storage}'")
        keep = parse_keep(str(configured))
    groups: dict[str, list[dict[str, Any]]] = {}
    entries: list[dict[str, Any]] = []
    for volume in sorted(storage.volumes, key=lambda volume: volume.volid):  # the directory listing's order
        if volume.content != "backup" or volume.node not in (None, node) or volume.volid in storage.freed:
            continue
        volname = volume.volid.split(":", 1)[1]
        info = archive_info(cluster, volname) or _pbs_snapshot_info(volume)
        backup_type = info.get("type", "unknown")
        backup_vmid = info.get("vmid", volume.vmid)
        if vmid is not None and backup_vmid != vmid:
            continue
        if kind is not None and backup_type != kind:
            continue
        entry: dict[str, Any] = {"ctime": volume.ctime, "type": backup_type, "volid": volume.volid}
        if backup_vmid is not None:
            entry["vmid"] = backup_vmid
        if info.get("is_std_name"):
            entry["ctime"] = info["ctime"]
            groups.setdefault(f"{backup_type}/{backup_vmid}", []).append(entry)
        else:
            entry["mark"] = "renamed"
        if volume.protected:
            entry["mark"] = "protected"
        entries.append(entry)
    for group in groups.values():
        mark_backup_group(cluster, group, keep)
    return entries


def remove_backups(cluster: FakeCluster, storage: Storage, node: str, volids: list[str]) -> None:
    """``archive_remove`` of each backup (with its notes and log): gone from the storage as ``node`` sees it."""
    gone = set(volids)
    storage.volumes = [v for v in storage.volumes if not (v.volid in gone and v.node in (None, node))]
    cluster.revision.touch()
