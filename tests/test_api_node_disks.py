"""``/nodes/{node}/disks/...`` and ``/nodes/{node}/scan/lvm*``: the disks and LVM the installer and pveceph leave,
agreeing with the storages (pve-storage commit 0c56bad8: src/PVE/Diskmanage.pm get_disks lines 580-760,
src/PVE/API2/Disks.pm ``list``, Disks/LVM.pm and Disks/LVMThin.pm ``index``, API2/Storage/Scan.pm)."""

from __future__ import annotations

import proxmoxer
import pytest


def client(pve_cluster_factory, scenario="default", version="9.1"):
    cluster = pve_cluster_factory(scenario, version=version, validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    return cluster, api


@pytest.mark.parametrize("version", ["8.4", "9.1"])
def test_the_thin_pool_is_the_lvmthin_storage(pve_cluster_factory, version):
    _cluster, api = client(pve_cluster_factory, version=version)
    node = api.nodes("pve1")
    storage = next(s for s in node.storage.get() if s["storage"] == "local-lvm")
    (pool,) = node.disks.lvmthin.get()
    assert (pool["vg"], pool["lv"]) == ("pve", "data") and pool["used"] == storage["used"]
    assert 0 <= pool["lv_size"] - storage["total"] < 4 * 1024**2  # rounded up to whole 4 MiB extents
    assert node.scan.lvm.get() == [{"vg": "pve"}] and node.scan.lvmthin.get(vg="pve") == [{"lv": "data"}]
    (group,) = node.disks.lvm.get()["children"]
    (disk,) = node.disks.list.get()
    assert disk["devpath"] == "/dev/sda" and disk["used"] == "BIOS boot" and disk["osdid"] == -1
    assert group["children"][0]["name"] == "/dev/sda3" and group["size"] < disk["size"]
    assert group["size"] - group["free"] >= pool["lv_size"] + storage["total"] * 0  # the pool fits in the group
    rows = node.disks.list.get(**{"include-partitions": 1})
    assert [(row["devpath"], row["used"]) for row in rows] == [
        ("/dev/sda", "partitions"), ("/dev/sda1", "BIOS boot"), ("/dev/sda2", "EFI"), ("/dev/sda3", "LVM")]  # fmt: skip


def test_osd_disks_are_the_ceph_osds(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory, "ceph")
    node = api.nodes("pve2")
    disks = {disk["devpath"]: disk for disk in node.disks.list.get()}
    osds = {osd["id"]: osd for host in node.ceph.osd.get()["root"]["children"][0]["children"] for osd in
            host["children"] if osd["host"] == "pve2"}  # fmt: skip
    by_osd = {disk["osdid"]: disk for disk in disks.values() if disk["osdid"] >= 0}
    assert set(by_osd) == set(osds) == {2, 3}
    for osdid, disk in by_osd.items():
        assert disk["used"] == "LVM" and disk["osdid-list"] == [osdid] and disk["size"] == osds[osdid]["total_space"]
        volume = node.ceph.osd(osdid).get("lv-info")
        group = next(g for g in node.disks.lvm.get()["children"] if g["name"] == volume["vg_name"])
        assert group["children"][0]["name"] == disk["devpath"] and group["size"] == volume["lv_size"]
        assert group["free"] == 0
    assert {row["vg"] for row in node.scan.lvm.get()} == {"pve", *(g["name"] for g in node.disks.lvm.get()["children"])}


def test_smart_zfs_and_directories_of_an_lvm_node(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory, "ceph")
    node = api.nodes("pve1")
    smart = node.disks.smart.get(disk="/dev/sda")
    wear = next(a for a in smart["attributes"] if a["name"] == "Wear_Leveling_Count")
    (disk,) = [d for d in node.disks.list.get() if d["devpath"] == "/dev/sda"]
    assert smart["health"] == disk["health"] == "PASSED" and wear["value"] == disk["wearout"]
    assert node.disks.smart.get(disk="/dev/nvme1n1")["type"] == "text"
    assert node.disks.smart.get(disk="/dev/sda", healthonly=1) == {"health": "PASSED"}
    with pytest.raises(proxmoxer.ResourceException, match="not a valid block device"):
        node.disks.smart.get(disk="/dev/sdz")
    assert node.disks.zfs.get() == [] and node.scan.zfs.get() == [] and node.disks.directory.get() == []
