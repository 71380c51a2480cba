"""``GET /cluster/backup/{id}/included_volumes``: pve-manager PVE/API2/Backup.pm lines 656-848 (commit 14a22df3)
over ``get_included_guests`` (PVE/VZDump.pm lines 1580-1618) and the guests' ``get_backup_volumes`` (qemu-server
src/PVE/QemuConfig.pm lines 181-212 @e6352be6; pve-container src/PVE/LXC/Config.pm lines 66-86, 2095-2117
@94f55852)."""

from __future__ import annotations

import proxmoxer
import pytest


@pytest.fixture
def pve(pve_cluster, pve_api):
    return pve_cluster, pve_api


def test_each_guest_lists_its_volumes_with_whether_and_why_they_are_backed_up(pve):
    cluster, client = pve
    client.nodes("pve1").qemu(100).config.put(scsi1="local-lvm:1,backup=0")
    client.cluster.backup.post(id="web", schedule="02:00", storage="local", vmid="100,110,4242")
    tree = client.cluster.backup("web").included_volumes.get()
    guests = {child["id"]: child for child in tree["children"]}
    assert set(guests) == {100, 110, 4242}
    assert guests[4242] == {"id": 4242, "type": "unknown", "leaf": 1}  # in the job, but no such guest
    vm = guests[100]
    assert vm["type"] == "qemu" and vm["name"] == cluster.guest(100).config["name"] and vm["leaf"] == 0
    disks = {disk["id"]: disk for disk in vm["children"]}
    assert disks["100:scsi0"]["included"] == 1 and disks["100:scsi0"]["reason"] == "backup=yes"
    assert disks["100:scsi1"]["included"] == 0 and disks["100:scsi1"]["reason"] == "backup=no"
    assert disks["100:scsi0"]["name"] == cluster.guest(100).config["scsi0"].split(",")[0]
    assert not any(disk["name"].endswith(".iso") for disk in vm["children"])  # CD-ROMs are not volumes to back up
    ct = guests[110]
    assert ct["type"] == "lxc" and ct["children"][0]["id"] == "110:rootfs"
    assert ct["children"][0]["included"] == 1 and ct["children"][0]["reason"] == "rootfs"


def test_container_mount_points_count_only_with_backup_set(pve):
    _, client = pve
    client.nodes("pve2").lxc(110).config.put(mp0="local-lvm:1,mp=/data,backup=1", mp1="local-lvm:1,mp=/scratch")
    client.cluster.backup.post(id="ct", schedule="03:00", storage="local", vmid="110")
    children = client.cluster.backup("ct").included_volumes.get()["children"][0]["children"]
    assert [(disk["id"], disk["included"], disk["reason"]) for disk in children] == [
        ("110:rootfs", 1, "rootfs"),
        ("110:mp0", 1, "enabled"),
        ("110:mp1", 0, "disabled"),
    ]


def test_an_unknown_job_is_a_parameter_error(pve):
    _, client = pve
    with pytest.raises(proxmoxer.ResourceException) as failure:
        client.cluster.backup("nope").included_volumes.get()
    assert failure.value.status_code == 400
    assert failure.value.errors == {"id": "No such job 'nope'"}
