"""A node's disks and LVM as the PVE installer and ``pveceph osd create`` leave them, sized from the storages.

The system disk ``/dev/sda`` holds what the installer makes (pve-installer ``Proxmox/Install.pm``: a BIOS boot
partition, a 1 GiB EFI partition, the rest an LVM physical volume with the volume group ``pve``): the ``root`` LV
the ``local`` directory storage lives on, ``swap``, and, where the node has an LVM-thin storage, the thin pool
``data`` behind it. Its size is the smallest common SSD size that holds them. Each OSD of the node is a whole disk
with a volume group of its own (``ceph-<uuid>``). What the storages report and what LVM reports agree: the thin
pool's size and use are the ``lvmthin`` storage's total and used.

What ``/nodes/{node}/disks`` wrote (:mod:`pytest_pvemock.model.node_disk_writes`) lives in the node's
:class:`NodeDiskState`: its spare disks (a scenario's ``spare_disks``, and Ceph's spare disks once written to), the
volume groups, thin pools, ZFS pools and directory mounts made on them; :func:`node_layout` lists them with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model import figures

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

GIB = 1024**3
MIB = 1024**2
EXTENT = 4 * MIB
SWAP = 8 * GIB
SSD_SIZES = (480_103_981_056, 960_197_124_096, 1_920_383_410_176, 3_840_755_982_336, 7_681_501_126_656)
SYSTEM_MODEL = "SAMSUNG MZ7L3{size}HCJR-00A07"


@dataclass
class LogicalVolume:
    name: str
    size: int
    used: int = 0
    thin_pool: bool = False
    metadata_size: int = 0
    metadata_used: int = 0


@dataclass
class VolumeGroup:
    name: str
    pv: str
    pv_size: int
    lvs: list[LogicalVolume] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Whole 4 MiB extents after LVM's 1 MiB of metadata on the physical volume."""
        return (self.pv_size - MIB) // EXTENT * EXTENT

    @property
    def free(self) -> int:
        taken = sum(lv.size + (2 * lv.metadata_size if lv.thin_pool else 0) for lv in self.lvs)
        return max(self.size - taken, 0)


@dataclass
class Disk:
    devpath: str
    size: int
    model: str
    serial: str
    wwn: str
    used: str
    wearout: int
    osdid: int = -1
    partitions: list[tuple[str, int, str]] = field(default_factory=list)  # (devpath, size, usage)
    #: The disk holds a GPT partition table (``sgdisk``, the installer, ``zpool create``); a wiped disk holds none.
    gpt: bool = True
    #: What the whole disk holds without a partition table (``LVM``: a physical volume on it), else "".
    whole: str = ""
    #: The Ceph spare disk this record stands for once ``/disks`` wrote to it (its ``used`` follows this one).
    origin: Any = field(default=None, repr=False, compare=False)

    def settle(self) -> None:
        """``used`` as ``get_disks`` without partitions reports it (Diskmanage.pm 734-749): the whole disk's use,
        else its first used partition's, else ``partitions`` where it has some; a Ceph spare disk follows."""
        used = self.whole or next((usage for _path, _size, usage in self.partitions if usage), "")
        self.used = used or ("partitions" if self.partitions else "")
        if self.origin is not None:
            self.origin.used = self.used

    def in_use(self) -> bool:
        """``disk_is_used`` (Diskmanage.pm 76-88, ``get_disks`` with partitions: any partition counts)."""
        return bool(self.whole or self.partitions)

    def partition_path(self, number: int) -> str:
        """The device of partition ``number`` (``/dev/sdb1``, ``/dev/nvme1n1p1``)."""
        return f"{self.devpath}p{number}" if self.devpath[-1].isdigit() else f"{self.devpath}{number}"

    def by_id(self) -> str:
        """The ``/dev/disk/by-id`` link ``get_udev_info`` picks (``ata-``, ``nvme-``; Diskmanage.pm 385)."""
        bus = "nvme" if "/nvme" in self.devpath else "ata"
        return f"/dev/disk/by-id/{bus}-{self.model.replace(' ', '_')}_{self.serial}"


@dataclass
class Zpool:
    """A pool ``zpool create`` made (ZFS.pm ``create``): its top-level layout and the figures it started with."""

    name: str
    raidlevel: str
    #: The devices given (whole disks or partitions), in the order given.
    devices: list[str]
    #: The vdevs as ``zpool status -P`` names them (the by-id partition 1 of a whole disk).
    vdevs: list[str]
    ashift: int
    compression: str
    #: ``zpool list`` SIZE: the raw space of all vdevs, parity included.
    size: int
    #: What ZFS can store (``zfs get used,available`` of the root dataset): parity and slop space excluded.
    usable: int
    created: int
    draid: dict[str, int] = field(default_factory=dict)


