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
from pytest_pvemock.model.node_disks import node_layout


@handles("GET", "/nodes/{node}/disks/list")
def list_disks(ctx: HandlerContext) -> list[dict[str, Any]]:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    disks, _groups = node_layout(ctx.cluster, node.name)
    partitions = bool(ctx.params.get("include-partitions"))
    wanted = ctx.params.get("type")
    smart = not ctx.params.get("skipsmart")
    rows: list[dict[str, Any]] = []
    for disk in disks:
        kind = "nvme" if "/nvme" in disk.devpath else "ssd"
        row: dict[str, Any] = {
            "devpath": disk.devpath, "size": disk.size, "model": disk.model, "serial": disk.serial,
            "vendor": "ATA     " if kind == "ssd" else "unknown", "wwn": disk.wwn, "gpt": 1, "rpm": 0, "type": kind,
            "health": "PASSED" if smart else "UNKNOWN", "wearout": disk.wearout if smart else "N/A",
            "used": "partitions" if partitions and disk.partitions else disk.used,
            "osdid": disk.osdid, "osdid-list": [disk.osdid] if disk.osdid >= 0 else None,
        }  # fmt: skip
        if disk.osdid >= 0:
            row["bluestore"] = 1
            row["osdencrypted"] = 0
        if wanted == "unused" or (wanted == "journal_disks" and (disk.osdid >= 0 or row["used"] not in ("LVM",))):
            continue
        rows.append(row)
        if partitions:
            for path, size, usage in disk.partitions:
                rows.append({"devpath": path, "parent": disk.devpath, "size": size, "used": usage, "gpt": 1,
                             "type": "partition", "osdid": -1, "osdid-list": None})  # fmt: skip
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
