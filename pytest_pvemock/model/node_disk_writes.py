"""``/nodes/{node}/disks`` writes: a GPT on an empty disk, wiping, and the volume groups, thin pools, ZFS pools and
directory mounts PVE's disk management sets up on unused disks and takes down again, each optionally with its
storage definition.

Sources (pve-storage 0c56bad8b2a7d69e5ce2c243651fe830d6caa936): ``src/PVE/API2/Disks.pm`` (initgpt 228-276,
wipe_disk 278-320), ``src/PVE/API2/Disks/LVM.pm`` (create 115-202, delete 204-288), ``LVMThin.pm`` (create 72-183,
delete 185-281), ``Directory.pm`` (create 167-332, delete 334-430), ``ZFS.pm`` (create 308-537, delete 539-653),
``src/PVE/Diskmanage.pm`` (verify_blockdev_path 35-60, init_disk 62-74, disk_is_used 76-88, get_disks 517-768,
assert_disk_unused 823-827, has_holder 875-893, is_mounted 898-920, wipe_blockdev 942-982),
``src/PVE/API2/Storage/Config.pm`` (cleanup_storages_for_node 45-68, create_or_update 78-119),
``src/PVE/Storage/LVMPlugin.pm`` (lvm_create_volume_group 106-133); pve-common f665029e ``src/PVE/Cmd.pm``
(run_command's ``errmsg``: ``"$errmsg: $laststderr"``, 289-322), ``src/PVE/Systemd.pm`` (escape_unit 18-32).

The order is PVE's: the checks before ``fork_worker`` fail the call, those inside the worker (under
``locked_disk_action``) fail the task with PVE's message. What the commands print (sgdisk, LVM, mke2fs, wipefs, dd,
systemctl) is logged as they print it on the release's Debian.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.node_disks import (
    EXTENT,
    GIB,
    MIB,
    DirectoryMount,
    Disk,
    LogicalVolume,
    VolumeGroup,
    Zpool,
    disk_state,
    node_layout,
    writable_disk,
)
from pytest_pvemock.model.tasks import start_worker
from pytest_pvemock.model.zfs_pools import pool_names
from pytest_pvemock.schema.formats.checks import split_list

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task

#: Adds a storage definition as ``PVE::API2::Storage::Config->create`` does (the API's storage_config code).
DefineStorage = Callable[[dict[str, Any]], None]
#: Raises PVE's permission error unless the caller has ``Datastore.Allocate`` on ``/storage``.
MayAllocate = Callable[[], None]

SECTOR = 512
ALIGN = 2048  # sectors: sgdisk and libzfs start and align partitions on 1 MiB
ZFS_RESERVED = 16384  # sectors: the 8 MiB partition 9 ``zpool create`` leaves at a whole disk's end
MIN_DISKS = {"single": 1, "mirror": 2, "raid10": 4, "raidz": 3, "raidz2": 4, "raidz3": 5, "draid": 3, "draid2": 4,
             "draid3": 5}  # fmt: skip
PARITY = {"raidz": 1, "raidz2": 2, "raidz3": 3, "draid": 1, "draid2": 2, "draid3": 3}
#: What ``wipefs --all`` reports erasing, by what used the device (each file system's magic).
SIGNATURES = {
    "ext4": "2 bytes were erased at offset 0x00000438 (ext4): 53 ef",
    "xfs": "4 bytes were erased at offset 0x00000000 (xfs): 58 46 53 42",
    "LVM": "8 bytes were erased at offset 0x00000218 (LVM2_member): 4c 56 4d 32 20 30 30 31",
    "ZFS": "8 bytes were erased at offset 0x0003f000 (zfs_member): 0c b1 ba 00 00 00 00 00",
}
#: e2fsprogs' ``mke2fs`` banner on each release's Debian (bullseye, bookworm, trixie).
MKE2FS = {7: "mke2fs 1.46.2 (28-Feb-2021)", 8: "mke2fs 1.47.0 (5-Feb-2023)", 9: "mke2fs 1.47.2 (1-Jan-2025)"}


# ---- what the node's block devices are --------------------------------------------------------------------------


def _devices(cluster: FakeCluster, node: str) -> dict[str, tuple[Disk, int | None]]:
    """Every block device of the node: disks and partitions (index into the disk's partitions)."""
    found: dict[str, tuple[Disk, int | None]] = {}
    for disk in node_layout(cluster, node)[0]:
        found[disk.devpath] = (disk, None)
        for index, (path, _size, _usage) in enumerate(disk.partitions):
            found[path] = (disk, index)
    return found


def _links(cluster: FakeCluster, node: str) -> dict[str, str]:
    """``/dev/disk/by-id`` links to the node's disks and their partitions."""
    links: dict[str, str] = {}
    for disk in node_layout(cluster, node)[0]:
        links[disk.by_id()] = disk.devpath
        for number, (path, _size, _usage) in enumerate(disk.partitions, 1):
            links[f"{disk.by_id()}-part{path[len(disk.devpath) :].lstrip('p') or number}"] = path
    return links


def verify_blockdev_path(cluster: FakeCluster, node: str, given: str) -> str:
    """Diskmanage.pm 35-60: the absolute path (pvedaemon runs in ``/``, links resolved), under ``/dev/`` and a
    block device of the node."""
    path = posixpath.normpath(posixpath.join("/", given))
    path = _links(cluster, node).get(path, path)
    parent = posixpath.dirname(path)
    if not path.startswith("/dev/") and parent != "/":
        raise PVEError(f"failed to get absolute path to {given}")  # abs_path: a directory on the way is missing
    if not path.startswith("/dev/"):
        raise PVEError(f"got unusual device path '{path}'")
    if path not in _devices(cluster, node):
        raise PVEError("not a valid block device")
    return path


def _usage(cluster: FakeCluster, node: str, path: str) -> str:
    """What ``get_disks`` with partitions says uses the device: its partitions count for a disk."""
    disk, index = _devices(cluster, node)[path]
    if index is not None:
        return disk.partitions[index][2]
    return disk.whole or ("partitions" if disk.partitions else "")


def _is_partition(cluster: FakeCluster, node: str, path: str) -> bool:
    return _devices(cluster, node)[path][1] is not None


def assert_disk_unused(cluster: FakeCluster, node: str, path: str) -> None:
    """Diskmanage.pm 823-827."""
    if _usage(cluster, node, path):
        raise PVEError(f"device '{path}' is already in use")


def mounted_devices(cluster: FakeCluster, node: str) -> dict[str, str]:
    """``mounted_blockdevs`` (Diskmanage.pm 491-502): device -> mount point. The ESP is mounted on ``/boot/efi``
    (the nodes boot in EFI mode); the root file system is an LV, not a partition."""
    mounted = {"/dev/sda2": "/boot/efi"}
    mounted.update({mount.device: mount.path for mount in disk_state(cluster, node).mounts})
    return mounted


def _mounted_paths(cluster: FakeCluster, node: str) -> dict[str, str]:
    """``mounted_paths`` (Diskmanage.pm 505-515): mount point -> what; the network storages PVE mounts under
    ``/mnt/pve`` too."""
    paths = {"/boot/efi": "/dev/sda2"}
    paths.update({mount.path: mount.device for mount in disk_state(cluster, node).mounts})
    for storage in cluster.storages_on(node):
        if not storage.enabled or not storage.path:
            continue
        options = storage.options
        if storage.plugintype == "nfs":
            paths[storage.path] = f"{options.get('server')}:{options.get('export')}"
        elif storage.plugintype == "cifs":
            paths[storage.path] = f"//{options.get('server')}/{options.get('share')}"
    return paths


def _holders(cluster: FakeCluster, node: str) -> set[str]:
    """Devices with a holder (device mapper): physical volumes of a volume group with active logical volumes."""
    held = set()
    for group in node_layout(cluster, node)[1]:
        if group.lvs:
            held.add(group.pv)
    return held


# ---- sizes the tools make -----------------------------------------------------------------------------------------


def _whole_disk_partition(size: int, reserved: int = 0) -> int:
    """Bytes of partition 1 spanning a GPT disk from sector 2048 (1 MiB aligned, the backup GPT's 33 sectors and
    ``reserved`` sectors left at the end)."""
    last = size // SECTOR - 34 - reserved
    return (last - ALIGN + 1) // ALIGN * ALIGN * SECTOR


def _ext4_figures(size: int) -> dict[str, Any]:
    """``mke2fs -t ext4`` defaults (4 KiB blocks, 32768 blocks and 8192 inodes a group, a journal by size) and
    what ``df`` then reports: the blocks less metadata and journal, a few blocks used."""
    blocks = size // 4096
    groups = math.ceil(blocks / 32768)
    journal = next(j for limit, j in ((32768, 1024), (262144, 4096), (524288, 8192), (4194304, 16384),
                                      (8388608, 32768), (16777216, 65536), (33554432, 131072)) if blocks < limit) \
        if blocks < 33554432 else 262144  # fmt: skip
    backups = [group for group in range(1, groups) if _is_power(group, 3) or _is_power(group, 5)
               or _is_power(group, 7)]  # fmt: skip
    overhead = groups * (512 + 2) + (len(backups) + 1) * (1 + math.ceil(groups * 64 / 4096) + 1024) + journal
    return {"blocks": blocks, "inodes": groups * 8192, "journal": journal, "total": (blocks - overhead) * 4096,
            "used": 7 * 4096, "backups": backups}  # fmt: skip


def _is_power(value: int, base: int) -> bool:
    while value % base == 0 and value > 1:
        value //= base
    return value == 1


def _xfs_figures(size: int) -> tuple[int, int]:
    """``mkfs.xfs`` defaults: the internal log off the top, a fresh file system's metadata reservations used."""
    total = size - min(max(size // 2048, 64 * MIB), 2 * GIB)
    return total, int(total * 0.007)


def _zpool_figures(raidlevel: str, child: int, count: int, ashift: int, draid: Mapping[str, int]) -> tuple[int, int]:
    """(``zpool list`` SIZE, space ZFS offers) of a new pool: each top-level vdev's size less its labels (4.5 MiB
    a child), in whole metaslabs (about 200 a vdev); parity off; 1/32 slop space kept back (at most 128 GiB)."""
    child = (child - 9 * SECTOR * 1024) >> ashift << ashift

    def metaslabs(asize: int) -> int:
        shift = max(24, min(34, int(math.log2(max(asize // 200, 1)))))
        return asize >> shift << shift

    if raidlevel == "raid10":
        size = metaslabs(child) * (count // 2)
        usable = size
    elif raidlevel in ("single", "mirror"):
        size = usable = metaslabs(child)
    elif raidlevel.startswith("raidz"):
        size = metaslabs(child * count)
        usable = size * (count - PARITY[raidlevel]) // count
    else:
        spares = draid.get("spares", 0)
        data = draid.get("data") or min(8, count - spares - PARITY[raidlevel])
        size = metaslabs(child * (count - spares))
        usable = size * data // (data + PARITY[raidlevel])
    slop = min(max(usable // 32, 128 * MIB), 128 * GIB)
    return size, usable - slop


# ---- what the tools print ---------------------------------------------------------------------------------------


def _symlink_created(cluster: FakeCluster, link: str, target: str) -> str:
    """systemctl enable's line: systemd 257 (trixie, PVE 9) quotes the paths."""
    if cluster.release.major >= 9:
        return f"Created symlink '{link}' → '{target}'."
    return f"Created symlink {link} → {target}."


def _symlink_removed(cluster: FakeCluster, link: str) -> str:
    """systemctl disable's line: systemd 247 (bullseye) bare, 252 (bookworm) double quotes, 257 single quotes."""
    if cluster.release.major >= 9:
        return f"Removed '{link}'."
    return f'Removed "{link}".' if cluster.release.major == 8 else f"Removed {link}."


def _wipe_log(disk: Disk, path: str, index: int | None) -> tuple[list[str], list[str]]:
    """wipe_blockdev (Diskmanage.pm 942-982): what it prints before wipefs runs, then wipefs's erased signatures
    (partitions first) and dd's 200 MiB."""
    head = []
    if index is None and disk.partitions:
        head.append("found child partitions to wipe: " + ", ".join(part for part, _size, _usage in disk.partitions))
    head.append(f"wiping block device {path}")
    lines: list[str] = []
    parts = disk.partitions if index is None else [disk.partitions[index]]
    for part, _size, usage in parts:
        signature = SIGNATURES.get(usage)
        if signature:
            lines.append(f"{part}: {signature}")
    if index is None:
        if disk.whole == "LVM":
            lines.append(f"{path}: 8 bytes were erased at offset 0x00000218 (LVM2_member): 4c 56 4d 32 20 30 30 31")
        if disk.gpt:
            lines += [f"{path}: 8 bytes were erased at offset 0x00000200 (gpt): 45 46 49 20 50 41 52 54",
                      f"{path}: 8 bytes were erased at offset 0x{disk.size - SECTOR:x} (gpt): 45 46 49 20 50 41 52 54",
                      f"{path}: 2 bytes were erased at offset 0x000001fe (PMBR): 55 aa"]  # fmt: skip
    size = disk.size if index is None else disk.partitions[index][1]
    count = min(size // MIB, 200)
    seconds = count * MIB / 1_900_000_000 + 0.08
    lines += [f"{count}+0 records in", f"{count}+0 records out",
              f"{count * MIB} bytes ({count * MIB / 1e6:.0f} MB, {count} MiB) copied, {seconds:.5f} s, "
              f"{count * MIB / seconds / 1e9:.1f} GB/s"]  # fmt: skip
    return head, lines


def _wipe(cluster: FakeCluster, node: str, path: str, task: Task) -> None:
    """wipe_blockdev's effect: a disk loses its partitions, its table and what was on it; a partition its file
    system (its type set back to 8300). A disk of an imported ZFS pool is busy: wipefs fails."""
    disk, index = _devices(cluster, node)[path]
    written = writable_disk(cluster, node, disk.devpath)
    state = disk_state(cluster, node)
    head, lines = _wipe_log(disk, path, index)
    task.log += head
    in_pools = {device for pool in state.zpools for device in pool.devices}
    parts = [part for part, _size, _usage in disk.partitions]
    busy = None
    if path in in_pools:
        busy = parts[0] if index is None and parts else path  # ZFS is on partition 1 of a whole disk it was given
    elif index is None:
        busy = next((part for part in parts if part in in_pools), None)
    if busy is not None:
        raise PVEError(f"error wiping '{path}': wipefs: error: {busy}: probing initialization failed: "
                       "Device or resource busy")  # fmt: skip
    task.log += lines
    if written is None:
        return
    if index is None:
        written.partitions, written.gpt, written.whole = [], False, ""
        state.groups = [group for group in state.groups if group.pv != path]
    else:
        part, size, _usage = written.partitions[index]
        written.partitions[index] = (part, size, "")
        state.groups = [group for group in state.groups if group.pv != part]
    written.settle()


# ---- the writes ----------------------------------------------------------------------------------------------------


def init_gpt(cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str) -> Task:
    """Disks.pm initgpt 257-275 and init_disk: a new GPT (``sgdisk DISK -U UUID|R``) on an unused whole disk."""
    disk = verify_blockdev_path(cluster, node, str(params["disk"]))
    if _is_partition(cluster, node, disk):
        raise PVEError(f"{disk} is a partition")
    if _usage(cluster, node, disk):
        raise PVEError(f"disk {disk} already in use")

    def work(task: Task) -> None:
        if _usage(cluster, node, disk):  # init_disk checks again (Diskmanage.pm 68-69)
            raise PVEError(f"disk {disk} is already in use")
        written = writable_disk(cluster, node, disk)
        if written is None or not written.gpt:
            task.log.append("Creating new GPT entries in memory.")
        task.log.append("The operation has completed successfully.")
        if written is not None:
            written.gpt = True
            written.settle()

    return start_worker(cluster, node, "diskinit", disk.rsplit("/", 1)[1], authid, work)


def wipe_disk(cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str) -> Task:
    """Disks.pm wipe_disk 297-319: refused while the disk or a partition is mounted or held (device mapper)."""
    disk = verify_blockdev_path(cluster, node, str(params["disk"]))
    whole, index = _devices(cluster, node)[disk]
    members = [disk] if index is not None else [disk, *(part for part, _size, _usage in whole.partitions)]
    mounted = mounted_devices(cluster, node)
    found = next((member for member in members if member in mounted), None)
    if found:
        raise PVEError(f"disk/partition '{found}' is mounted")
    held = _holders(cluster, node)
    found = next((member for member in members if member in held), None)
    if found:
        raise PVEError(f"disk/partition '{found}' has a holder")
    return start_worker(cluster, node, "wipedisk", posixpath.basename(disk), authid,
                   lambda task: _wipe(cluster, node, disk, task))  # fmt: skip


def _create_or_update(
    cluster: FakeCluster, node: str, settings: dict[str, Any], verify: list[str], define: DefineStorage | None,
    task: Task | None = None,
) -> None:  # fmt: skip
    """Config.pm create_or_update 78-119: a storage of that id must be of this type, with these ``verify``
    settings and not yet on this node; ``define`` None is the dry run before the worker."""
    storeid = str(settings["storage"])
    existing = cluster.storage(storeid)
    if existing is not None:
        if existing.nodes is None or node in existing.nodes:
            raise PVEError(f"Storage ID '{storeid}' already exists on node {node}")
        current = {"type": existing.plugintype, "path": existing.path, **existing.options}
        for key in ("type", *verify):
            if str(settings[key]) != str(current.get(key)):
                raise PVEError(f"Option '{key}' ({settings[key]}) does not match existing storage configuration "
                               f"'{current.get(key)}'")  # fmt: skip
    if define is None:
        return
    if existing is None:
        define(settings)
    elif existing.nodes:
        existing.nodes = sorted({*existing.nodes, node})
        if task is not None:
            task.log.append(f"Added '{node}' to nodes for storage '{storeid}'")


def _cleanup_storages(cluster: FakeCluster, node: str, match: Callable[[Any], bool]) -> None:
    """Config.pm cleanup_storages_for_node 45-68: the matching storages leave this node; one left on no node
    goes."""
    everyone = [member.name for member in cluster.nodes]
    for storage in list(cluster.storages):
        if not match(storage):
            continue
        nodes = set(storage.nodes or everyone)
        if node not in nodes:
            continue
        nodes.discard(node)
        if nodes:
            storage.nodes = sorted(nodes)
        else:
            cluster.remove_storage(storage.storage)


def _prepare(
    cluster: FakeCluster, node: str, params: Mapping[str, Any], may_allocate: MayAllocate,
    settings: dict[str, Any], verify: list[str],
) -> str:  # fmt: skip
    """The checks every create makes before its worker: the device, unused, and with ``add_storage`` the
    permission and the storage dry run."""
    device = verify_blockdev_path(cluster, node, str(params["device"]))
    assert_disk_unused(cluster, node, device)
    if params.get("add_storage"):
        may_allocate()
        _create_or_update(cluster, node, settings, verify, None)
    return device


def _lvm_names(cluster: FakeCluster, node: str) -> set[str]:
    return {group.name for group in node_layout(cluster, node)[1]}


def _new_group(cluster: FakeCluster, node: str, device: str, name: str, task: Task) -> VolumeGroup:
    """pvcreate and vgcreate on the device (a partition gets type 8E00 first): the group, registered."""
    disk, index = _devices(cluster, node)[device]
    written = writable_disk(cluster, node, disk.devpath)
    size = disk.size if index is None else disk.partitions[index][1]
    group = VolumeGroup(name, device, size)
    task.log += [f'  Physical volume "{device}" successfully created.', f'  Volume group "{name}" successfully created']
    if written is not None:
        if index is None:
            written.whole, written.gpt = "LVM", False
        else:
            part, part_size, _usage = written.partitions[index]
            written.partitions[index] = (part, part_size, "LVM")
        written.settle()
    disk_state(cluster, node).groups.append(group)
    return group


def create_lvm(
    cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str, may_allocate: MayAllocate,
    define: DefineStorage,
) -> Task:  # fmt: skip
    """LVM.pm create 145-201: a volume group on an unused disk; ``add_storage`` adds an ``lvm`` storage."""
    name = str(params["name"])
    settings = {"type": "lvm", "vgname": name, "storage": name, "content": "rootdir,images", "shared": 0,
                "nodes": node}  # fmt: skip
    device = _prepare(cluster, node, params, may_allocate, settings, ["vgname"])

    def work(task: Task) -> None:
        assert_disk_unused(cluster, node, device)
        if name in _lvm_names(cluster, node):
            raise PVEError(f"volume group with name '{name}' already exists on node '{node}'")
        _new_group(cluster, node, device, name, task)
        disk_state(cluster, node).gone.discard(("lvm", name))
        if params.get("add_storage"):
            _create_or_update(cluster, node, settings, ["vgname"], define, task)

    return start_worker(cluster, node, "lvmcreate", name, authid, work)


def create_lvmthin(
    cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str, may_allocate: MayAllocate,
    define: DefineStorage,
) -> Task:  # fmt: skip
    """LVMThin.pm create 102-182: a volume group and in it a thin pool of the same name (1% metadata, at least
    1 GiB, at most 16 GiB, twice: the spare); ``add_storage`` adds an ``lvmthin`` storage."""
    name = str(params["name"])
    settings = {"type": "lvmthin", "vgname": name, "thinpool": name, "storage": name, "content": "rootdir,images",
                "nodes": node}  # fmt: skip
    device = _prepare(cluster, node, params, may_allocate, settings, ["vgname", "thinpool"])

    def work(task: Task) -> None:
        assert_disk_unused(cluster, node, device)
        if name in _lvm_names(cluster, node):
            raise PVEError(f"volume group with name '{name}' already exists on node '{node}'")
        group = _new_group(cluster, node, device, name, task)
        data = group.size // 1024 - 128  # KiB, as pvs reports the physical volume
        metadata = min(max(data // 100, 1024 * 1024), 16 * 1024 * 1024)
        data -= 2 * metadata
        metadata_bytes = -(-metadata * 1024 // EXTENT) * EXTENT
        data_bytes = min(-(-data * 1024 // EXTENT) * EXTENT, group.size - 2 * metadata_bytes)
        rng = figures.seeded(cluster.seed, "thin-metadata", node, name)
        meta_used = int(metadata_bytes * (0.0105 + rng.uniform(0, 0.001)))
        group.lvs.append(LogicalVolume(name, data_bytes, 0, True, metadata_bytes, meta_used))
        task.log.append(f'  Logical volume "{name}" created.')
        disk_state(cluster, node).gone -= {("lvm", name), ("lvmthin", f"{name}/{name}")}
        if params.get("add_storage"):
            _create_or_update(cluster, node, settings, ["vgname", "thinpool"], define, task)

    return start_worker(cluster, node, "lvmthincreate", name, authid, work)


def create_directory(
    cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str, may_allocate: MayAllocate,
    define: DefineStorage,
) -> Task:  # fmt: skip
    """Directory.pm create 205-331: a partition (or the partition given), a file system on it, a systemd mount
    unit under /mnt/pve/NAME, enabled and started; ``add_storage`` adds a ``dir`` storage on the mount point."""
    name = str(params["name"])
    filesystem = str(params.get("filesystem") or "ext4")
    path = f"/mnt/pve/{name}"
    settings = {"type": "dir", "storage": name, "content": "rootdir,images,iso,backup,vztmpl,snippets",
                "is_mountpoint": 1, "path": path, "nodes": node}  # fmt: skip
    device = _prepare(cluster, node, params, may_allocate, settings, ["path"])
    state = disk_state(cluster, node)
    mounted = _mounted_paths(cluster, node)
    if path in mounted:
        raise PVEError(f"the path for '{name}' is already mounted: {path} ({mounted[path]})")
    unit = DirectoryMount(name, "", filesystem, "", 0, 0).unit
    if any(mount.unit == unit for mount in state.mounts):
        raise PVEError(f"a systemd mount unit already exists: /etc/systemd/system/{unit}")

    def work(task: Task) -> None:
        assert_disk_unused(cluster, node, device)
        disk, index = _devices(cluster, node)[device]
        written = writable_disk(cluster, node, disk.devpath)
        if index is None:
            task.log.append(f"# /sbin/sgdisk -n1 -t1:8300 {device}")
            if not disk.gpt:
                task.log.append("Creating new GPT entries in memory.")
            task.log.append("The operation has completed successfully.")
            part, size = disk.partition_path(1), _whole_disk_partition(disk.size)
        else:
            part, size, _usage = disk.partitions[index]
        task.log.append(f"# /sbin/mkfs -t {filesystem} {part}")
        draw = figures.seeded(cluster.seed, "dircreate", node, name, cluster.clock.now())
        uuid = figures.uuid4(draw)
        if filesystem == "ext4":
            ext4 = _ext4_figures(size)
            total, used = ext4["total"], ext4["used"]
            task.log += _mke2fs_log(cluster, ext4, uuid)
        else:
            total, used = _xfs_figures(size)
        task.log.append(f"# /sbin/blkid {part} -o export")
        if written is not None:
            if index is None:
                written.partitions, written.gpt = [(part, size, filesystem)], True
            else:
                written.partitions[index] = (part, size, filesystem)
            written.settle()
        mount = DirectoryMount(name, part, filesystem, uuid, total, used)
        state.mounts.append(mount)
        state.gone.discard(("dir", mount.path))
        link = f"/etc/systemd/system/multi-user.target.wants/{mount.unit}"
        task.log.append(_symlink_created(cluster, link, f"/etc/systemd/system/{mount.unit}"))
        if params.get("add_storage"):
            _create_or_update(cluster, node, settings, ["path"], define, task)

    return start_worker(cluster, node, "dircreate", name, authid, work)


def _mke2fs_log(cluster: FakeCluster, ext4: dict[str, Any], uuid: str) -> list[str]:
    """What ``mke2fs -t ext4`` prints on a partition (the padded ``done`` lines as it prints them)."""
    lines = [MKE2FS.get(cluster.release.major, MKE2FS[9]), "Discarding device blocks: done                            ",
             f"Creating filesystem with {ext4['blocks']} 4k blocks and {ext4['inodes']} inodes",
             f"Filesystem UUID: {uuid}"]  # fmt: skip
    text, room = "Superblock backups stored on blocks: ", 0
    for number, group in enumerate(ext4["backups"]):  # show_stats: a new row when 72 columns are used up
        block = str(group * 32768)
        text += ", " if number else ""
        if len(block) + 2 > room:
            text, room = text + "\n\t", 72
        room -= len(block) + 2
        text += block
    lines += text.split("\n")
    lines += ["", "Allocating group tables: done                            ",
              "Writing inode tables: done                            ",
              f"Creating journal ({ext4['journal']} blocks): done",
              "Writing superblocks and filesystem accounting information: done   "]  # fmt: skip
    return lines


def _zpool_names(cluster: FakeCluster, node: str) -> list[str]:
    return pool_names(cluster, node)


def create_zpool(
    cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str, may_allocate: MayAllocate,
    define: DefineStorage,
) -> Task:  # fmt: skip
    """ZFS.pm create 374-536: a pool of the RAID level on unused disks (by their by-id links), ashift, compression
    and its import unit; ``add_storage`` adds a ``zfspool`` storage."""
    name = str(params["name"])
    raidlevel = str(params["raidlevel"])
    compression = str(params.get("compression") or "on")
    draid: dict[str, int] = {}
    if "draid-config" in params:
        if not raidlevel.startswith("draid"):
            raise PVEError("draid-config set without using dRAID level")
        for key, value in (item.split("=", 1) for item in str(params["draid-config"]).split(",") if "=" in item):
            draid[key] = int(value)
    devices = []
    for given in split_list(str(params["devices"])):
        device = verify_blockdev_path(cluster, node, given)
        assert_disk_unused(cluster, node, device)
        devices.append(device)
    settings = {"type": "zfspool", "pool": name, "storage": name, "content": "rootdir,images", "nodes": node}
    if params.get("add_storage"):
        may_allocate()
        _create_or_update(cluster, node, settings, ["pool"], None)
    if name in _zpool_names(cluster, node):
        raise PVEError(f"pool '{name}' already exists on node '{node}'")
    count = len(devices)
    if raidlevel == "raid10" and count % 2:
        raise PVEError("raid10 needs an even number of disks")
    if raidlevel == "single" and count > 1:
        raise PVEError("please give only one disk for single disk mode")
    if count < MIN_DISKS[raidlevel]:
        raise PVEError(f"{raidlevel} needs at least {MIN_DISKS[raidlevel]} disks")
    if raidlevel.startswith("draid"):
        least = MIN_DISKS[raidlevel] - 2 + (draid.get("data") or 0) + (draid.get("spares") or 0)
        if count < least:
            raise PVEError(f"At least {least} disks needed for current dRAID config")
    ashift = int(params.get("ashift") or 12)

    def work(task: Task) -> None:
        vdevs, links, sizes = [], [], []
        for device in devices:
            assert_disk_unused(cluster, node, device)
        for device in devices:
            disk, index = _devices(cluster, node)[device]
            written = writable_disk(cluster, node, disk.devpath)
            if index is None:
                link = disk.by_id()
                part1 = _whole_disk_partition(disk.size, ZFS_RESERVED)
                vdevs.append(f"{link}-part1")
                sizes.append(part1)
                if written is not None:
                    written.partitions = [(disk.partition_path(1), part1, "ZFS"),
                                          (disk.partition_path(9), ZFS_RESERVED * SECTOR, "ZFS reserved")]  # fmt: skip
                    written.gpt, written.whole = True, ""
            else:
                part, size, _usage = disk.partitions[index]
                link = f"{disk.by_id()}-part{part[len(disk.devpath) :].lstrip('p')}"
                vdevs.append(link)
                sizes.append(size)
                if written is not None:
                    written.partitions[index] = (part, size, "ZFS")
            if written is not None:
                written.settle()
            links.append(link)
        layout: list[str] = []
        if raidlevel == "raid10":
            for first in range(0, len(links), 2):
                layout += ["mirror", links[first], links[first + 1]]
        elif raidlevel == "single":
            layout = links[:1]
        elif raidlevel.startswith("draid"):
            spec = raidlevel + (f":{draid['data']}d" if draid.get("data") else "")
            spec += f":{draid['spares']}s" if draid.get("spares") else ""
            layout = [spec, *links]
        else:
            layout = [raidlevel, *links]
        task.log.append(" ".join(["#", "/sbin/zpool", "create", "-o", f"ashift={ashift}", name, *layout]))
        task.log.append(f"# /sbin/zfs set compression={compression} {name}")
        unit = "zfs-import@" + name.replace("-", "\\x2d") + ".service"
        task.log.append(f"# systemctl enable {unit}")
        template = "/usr/lib/systemd/system/zfs-import@.service" if cluster.release.major >= 9 else \
            "/lib/systemd/system/zfs-import@.service"  # fmt: skip
        task.log.append(_symlink_created(cluster, f"/etc/systemd/system/zfs-import.target.wants/{unit}", template))
        size, usable = _zpool_figures(raidlevel, min(sizes), count, ashift, draid)
        disk_state(cluster, node).zpools.append(
            Zpool(name, raidlevel, devices, vdevs, ashift, compression, size, usable, cluster.clock.now(), draid)
        )
        disk_state(cluster, node).gone.discard(("zfspool", name))
        if params.get("add_storage"):
            _create_or_update(cluster, node, settings, ["pool"], define, task)

    return start_worker(cluster, node, "zfscreate", name, authid, work)


# ---- taking it down ---------------------------------------------------------------------------------------------


def _running_volume(cluster: FakeCluster, node: str, match: Callable[[Any], bool]) -> str | None:
    """A volume of a running guest of the node on a storage ``match`` picks (its LV or dataset is open)."""
    for storage in cluster.storages_on(node):
        if not match(storage):
            continue
        for guest, volid, _size in cluster.guest_volumes(storage.storage, node):
            if guest.node == node and guest.status == "running":
                return volid.split(":", 1)[1].split("/")[-1]
    return None


def remove_lvm(
    cluster: FakeCluster, node: str, name: str, params: Mapping[str, Any], authid: str, may_allocate: MayAllocate
) -> Task:
    """LVM.pm delete 238-287: vgremove (its logical volumes with it, unless one is open), then the storages'
    config and the disk's wipe as asked."""
    if params.get("cleanup-config"):
        may_allocate()

    def work(task: Task) -> None:
        groups = {group.name: group for group in node_layout(cluster, node)[1]}
        if name not in groups:
            raise PVEError(f"no such volume group '{name}'")
        group = groups[name]
        state = disk_state(cluster, node)
        own = next((g for g in state.groups if g.name == name), None)
        if own is None:  # the installer's pve (root is mounted) or an OSD's (ceph-osd holds it open)
            lv = next(lv for lv in group.lvs if lv.name == "root") if name == "pve" else group.lvs[0]
            why = "contains a filesystem in use" if name == "pve" else "in use"
            raise PVEError(f"unable to remove volume group {name}: Logical volume {name}/{lv.name} {why}.")
        volume = _running_volume(cluster, node, lambda s: s.options.get("vgname") == name)
        if volume is not None:
            raise PVEError(f"unable to remove volume group {name}: Logical volume {name}/{volume} in use.")
        task.log += [f'  Logical volume "{lv.name}" successfully removed.' for lv in group.lvs]
        task.log.append(f'  Volume group "{name}" successfully removed')
        state.groups.remove(own)
        state.gone |= {("lvm", name), *(("lvmthin", f"{name}/{lv.name}") for lv in own.lvs if lv.thin_pool)}
        if params.get("cleanup-config"):
            _cleanup_storages(cluster, node, lambda s: s.plugintype == "lvm" and s.options.get("vgname") == name)
        _release(cluster, node, own.pv, "LVM", task, bool(params.get("cleanup-disks")))

    return start_worker(cluster, node, "lvmremove", name, authid, work)


def _release(cluster: FakeCluster, node: str, device: str, usage: str, task: Task, wipe: bool) -> None:
    """After vgremove or zpool destroy: the physical volume's label stays (``LVM``, still in use) unless wiped."""
    if wipe:
        _wipe(cluster, node, device, task)
        return
    disk, index = _devices(cluster, node)[device]
    written = writable_disk(cluster, node, disk.devpath)
    if written is None:
        return
    if index is None:
        written.whole = usage
    written.settle()


def remove_lvmthin(
    cluster: FakeCluster, node: str, name: str, params: Mapping[str, Any], authid: str, may_allocate: MayAllocate
) -> Task:
    """LVMThin.pm delete 220-280: lvremove of the pool (and its thin volumes, unless one is open); with
    cleanup-disks the emptied volume group's disks are wiped."""
    if params.get("cleanup-config"):
        may_allocate()
    vg = str(params["volume-group"])

    def work(task: Task) -> None:
        groups = node_layout(cluster, node)[1]
        pools = [(group, lv) for group in groups for lv in group.lvs if lv.thin_pool]
        if not any(group.name == vg and lv.name == name for group, lv in pools):
            raise PVEError(f"no such thin pool {vg}/{name}")

        def match(storage: Any) -> bool:
            options = storage.options
            return bool(storage.plugintype == "lvmthin" and options.get("vgname") == vg
                        and options.get("thinpool") == name)  # fmt: skip

        volume = _running_volume(cluster, node, match)
        if volume is not None:
            task.log.append(f"  Logical volume {vg}/{volume} in use.")
            raise PVEError(f"command 'lvremove -y {vg}/{name}' failed: exit code 5")
        state = disk_state(cluster, node)
        own = next((group for group in state.groups if group.name == vg), None)
        if own is None:
            state.installer_pool_removed = True
        else:
            own.lvs = [lv for lv in own.lvs if lv.name != name]
        task.log.append(f'  Logical volume "{name}" successfully removed.')
        state.gone.add(("lvmthin", f"{vg}/{name}"))
        if params.get("cleanup-config"):
            _cleanup_storages(cluster, node, match)
        if params.get("cleanup-disks"):
            group = next(group for group in node_layout(cluster, node)[1] if group.name == vg)
            if group.lvs:
                raise PVEError(f"volume group '{vg}' still in use")
            if own is not None:
                state.groups.remove(own)
                _wipe(cluster, node, own.pv, task)

    return start_worker(cluster, node, "lvmthinremove", f"{vg}-{name}", authid, work)


def remove_directory(
    cluster: FakeCluster, node: str, name: str, params: Mapping[str, Any], authid: str, may_allocate: MayAllocate
) -> Task:
    """Directory.pm delete 368-429: the mount unit stopped, disabled and removed; with cleanup-disks the partition
    (the whole disk where it is its only partition) wiped."""
    if params.get("cleanup-config"):
        may_allocate()

    def work(task: Task) -> None:
        state = disk_state(cluster, node)
        mount = next((mount for mount in state.mounts if mount.name == name), None)
        unit = DirectoryMount(name, "", "", "", 0, 0).unit
        if mount is None:
            if params.get("cleanup-disks"):
                raise PVEError(f"unable to open file '/etc/systemd/system/{unit}' - No such file or directory")
            raise PVEError(f"command 'systemctl stop {unit}' failed: exit code 5")
        if _running_volume(cluster, node, lambda s: s.plugintype == "dir" and s.path == mount.path):
            task.log.append(f"Job for {unit} failed. See \"systemctl status {unit}\" and \"journalctl -xeu {unit}\" "
                            "for details.")  # fmt: skip
            raise PVEError(f"command 'systemctl stop {unit}' failed: exit code 1")
        disk, _index = _devices(cluster, node)[mount.device]
        target = disk.devpath if len(disk.partitions) == 1 else mount.device
        state.mounts.remove(mount)
        state.gone.add(("dir", mount.path))
        task.log.append(_symlink_removed(cluster, f"/etc/systemd/system/multi-user.target.wants/{unit}"))
        if params.get("cleanup-config"):
            _cleanup_storages(cluster, node, lambda s: s.plugintype == "dir" and s.path == mount.path)
        if params.get("cleanup-disks"):
            _wipe(cluster, node, target, task)

    return start_worker(cluster, node, "dirremove", name, authid, work)


def remove_zpool(
    cluster: FakeCluster, node: str, name: str, params: Mapping[str, Any], authid: str, may_allocate: MayAllocate
) -> Task:
    """ZFS.pm delete 573-652: the import unit disabled, ``zpool destroy`` (refused while a dataset is in use),
    then the storages' config and the disks (whole where ZFS partitioned them) as asked."""
    if params.get("cleanup-config"):
        may_allocate()

    def work(task: Task) -> None:
        state = disk_state(cluster, node)
        pool = next((pool for pool in state.zpools if pool.name == name), None)
        exists = name in _zpool_names(cluster, node)
        if params.get("cleanup-disks") and not exists:
            task.log.append(f"cannot open '{name}': no such pool")
            raise PVEError(f"command 'zpool list -vHPL {name}' failed: exit code 1")
        unit = "zfs-import@" + name.replace("-", "\\x2d") + ".service"
        if pool is not None:
            task.log.append(_symlink_removed(cluster, f"/etc/systemd/system/zfs-import.target.wants/{unit}"))
        if not exists:
            task.log.append(f"cannot open '{name}': no such pool")
            raise PVEError(f"command 'zpool destroy {name}' failed: exit code 1")

        def match(storage: Any) -> bool:
            return bool(storage.plugintype == "zfspool" and str(storage.options.get("pool")) == name)

        if pool is None:  # the installer's rpool: the root file system is on it
            task.log.append("cannot unmount '/': pool or dataset is busy")
            raise PVEError(f"command 'zpool destroy {name}' failed: exit code 1")
        volume = _running_volume(cluster, node, lambda storage: storage_pool_root(storage) == name)
        if volume is not None:
            task.log.append(f"cannot destroy '{name}': pool is busy")
            raise PVEError(f"command 'zpool destroy {name}' failed: exit code 1")
        state.zpools.remove(pool)
        state.gone.add(("zfspool", name))
        if params.get("cleanup-config"):
            _cleanup_storages(cluster, node, match)
        for device in pool.devices:
            disk, index = _devices(cluster, node)[device]
            if params.get("cleanup-disks"):
                reserved = index is None  # ZFS's own layout (partition 9 'ZFS reserved'): the whole disk goes
                _wipe(cluster, node, disk.devpath if reserved else device, task)
                continue
            written = writable_disk(cluster, node, disk.devpath)
            if written is not None:  # the labels stay: zpool destroy only marks the pool destroyed
                written.settle()

    return start_worker(cluster, node, "zfsremove", name, authid, work)


def storage_pool_root(storage: Any) -> str | None:
    """The pool a ``zfspool`` storage's datasets are in."""
    if storage.plugintype != "zfspool":
        return None
    return str(storage.options.get("pool", "")).split("/", 1)[0]