@dataclass
class DirectoryMount:
    """A ``mnt-pve-NAME.mount`` unit ``disks/directory`` wrote (Directory.pm ``create``) and its file system."""

    name: str
    device: str
    filesystem: str
    uuid: str
    total: int
    used: int

    @property
    def path(self) -> str:
        return f"/mnt/pve/{self.name}"

    @property
    def unit(self) -> str:
        """``PVE::Systemd::escape_unit($path, 1) . '.mount'`` (pve-common Systemd.pm 18-32)."""
        return self.path.lstrip("/").replace("-", "\\x2d").replace("/", "-") + ".mount"


@dataclass
class NodeDiskState:
    """What the node's ``/disks`` writes changed; the installer's layout and the OSDs stay derived."""

    #: The node's spare disks (and Ceph's spare disks once written to), by device.
    disks: dict[str, Disk] = field(default_factory=dict)
    groups: list[VolumeGroup] = field(default_factory=list)
    zpools: list[Zpool] = field(default_factory=list)
    mounts: list[DirectoryMount] = field(default_factory=list)
    #: The installer's thin pool ``pve/data``, once removed (``disks/lvmthin`` DELETE).
    installer_pool_removed: bool = False
    #: What ``/disks`` removals took down (``("lvm", vg)``, ``("lvmthin", "vg/lv")``, ``("zfspool", pool)``,
    #: ``("dir", path)``): a storage still on it cannot be activated on this node.
    gone: set[tuple[str, str]] = field(default_factory=set)
    #: Empty disks the node was built with (a scenario node's ``spare_disks``), made when first asked for.
    spare_count: int = 0
    spares_made: bool = False


SPARE_MODEL = "SAMSUNG MZ7L3960HCJR-00A07"
SPARE_SIZE = 960_197_124_096


def disk_state(cluster: FakeCluster, node: str) -> NodeDiskState:
    """The node's disk state; its spare disks are made the first time (after Ceph's, whose names they follow)."""
    state = cluster.node_disks.setdefault(node, NodeDiskState())
    if not state.spares_made:
        state.spares_made = True
        add_spare_disks(cluster, node, state.spare_count)
    return state


def add_spare_disks(cluster: FakeCluster, node: str, count: int = 1) -> list[Disk]:
    """Put ``count`` empty SSDs into the node (``/dev/sdb`` on, the letters no disk has yet): disks for
    ``/nodes/{node}/disks`` to set up."""
    state = cluster.node_disks.setdefault(node, NodeDiskState())
    taken = {"/dev/sda", *state.disks}
    if cluster.ceph is not None:
        taken |= {osd.devpath for osd in cluster.ceph.osds if osd.host == node}
        taken |= {disk.devpath for disk in cluster.ceph.spare_disks if disk.host == node}
    free = [f"/dev/sd{letter}" for letter in "bcdefghijklmnopqrstuvwxyz" if f"/dev/sd{letter}" not in taken]
    added = []
    for devpath in free[:count]:
        draw = figures.seeded(cluster.seed, "node-spare-disk", node, devpath)
        serial = f"S6{figures.hex_string(draw, 4).upper()}NW{draw.randrange(100000, 999999)}"
        wwn = f"0x5002538f{figures.hex_string(draw, 8)}"
        disk = Disk(devpath, SPARE_SIZE, SPARE_MODEL, serial, wwn, "", draw.randrange(97, 100), gpt=False)
        state.disks[devpath] = disk
        added.append(disk)
    cluster.revision.touch()
    return added


