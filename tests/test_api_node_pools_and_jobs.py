"""A node's ZFS pool status (``/nodes/{node}/disks/zfs/{name}``) and a replication job's log
(``/nodes/{node}/replication/{id}/log``), as PVE answers them for the cluster's state."""

from __future__ import annotations

import re

import pytest

from tests.support.clients import proxmoxer_client, refused
from tests.support.replication import zfs_vm


@pytest.fixture
def zfs_node(pve_cluster):
    pve_cluster.add_storage("local-zfs", "zfspool", ["images", "rootdir"], nodes=["pve2"],
                            options={"pool": "rpool/data", "sparse": 1})  # fmt: skip
    return pve_cluster


def test_the_pool_disks_zfs_lists_has_its_status_tree(zfs_node, pve_api):
    # pve-storage 0c56bad8 src/PVE/API2/Disks/ZFS.pm detail 129-292: zpool status -P parsed into a tree, each
    # vdev with its state and error counters, 'leaf' set by preparetree
    node = pve_api.nodes("pve2").disks
    (pool,) = node.zfs.get()
    status = node.zfs(pool["name"]).get()
    assert (status["name"], status["state"], status["errors"]) == ("rpool", "ONLINE", "No known data errors")
    assert re.fullmatch(r"scrub repaired 0B in \d\d:\d\d:\d\d with 0 errors on Sun \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}",
                        status["scan"])  # fmt: skip
    (top,) = status["children"]
    (vdev,) = top["children"]
    assert (top["name"], top["leaf"], vdev["leaf"], vdev["state"], vdev["cksum"]) == ("rpool", 0, 1, "ONLINE", 0)
    (disk,) = [d for d in node.list.get() if d["devpath"] == "/dev/sda"]  # the installer's pool: partition 3
    assert vdev["name"] == f"/dev/disk/by-id/ata-{disk['model'].replace(' ', '_')}_{disk['serial']}-part3"  # udev's id


def test_a_pool_the_node_does_not_have(zfs_node, pve_api):
    # zpool status fails ('cannot open ...: no such pool'): run_command dies with the command (Cmd.pm 317-324)
    error = refused(pve_api.nodes("pve1").disks.zfs("rpool").get)
    assert (error.status_code, error.content) == (500, "command '/sbin/zpool status -P rpool' failed: exit code 1")
    assert refused(pve_api.nodes("pve2").disks.zfs("tank").get).content.startswith("command '/sbin/zpool status")


def test_a_job_that_never_ran_has_no_log_file(pve_api, pve_cluster):
    # pve-manager 14a22df3 PVE/API2/Replication.pm read_job_log 365-393: dump_logfile of a file that is not there
    # answers one line (pve-common src/PVE/Tools.pm 804-807)
    zfs_vm(pve_cluster)
    pve_api.cluster.replication.post(id="120-0", target="pve2", type="local", schedule="*/15")
    log = pve_api.nodes("pve1").replication("120-0").log.get()
    assert log == [{"n": 1, "t": "unable to open file - No such file or directory"}]
    assert refused(pve_api.nodes("pve1").replication("101-0").log.get).content == "no such replication job '101-0'"
    # VM.Audit on the guest or Sys.Audit on the node (Replication.pm 381-386)
    pve_cluster.access.add_user("viewer@pve", password="viewerpassword")
    pve_cluster.acl.grant("/vms/101", "PVEAuditor", user="viewer@pve")
    viewer = proxmoxer_client(pve_cluster, "viewer@pve", "viewerpassword")
    assert refused(viewer.nodes("pve1").replication("120-0").log.get).status_code == 403
    pve_cluster.acl.grant("/vms/120", "PVEAuditor", user="viewer@pve")
    assert viewer.nodes("pve1").replication("120-0").log.get() == log
