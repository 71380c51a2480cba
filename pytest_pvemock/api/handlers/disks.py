"""``/nodes/{node}/disks/{list,lvm,lvmthin}`` and ``/nodes/{node}/scan/{lvm,lvmthin}``: the node's disks and LVM
(:mod:`pytest_pvemock.model.node_disks`), agreeing with its storages and its Ceph OSDs.

pve-storage commit 0c56bad8: ``disks/list`` is PVE::Diskmanage::get_disks sorted by device name (src/PVE/API2/
Disks.pm ``list``; a disk's ``used`` is its first partition's usage unless partitions are asked for, then
``partitions``, Diskmanage.pm lines 734-749; OSD disks carry ``osdid`` and ``osdid-list``, others -1 and null);
``disks/lvm`` the volume groups with their physical volumes (src/PVE/API2/Disks/LVM.pm ``index``), ``disks/lvmthin``
the thin pools with data and metadata use (LVMThin.pm ``index``), ``scan/lvm`` and ``scan/lvmthin`` the names
(src/PVE/API2/Storage/Scan.pm).
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.node_disk_writes import mounted_devices, storage_pool_root
from pytest_pvemock.model.node_disks import ZFS_EMPTY_USED, disk_state, node_layout
from pytest_pvemock.model.zfs_pools import installer_pool, pool_names


@handles("GET", "/nodes/{node}/disks/list")
def list_disks(ctx: HandlerContext) -> list[dict[str, Any]]:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    disks, _groups = node_layout(ctx.cluster, node.name)
    partitions = bool(ctx.params.get("include-partitions"))
    wanted = ctx.params.get("type")
    smart = not ctx.params.get("skipsmart")
    mounted = mounted_devices(ctx.cluster, node.name)
    rows: list[dict[str, Any]] = []
    for disk in disks:
        kind = "nvme" if "/nvme" in disk.devpath else "ssd"
        row: dict[str, Any] = {
            "devpath": disk.devpath, "size": disk.size, "model": disk.model, "serial": disk.serial,
            "vendor": "ATA     " if kind == "ssd" else "unknown", "wwn": disk.wwn, "gpt": int(disk.gpt), "rpm": 0,
            "type": kind,
            "health": "PASSED" if smart else "UNKNOWN", "wearout": disk.wearout if smart else "N/A",
            "used": "partitions" if partitions and disk.partitions else disk.used,
            "osdid": disk.osdid, "osdid-list": [disk.osdid] if disk.osdid >= 0 else None,
        }  # fmt: skip
        if disk.osdid >= 0:
            row["bluestore"] = 1
            row["osdencrypted"] = 0
        if not row["used"]:  # nothing uses the disk: get_disks sets no 'used' (Diskmanage.pm 749)
            del row["used"]
        if (wanted == "unused" and disk.used) or (
            wanted == "journal_disks" and (disk.osdid >= 0 or row.get("used") not in ("LVM",))
        ):
            continue
        rows.append(row)
        if partitions:
            for path, size, usage in disk.partitions:
                row = {"devpath": path, "parent": disk.devpath, "size": size, "used": usage, "gpt": int(disk.gpt),
                       "type": "partition", "osdid": -1, "osdid-list": None}  # fmt: skip
                if not usage:  # an unused partition (a wiped one): no 'used' (Diskmanage.pm 702-703, 664)
                    del row["used"]
                if path in mounted:  # get_disks sets 'mounted' only where it is (Diskmanage.pm 698)
                    row["mounted"] = 1
                rows.append(row)
    return rows


@handles("GET", "/nodes/{node}/disks/lvm")
def list_volume_groups(ctx: HandlerContext) -> dict[str, Any]:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    _disks, groups = node_layout(ctx.cluster, node.name)
    children = []
    for group in sorted(groups, key=lambda group: group.name):
        pv = {"name": group.pv, "size": group.size, "free": group.free, "leaf": 1}
        children.append({"name": group.name, "size": group.size, "free": group.free, "leaf": 0, "children": [pv]})
    return {"leaf": 0, "children": children}


@handles("GET", "/nodes/{node}/disks/lvmthin")
def list_thin_pools(ctx: HandlerContext) -> list[dict[str, Any]]:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    _disks, groups = node_layout(ctx.cluster, node.name)
    return [
        {"lv": lv.name, "vg": group.name, "lv_size": lv.size, "used": lv.used, "metadata_size": lv.metadata_size,
         "metadata_used": lv.metadata_used}
        for group in groups for lv in group.lvs if lv.thin_pool
    ]  # fmt: skip


@handles("GET", "/nodes/{node}/scan/lvm")
def scan_volume_groups(ctx: HandlerContext) -> list[dict[str, str]]:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    _disks, groups = node_layout(ctx.cluster, node.name)
    return [{"vg": group.name} for group in sorted(groups, key=lambda group: group.name)]


@handles("GET", "/nodes/{node}/scan/lvmthin")
def scan_thin_pools(ctx: HandlerContext) -> list[dict[str, str]]:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    _disks, groups = node_layout(ctx.cluster, node.name)
    vg = str(ctx.params["vg"])
    return [{"lv": lv.name} for group in groups if group.name == vg for lv in group.lvs if lv.thin_pool]


@handles("GET", "/nodes/{node}/disks/smart")
def disk_smart(ctx: HandlerContext) -> dict[str, Any]:
    """Disks.pm ``smart``: ``smartctl`` of a disk of the node (``not a valid block device`` otherwise): an SSD's ATA
    attributes, an NVMe disk's health log as text; ``healthonly`` keeps the health alone."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(str(ctx.params["node"]))
    disks, _groups = node_layout(cluster, node.name)
    disk = next((disk for disk in disks if disk.devpath == ctx.params["disk"]), None)
    if disk is None:
        raise PVEError("not a valid block device", 500)
    if ctx.params.get("healthonly"):
        return {"health": "PASSED"}
    hours = max((cluster.clock.now() - node.boot_time) // 3600 + 8000 + disk.size % 997, 0)
    if "/nvme" in disk.devpath:
        used = 100 - disk.wearout
        text = (f"\nSMART/Health Information (NVMe Log 0x02)\nCritical Warning:                   0x00\n"
                f"Temperature:                        {33 + disk.size % 7} Celsius\n"
                f"Available Spare:                    100%\nAvailable Spare Threshold:          10%\n"
                f"Percentage Used:                    {used}%\nPower On Hours:                     {hours:,}\n"
                f"Unsafe Shutdowns:                   {disk.size % 23}\nMedia and Data Integrity Errors:    0\n"
                f"Error Information Log Entries:      0\n")  # fmt: skip
        return {"health": "PASSED", "type": "text", "text": text}

    def attribute(ident: int, name: str, flags: str, value: int, threshold: int, raw: str) -> dict[str, Any]:
        return {"id": f"{ident:>3}", "name": name, "flags": flags, "value": value, "normalized": value,
                "worst": value, "threshold": threshold, "fail": "-", "raw": raw}  # fmt: skip

    attributes = [
        attribute(5, "Reallocated_Sector_Ct", "PO--CK", 100, 10, "0"),
        attribute(9, "Power_On_Hours", "-O--CK", 98, 0, str(hours)),
        attribute(12, "Power_Cycle_Count", "-O--CK", 99, 0, str(20 + disk.size % 31)),
        attribute(177, "Wear_Leveling_Count", "PO--C-", disk.wearout, 0, str((100 - disk.wearout) * 3)),
        attribute(194, "Temperature_Celsius", "-O---K", 67, 0, str(33 + disk.size % 7)),
        attribute(199, "UDMA_CRC_Error_Count", "-OSRCK", 100, 0, "0"),
    ]
    return {"health": "PASSED", "type": "ata", "attributes": attributes}


@handles("GET", "/nodes/{node}/disks/zfs")
def list_zpools(ctx: HandlerContext) -> list[dict[str, Any]]:
    """ZFS.pm ``index``: ``zpool list``: ``rpool`` where the node has a ZFS storage on it (its figures), else
    none (the installer's LVM layout), and the pools ``disks/zfs`` created (their storage's use, if one is on it)."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(str(ctx.params["node"]))
    rows = []
    for name in pool_names(cluster, node.name):
        created = next((pool for pool in disk_state(cluster, node.name).zpools if pool.name == name), None)
        if created is None:
            storage = installer_pool(cluster, node.name)
            total, used, avail = cluster.storage_usage(storage.storage, node.name)
            rows.append({"name": "rpool", "size": total, "alloc": used, "free": avail,
                         "frag": used * 100 // total // 8, "dedup": 1.0, "health": "ONLINE"})  # fmt: skip
            continue
        storage = next((s for s in cluster.storages_on(node.name) if storage_pool_root(s) == name), None)
        used = cluster.storage_usage(storage.storage, node.name)[1] if storage is not None else ZFS_EMPTY_USED
        alloc = min(used * created.size // max(created.usable, 1), created.size)  # parity included, as zpool counts
        rows.append({"name": name, "size": created.size, "alloc": alloc, "free": created.size - alloc,
                     "frag": 0, "dedup": 1.0, "health": "ONLINE"})  # fmt: skip
    return rows


@handles("GET", "/nodes/{node}/scan/zfs")
def scan_zpools(ctx: HandlerContext) -> list[dict[str, str]]:
    """Scan.pm ``zfsscan``: ``zfs list`` of the pools and their file systems (rpool/data of the installer)."""
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    rows = []
    for name in pool_names(ctx.cluster, node.name):
        rows.append({"pool": name})
        if name == "rpool":
            rows.append({"pool": "rpool/data"})
    return rows


@handles("GET", "/nodes/{node}/disks/directory")
def list_directory_mounts(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Directory.pm ``index``: the ``mnt-pve-*.mount`` units ``disks/directory`` created, by unit file name."""
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    mounts = sorted(disk_state(ctx.cluster, node.name).mounts, key=lambda mount: mount.unit)
    return [{"unitfile": f"/etc/systemd/system/{mount.unit}", "path": mount.path,
             "device": f"/dev/disk/by-uuid/{mount.uuid}", "type": mount.filesystem, "options": "defaults"}
            for mount in mounts]  # fmt: skip