def _round_up(value: int) -> int:
    return -(-value // EXTENT) * EXTENT


def _current(cluster: FakeCluster, disk: Disk) -> bool:
    """A written disk that is still the node's: not a Ceph spare disk an OSD took since (or destroyed again)."""
    if disk.origin is None:
        return True
    return cluster.ceph is not None and any(spare is disk.origin for spare in cluster.ceph.spare_disks)


def writable_disk(cluster: FakeCluster, node: str, devpath: str) -> Disk | None:
    """The node's disk at ``devpath`` that ``/disks`` writes may change: a spare disk of the node, or a Ceph spare
    disk (kept from now on as a written disk, its ``used`` followed by ``pveceph osd create``)."""
    state = disk_state(cluster, node)
    disk = state.disks.get(devpath)
    if disk is not None and _current(cluster, disk):
        return disk
    ceph = cluster.ceph
    spare = next((s for s in ceph.spare_disks if s.host == node and s.devpath == devpath), None) if ceph else None
    if spare is None:
        return None
    draw = figures.seeded(cluster.seed, "spare-disk", node, spare.devpath)
    wwn = f"eui.{figures.hex_string(draw, 16)}"
    disk = Disk(spare.devpath, spare.size, spare.model, spare.serial, wwn, spare.used, draw.randrange(95, 100),
                gpt=bool(spare.used), whole=spare.used, origin=spare)  # fmt: skip
    state.disks[devpath] = disk
    return disk


def node_layout(cluster: FakeCluster, node_name: str) -> tuple[list[Disk], list[VolumeGroup]]:
    """The node's disks (sorted by device name, as ``/nodes/{node}/disks/list`` lists them) and volume groups."""
    storages = cluster.storages_on(node_name)
    local = next((s for s in storages if s.plugintype == "dir" and s.path == "/var/lib/vz"), None)
    thin = [s for s in storages if s.plugintype == "lvmthin" and not s.shared and s.options.get("vgname") == "pve"]
    root_size = _round_up(local.total if local is not None else 96 * GIB)
    pve = VolumeGroup("pve", "/dev/sda3", 0)
    pve.lvs.append(LogicalVolume("swap", SWAP))
    pve.lvs.append(LogicalVolume("root", root_size))
    for storage in thin[:1]:
        total, used, _avail = cluster.storage_usage(storage.storage, node_name)
        data = _round_up(total)
        metadata = _round_up(max(data // 100, 1 * GIB) if data < 1600 * GIB else 16 * GIB)
        rng = figures.seeded(cluster.seed, "thin-metadata", node_name)
        meta_used = int(metadata * min(0.02 + used / max(data, 1) * 0.08 + rng.uniform(0, 0.01), 0.9))
        pve.lvs.append(LogicalVolume("data", data, used, True, metadata, meta_used))
    needed = sum(lv.size + 2 * lv.metadata_size for lv in pve.lvs) + 16 * GIB  # the installer keeps 16 GiB free
    disk_size = next((size for size in SSD_SIZES if size >= needed + GIB + MIB), SSD_SIZES[-1])
    pve.pv_size = disk_size - GIB - 2 * MIB
    state = disk_state(cluster, node_name)
    if state.installer_pool_removed:
        pve.lvs = [lv for lv in pve.lvs if not lv.thin_pool]
    rng = figures.seeded(cluster.seed, "system-disk", node_name)
    label = {480: "480HCHQ", 960: "960HCJR", 1920: "1T9HCJR", 3840: "3T8HCJR", 7681: "7T6HCJR"}
    model = f"SAMSUNG MZ7L3{label.get(disk_size // 1_000_000_000, '960HCJR')}-00A07"
    serial = f"S6{figures.hex_string(rng, 4).upper()}NW{rng.randrange(100000, 999999)}"
    system = Disk(
        "/dev/sda", disk_size, model, serial, f"0x5002538f{figures.hex_string(rng, 8)}", "BIOS boot",
        rng.randrange(93, 100),
        partitions=[("/dev/sda1", MIB, "BIOS boot"), ("/dev/sda2", GIB, "EFI"), ("/dev/sda3", pve.pv_size, "LVM")],
    )  # fmt: skip
    disks = [system]
    groups = [pve]
    ceph = cluster.ceph
    if ceph is not None:
        for osd in ceph.osds_on(node_name):
            draw = figures.seeded(cluster.seed, "osd-disk", osd.osdid)
            disks.append(Disk(osd.devpath, osd.size, osd.model, osd.serial, f"eui.{figures.hex_string(draw, 16)}",
                              "LVM", draw.randrange(95, 100), osdid=osd.osdid, gpt=False,
                              whole="LVM"))  # fmt: skip  # ceph-volume's physical volume is the whole disk
            group = VolumeGroup(osd.vg_name, osd.devpath, osd.size)
            group.lvs.append(LogicalVolume(osd.lv_name, group.size))
            groups.append(group)
        for spare in ceph.spare_disks:  # empty disks, or left with the LVM of an OSD destroyed without cleanup
            written = state.disks.get(spare.devpath)
            if written is not None and written.origin is spare:
                continue  # listed below as the disk writes left it
            if spare.host == node_name:
                draw = figures.seeded(cluster.seed, "spare-disk", node_name, spare.devpath)
                wwn = f"eui.{figures.hex_string(draw, 16)}"
                disks.append(Disk(spare.devpath, spare.size, spare.model, spare.serial, wwn, spare.used,
                                  draw.randrange(95, 100), gpt=False, whole=spare.used))  # fmt: skip
    disks.extend(disk for disk in state.disks.values() if _current(cluster, disk))
    groups.extend(_as_used(cluster, node_name, group) for group in state.groups)
    disks.sort(key=lambda disk: disk.devpath.rsplit("/", 1)[1])
    return disks, groups


#: ``zfs list`` USED of a pool nothing was written to yet (the root dataset's metadata).
ZFS_EMPTY_USED = 516 * 1024


def _as_used(cluster: FakeCluster, node: str, group: VolumeGroup) -> VolumeGroup:
    """A volume group made through ``disks/lvm(thin)`` with what the storages on it hold: the guests' volumes as
    logical volumes of a plain LVM storage, the thin pool's data use from its ``lvmthin`` storage."""
    lvs = []
    for lv in group.lvs:
        if lv.thin_pool:
            wanted = {"vgname": group.name, "thinpool": lv.name}
            storage = next((s for s in cluster.storages_on(node) if s.plugintype == "lvmthin"
                            and all(s.options.get(key) == value for key, value in wanted.items())), None)  # fmt: skip
            used = cluster.storage_usage(storage.storage, node)[1] if storage is not None else lv.used
            meta = lv.metadata_used + int(lv.metadata_size * 0.08 * used / max(lv.size, 1))
            lv = LogicalVolume(lv.name, lv.size, used, True, lv.metadata_size, meta)
        lvs.append(lv)
    for storage in cluster.storages_on(node):
        if storage.plugintype == "lvm" and storage.options.get("vgname") == group.name:
            lvs.extend(LogicalVolume(volid.split(":", 1)[1], _round_up(size))
                       for _guest, volid, size in cluster.guest_volumes(storage.storage, node))  # fmt: skip
    return VolumeGroup(group.name, group.pv, group.pv_size, lvs)


def backing_key(storage: Any) -> tuple[str, str] | None:
    """What a local storage stands on, as :attr:`NodeDiskState.gone` names it (``None``: not a local one)."""
    options = storage.options
    if storage.plugintype == "lvm":
        return "lvm", str(options.get("vgname"))
    if storage.plugintype == "lvmthin":
        return "lvmthin", f"{options.get('vgname')}/{options.get('thinpool')}"
    if storage.plugintype == "zfspool":
        return "zfspool", str(options.get("pool", "")).split("/", 1)[0]
    if storage.plugintype == "dir":
        return "dir", str(storage.path)
    return None


def storage_active(cluster: FakeCluster, storage: Any, node: str) -> bool:
    """False where ``activate_storage`` fails on the node: what the storage stands on was removed through
    ``/disks`` (the volume group, thin pool, pool or mount), and nothing of that name was made again."""
    state = cluster.node_disks.get(node)
    key = backing_key(storage)
    return state is None or key not in state.gone


def backing_figures(cluster: FakeCluster, storage: Any, node: str) -> tuple[int, int] | None:
    """(total, used before any guest volume) of a storage on what ``/disks`` set up on ``node``: the volume
    group of an ``lvm`` storage, the thin pool of an ``lvmthin`` one, the pool of a ``zfspool`` one, the mounted
    file system of a ``dir`` one; (0, 0) where that was removed (PVE's ``storage_info`` of a storage it cannot
    activate); ``None`` for any other."""
    state = cluster.node_disks.get(node)
    if state is None:
        return None
    options = storage.options
    if storage.plugintype == "lvm":
        group = next((g for g in state.groups if g.name == options.get("vgname")), None)
        if group is not None:
            return group.size, sum(lv.size + 2 * lv.metadata_size for lv in group.lvs)
    elif storage.plugintype == "lvmthin":
        for group in state.groups:
            for lv in group.lvs:
                if lv.thin_pool and (group.name, lv.name) == (options.get("vgname"), options.get("thinpool")):
                    return lv.size, 0
    elif storage.plugintype == "zfspool":
        root = str(options.get("pool", "")).split("/", 1)[0]
        pool = next((pool for pool in state.zpools if pool.name == root), None)
        if pool is not None:
            return pool.usable, ZFS_EMPTY_USED
    elif storage.plugintype == "dir":
        mount = next((mount for mount in state.mounts if mount.path == storage.path), None)
        if mount is not None:
            return mount.total, mount.used
    if backing_key(storage) in state.gone:
        return 0, 0
    return None
