"""``GET /nodes/{node}/qemu/{vmid}/feature``: qemu-server src/PVE/API2/Qemu.pm lines 4261-4326,
QemuConfig.pm ``has_feature`` 74-93, QemuServer.pm ``shared_nodes`` 2261-2295 (commit e6352be6) over each
storage plugin's ``volume_has_feature`` (pve-storage 0c56bad8: Plugin.pm 1575-1628, LvmThinPlugin.pm 408-431,
ZFSPoolPlugin.pm 810-835, RBDPlugin.pm 956-978, LVMPlugin.pm 1368-1404)."""

from __future__ import annotations

import proxmoxer
import pytest

from pytest_pvemock.model.storage_features import volume_has_feature


@pytest.fixture
def pve(pve_cluster, pve_api):
    return pve_cluster, pve_api


def test_lvm_thin_disks_snapshot_and_copy_but_only_on_their_node(pve):
    cluster, client = pve
    vm = client.nodes("pve1").qemu(100)
    storages = {
        value.split(":")[0]
        for key, value in cluster.guest(100).config.items()
        if key.startswith("scsi") and key[-1].isdigit()
    }
    assert storages == {"local-lvm"}
    assert vm.feature.get(feature="snapshot") == {"hasFeature": 1, "nodes": ["pve1"]}
    assert vm.feature.get(feature="copy")["hasFeature"] == 1
    assert vm.feature.get(feature="clone")["hasFeature"] == 0  # a linked clone needs a template's base volume


def test_a_raw_file_on_nfs_cannot_be_snapshotted_and_a_snapshot_must_exist(pve):
    _, client = pve
    vm = client.nodes("pve1").qemu(100)
    vm.config.put(scsi1="nas:1,format=raw")
    answer = vm.feature.get(feature="snapshot")
    assert answer["hasFeature"] == 0 and answer["nodes"] == ["pve1"]
    with pytest.raises(proxmoxer.ResourceException, match="snapshot 'nope' does not exist"):
        vm.feature.get(feature="clone", snapname="nope")


@pytest.mark.parametrize(
    ("plugintype", "volid", "feature", "snapname", "expected"),
    [
        ("dir", "local:100/vm-100-disk-0.qcow2", "snapshot", None, True),
        ("dir", "local:100/vm-100-disk-0.raw", "snapshot", None, False),
        ("nfs", "nas:100/base-100-disk-0.raw", "clone", None, True),
        ("lvmthin", "local-lvm:vm-100-disk-0", "snapshot", "s1", False),  # lvm-thin: no snapshot of a snapshot
        ("lvmthin", "local-lvm:vm-100-disk-0", "clone", "s1", True),
        ("zfspool", "tank:vm-100-disk-0", "clone", "s1", False),
        ("rbd", "ceph:vm-100-disk-0", "clone", "s1", True),
        ("lvm", "vg:vm-100-disk-0", "snapshot", None, False),
        ("lvm", "vg:vm-100-disk-0", "copy", None, True),
        ("iscsi", "san:0.0.1.scsi-36001405", "copy", None, False),
    ],
)
def test_each_plugin_answers_from_its_own_table(plugintype, volid, feature, snapname, expected):
    assert volume_has_feature(plugintype, feature, volid, snapname) is expected
