"""A node's disks and LVM as the PVE installer and ``pveceph osd create`` leave them, sized from the storages.

The system disk ``/dev/sda`` holds what the installer makes (pve-installer ``Proxmox/Install.pm``: a BIOS boot
partition, a 1 GiB EFI partition, the rest an LVM physical volume with the volume group ``pve``): the ``root`` LV
the ``local`` directory storage lives on, ``swap``, and, where the node has an LVM-thin storage, the thin pool
``data`` behind it. Its size is the smallest common SSD size that holds them. Each OSD of the node is a whole disk
with a volume group of its own (``ceph-<uuid>``). What the storages report and what LVM reports agree: the thin
pool's size and use are the ``lvmthin`` storage's total and used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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


def _round_up(value: int) -> int:
    return -(-value // EXTENT) * EXTENT


def node_layout(cluster: FakeCluster, node_name: str) -> tuple[list[Disk], list[VolumeGroup]]:
    """The node's disks (sorted by device name, as ``/nodes/{node}/disks/list`` lists them) and volume groups."""
    storages = cluster.storages_on(node_name)
    local = next((s for s in storages if s.plugintype == "dir" and s.path == "/var/lib/vz"), None)
    thin = [s for s in storages if s.plugintype == "lvmthin" and not s.shared]
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
                              "LVM", draw.randrange(95, 100), osdid=osd.osdid))  # fmt: skip
            group = VolumeGroup(osd.vg_name, osd.devpath, osd.size)
            group.lvs.append(LogicalVolume(osd.lv_name, group.size))
            groups.append(group)
        for spare in ceph.spare_disks:  # empty disks, or left with the LVM of an OSD destroyed without cleanup
            if spare.host == node_name:
                draw = figures.seeded(cluster.seed, "spare-disk", node_name, spare.devpath)
                wwn = f"eui.{figures.hex_string(draw, 16)}"
                disks.append(Disk(spare.devpath, spare.size, spare.model, spare.serial, wwn, spare.used,
                                  draw.randrange(95, 100)))  # fmt: skip
    disks.sort(key=lambda disk: disk.devpath.rsplit("/", 1)[1])
    return disks, groups
