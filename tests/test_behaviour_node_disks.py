"""Catalogue rows (docs/behaviour.md, "Node disks"): ``/nodes/{node}/disks`` writes as pve-storage makes them
(commit 0c56bad8b2a7d69e5ce2c243651fe830d6caa936): the checks before ``fork_worker`` fail the call, the checks
inside the worker fail the task with PVE's message, and the disks, volume groups, thin pools, mounts, pools and
storages the reads answer are what was written.

Sources: src/PVE/API2/Disks.pm (initgpt 257-275, wipe_disk 297-319), src/PVE/API2/Disks/LVM.pm (create 145-201,
delete 238-287), LVMThin.pm (create 102-182, delete 220-280), Directory.pm (create 205-331, delete 368-429), ZFS.pm
(create 374-536, delete 573-652), src/PVE/Diskmanage.pm (verify_blockdev_path 35-60, init_disk 62-74,
disk_is_used 76-88, get_disks 734-749, assert_disk_unused 823-827, has_holder 875-893, is_mounted 898-920,
wipe_blockdev 942-982), src/PVE/API2/Storage/Config.pm (cleanup_storages_for_node 45-68, create_or_update 78-119).
"""

from __future__ import annotations

import proxmoxer
import pytest
from support.clients import proxmoxer_client, refused, task_log, wait

from pytest_pvemock import FakeCluster
from pytest_pvemock.model.builders.scenario import spec_from_text

GIB = 1024**3


def lab(pve_cluster_factory, spares=4, nodes=1, version="9.1", extra=""):
    """Nodes with ``spares`` empty SSDs each (/dev/sdb on), local storage and an NFS share."""
    listed = "\n".join(
        f"  - {{name: pve{n}, ip: 10.10.10.{10 + n}, spare_disks: {spares}}}" for n in range(1, nodes + 1)
    )
    text = f"""
cluster: {{name: lab, version: "{version}"}}
nodes:
{listed}
storage:
  - {{storage: local, type: dir, path: /var/lib/vz, content: [iso, vztmpl, backup]}}
  - {{storage: local-lvm, type: lvmthin, content: [images, rootdir]}}
  - {{storage: nas, type: nfs, shared: true, path: /mnt/pve/nas, content: [backup]}}
{extra}"""
    cluster = pve_cluster_factory.patch(FakeCluster.from_spec(spec_from_text(text)), validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    return cluster, api


def finished(api, upid):
    """The task's final status and its log."""
    return wait(api, upid)["exitstatus"], task_log(api, upid)


def disks(node, **params):
    return {row["devpath"]: row for row in node.disks.list.get(**params)}


def storage_of(node, storeid):
    return next(row for row in node.storage.get() if row["storage"] == storeid)


def test_disks_initgpt_and_wipe(pve_cluster_factory):
    # Disks.pm 260-274 (initgpt: a partition, a disk in use refused; task diskinit, id the disk's name), 300-318
    # (wipedisk: refused while a partition is mounted or held); Diskmanage.pm 35-60 (the path checks)
    cluster = pve_cluster_factory("single-node", validate=True)
    api = proxmoxer_client(cluster)
    node = api.nodes("pve")
    assert "used" not in disks(node)["/dev/sdb"] and disks(node)["/dev/sdb"]["gpt"] == 0
    upid = node.disks.initgpt.post(disk="/dev/sdb")
    assert ":diskinit:sdb:root@pam:" in upid
    assert finished(api, upid) == ("OK", ["Creating new GPT entries in memory.",
                                          "The operation has completed successfully.", "TASK OK"])  # fmt: skip
    assert disks(node)["/dev/sdb"]["gpt"] == 1 and "used" not in disks(node)["/dev/sdb"]  # a table, no partition
    assert "/dev/sdb" in disks(node, type="unused")
    cases = [
        (node.disks.initgpt.post, {"disk": "/dev/sda1"}, "/dev/sda1 is a partition"),
        (node.disks.initgpt.post, {"disk": "/dev/sda"}, "disk /dev/sda already in use"),
        (node.disks.initgpt.post, {"disk": "/dev/sdz"}, "not a valid block device"),
        (node.disks.wipedisk.put, {"disk": "/dev/sda"}, "disk/partition '/dev/sda2' is mounted"),  # the ESP
        (node.disks.wipedisk.put, {"disk": "/dev/sda3"}, "disk/partition '/dev/sda3' has a holder"),  # pve's LVs
        (node.disks.lvm.post, {"name": "vg1", "device": "sdb"}, "got unusual device path '/sdb'"),
    ]
    for call, params, message in cases:
        error = refused(call, **params)
        assert error.status_code == 500 and message in str(error), message
    upid = node.disks.lvm.post(name="vg1", device="/dev/disk/by-id/ata-" + disks(node)["/dev/sdb"]["model"].replace(
        " ", "_") + "_" + disks(node)["/dev/sdb"]["serial"])  # fmt: skip  # a by-id link is followed
    assert finished(api, upid)[0] == "OK" and disks(node)["/dev/sdb"]["used"] == "LVM"
    upid = node.disks.wipedisk.put(disk="/dev/sdb")  # no logical volume: no holder, the label goes
    status, log = finished(api, upid)
    assert ":wipedisk:sdb:" in upid and status == "OK"
    label = "/dev/sdb: 8 bytes were erased at offset 0x00000218 (LVM2_member): 4c 56 4d 32 20 30 30 31"
    assert log[:2] == ["wiping block device /dev/sdb", label]
    assert log[2:4] == ["200+0 records in", "200+0 records out"]
    assert "used" not in disks(node)["/dev/sdb"] and [g["name"] for g in node.disks.lvm.get()["children"]] == ["pve"]


def test_disks_lvm_create_add_storage(pve_cluster_factory):
    # LVM.pm 155-200: the device checks, add_storage's permission and dry run before the worker; in it the name
    # check, pvcreate/vgcreate, then the storage (type lvm, vgname, content rootdir,images, this node)
    _cluster, api = lab(pve_cluster_factory)
    node = api.nodes("pve1")
    upid = node.disks.lvm.post(name="vmdata", device="/dev/sdb", add_storage=1)
    status, log = finished(api, upid)
    assert ":lvmcreate:vmdata:" in upid and status == "OK"
    assert log == ['  Physical volume "/dev/sdb" successfully created.',
                   '  Volume group "vmdata" successfully created', "TASK OK"]  # fmt: skip
    group = next(g for g in node.disks.lvm.get()["children"] if g["name"] == "vmdata")
    assert group["children"][0]["name"] == "/dev/sdb" and group["free"] == group["size"]
    assert disks(node)["/dev/sdb"]["size"] - 8 * 1024**2 < group["size"] < disks(node)["/dev/sdb"]["size"]
    definition = api.storage("vmdata").get()
    assert (definition["type"], definition["vgname"], definition["nodes"]) == ("lvm", "vmdata", "pve1")
    assert definition["content"] in ("images,rootdir", "rootdir,images") and "shared" not in definition
    status_row = storage_of(node, "vmdata")
    assert (status_row["total"], status_row["used"]) == (group["size"], 0)
    # a guest disk on it is a logical volume: the group's free space and the storage's use follow
    upid = node.qemu.post(vmid=300, name="db", scsi0="vmdata:32")
    assert wait(api, upid)["exitstatus"] == "OK"
    group = next(g for g in node.disks.lvm.get()["children"] if g["name"] == "vmdata")
    assert group["size"] - group["free"] == 32 * GIB == storage_of(node, "vmdata")["used"]
    assert "disk/partition '/dev/sdb' has a holder" in str(refused(node.disks.wipedisk.put, disk="/dev/sdb"))
    cases = [
        ({"name": "other", "device": "/dev/sdb"}, "device '/dev/sdb' is already in use"),
        ({"name": "local", "device": "/dev/sdc", "add_storage": 1}, "Storage ID 'local' already exists on node pve1"),
    ]
    for params, message in cases:
        error = refused(node.disks.lvm.post, **params)
        assert error.status_code == 500 and message in str(error), message
    upid = node.disks.lvm.post(name="pve", device="/dev/sdc")  # the name is checked inside the worker
    assert finished(api, upid)[0] == "volume group with name 'pve' already exists on node 'pve1'"
    assert "used" not in disks(node)["/dev/sdc"]


def test_disks_add_storage_needs_datastore_allocate(pve_cluster_factory):
    # LVM.pm 121-125, 168-169: Sys.Modify on / for the call, Datastore.Allocate on /storage with add_storage
    cluster, api = lab(pve_cluster_factory)
    cluster.access.add_user("ops@pve", password="ops-password")
    api.access.roles.post(roleid="DiskAdmin", privs="Sys.Audit,Sys.Modify")
    api.access.acl.put(path="/", roles="DiskAdmin", users="ops@pve")
    ops = proxmoxer_client(cluster, "ops@pve", "ops-password").nodes("pve1")
    error = refused(ops.disks.lvmthin.post, name="thin", device="/dev/sdb", add_storage=1)
    assert error.status_code == 403 and "Permission check failed (/storage, Datastore.Allocate)" in str(error)
    assert wait(api, ops.disks.lvmthin.post(name="thin", device="/dev/sdb"))["exitstatus"] == "OK"
    assert "thin" not in [row["storage"] for row in api.storage.get()]
    error = refused(ops.disks.lvmthin("thin").delete, **{"volume-group": "thin", "cleanup-config": 1})
    assert error.status_code == 403


def test_disks_lvmthin_sizes_follow_the_disk(pve_cluster_factory):
    # LVMThin.pm 147-169: data = PV - 128 KiB, metadata 1% (at least 1 GiB, at most 16 GiB), twice (the spare)
    _cluster, api = lab(pve_cluster_factory)
    node = api.nodes("pve1")
    upid = node.disks.lvmthin.post(name="fast", device="/dev/sdc", add_storage=1)
    status, log = finished(api, upid)
    assert ":lvmthincreate:fast:" in upid and status == "OK" and '  Logical volume "fast" created.' in log
    pool = next(p for p in node.disks.lvmthin.get() if p["vg"] == "fast")
    group = next(g for g in node.disks.lvm.get()["children"] if g["name"] == "fast")
    assert pool["lv"] == "fast" and pool["used"] == 0
    assert round(pool["metadata_size"] / pool["lv_size"], 2) == 0.01
    assert pool["lv_size"] + 2 * pool["metadata_size"] <= group["size"] and group["free"] < 16 * 1024**2
    definition = api.storage("fast").get()
    assert (definition["vgname"], definition["thinpool"]) == ("fast", "fast")
    assert storage_of(node, "fast")["total"] == pool["lv_size"]
    upid = node.qemu.post(vmid=302, name="app", scsi0="fast:16")
    assert wait(api, upid)["exitstatus"] == "OK"
    pool = next(p for p in node.disks.lvmthin.get() if p["vg"] == "fast")
    assert pool["used"] == storage_of(node, "fast")["used"] >= 16 * GIB


def test_disks_directory_create_remove(pve_cluster_factory):
    # Directory.pm 219-331: a partition, mkfs, a mount unit under /mnt/pve/NAME; a path already mounted refused;
    # 379-429: delete stops and removes the unit, cleanup-disks wipes the disk whose only partition it was
    _cluster, api = lab(pve_cluster_factory, version="8.4")
    node = api.nodes("pve1")
    error = refused(node.disks.directory.post, name="nas", device="/dev/sdb")
    assert "the path for 'nas' is already mounted: /mnt/pve/nas (192.168.100.5:/volume1/nas)" in str(error)
    upid = node.disks.directory.post(name="backup-disk", device="/dev/sdb", add_storage=1)
    status, log = finished(api, upid)
    assert ":dircreate:backup-disk:" in upid and status == "OK"
    assert log[:4] == ["# /sbin/sgdisk -n1 -t1:8300 /dev/sdb", "Creating new GPT entries in memory.",
                       "The operation has completed successfully.", "# /sbin/mkfs -t ext4 /dev/sdb1"]  # fmt: skip
    assert log[4] == "mke2fs 1.47.0 (5-Feb-2023)" and log[6].startswith("Creating filesystem with ")
    assert "Creating journal (262144 blocks): done" in log
    unit = "mnt-pve-backup\\x2ddisk.mount"
    assert (
        log[-2] == f"Created symlink /etc/systemd/system/multi-user.target.wants/{unit} → /etc/systemd/system/{unit}."
    )
    (mount,) = node.disks.directory.get()
    uuid = next(line for line in log if line.startswith("Filesystem UUID: ")).split(": ")[1]
    assert mount == {"unitfile": f"/etc/systemd/system/{unit}", "path": "/mnt/pve/backup-disk",
                     "device": f"/dev/disk/by-uuid/{uuid}", "type": "ext4", "options": "defaults"}  # fmt: skip
    rows = disks(node, **{"include-partitions": 1})
    assert rows["/dev/sdb"]["used"] == "partitions" and rows["/dev/sdb1"]["used"] == "ext4"
    assert rows["/dev/sdb1"]["mounted"] == 1 == rows["/dev/sda2"]["mounted"] and "mounted" not in rows["/dev/sdb"]
    assert disks(node)["/dev/sdb"]["used"] == "ext4"
    definition = api.storage("backup-disk").get()
    assert (definition["type"], definition["path"], definition["is_mountpoint"]) == ("dir", "/mnt/pve/backup-disk", 1)
    status_row = storage_of(node, "backup-disk")
    assert 0.97 * rows["/dev/sdb1"]["size"] < status_row["total"] < rows["/dev/sdb1"]["size"]
    assert "disk/partition '/dev/sdb1' is mounted" in str(refused(node.disks.wipedisk.put, disk="/dev/sdb"))
    error = refused(node.disks.directory.post, name="backup-disk", device="/dev/sdc", add_storage=1)
    assert "Storage ID 'backup-disk' already exists on node pve1" in str(error)
    error = refused(node.disks.directory.post, name="backup-disk", device="/dev/sdc")
    assert "the path for 'backup-disk' is already mounted: /mnt/pve/backup-disk (/dev/sdb1)" in str(error)
    upid = node.disks.directory("backup-disk").delete(**{"cleanup-disks": 1})  # the storage stays defined
    status, log = finished(api, upid)
    assert ":dirremove:backup-disk:" in upid and status == "OK"
    assert log[0] == f'Removed "/etc/systemd/system/multi-user.target.wants/{unit}".'
    assert log[1:3] == ["found child partitions to wipe: /dev/sdb1", "wiping block device /dev/sdb"]
    assert node.disks.directory.get() == [] and "used" not in disks(node)["/dev/sdb"]
    assert "backup-disk" in [row["storage"] for row in api.storage.get()]
    upid = node.disks.directory("backup-disk").delete()
    assert finished(api, upid)[0] == "command 'systemctl stop mnt-pve-backup\\x2ddisk.mount' failed: exit code 5"


def test_disks_zfs_raid_checks(pve_cluster_factory):
    # ZFS.pm 387-454: draid-config only with dRAID, the devices unused, the pool name free, the disk counts
    _cluster, api = lab(pve_cluster_factory)
    node = api.nodes("pve1")
    cases = [
        ({"raidlevel": "mirror", "devices": "/dev/sdb"}, "mirror needs at least 2 disks"),
        ({"raidlevel": "raidz", "devices": "/dev/sdb,/dev/sdc"}, "raidz needs at least 3 disks"),
        ({"raidlevel": "raidz2", "devices": "/dev/sdb /dev/sdc /dev/sdd"}, "raidz2 needs at least 4 disks"),
        ({"raidlevel": "raid10", "devices": "/dev/sdb,/dev/sdc,/dev/sdd"}, "raid10 needs an even number of disks"),
        ({"raidlevel": "single", "devices": "/dev/sdb,/dev/sdc"}, "please give only one disk for single disk mode"),
        ({"raidlevel": "mirror", "devices": "/dev/sdb,/dev/sdc", "draid-config": "data=2,spares=1"},
         "draid-config set without using dRAID level"),
        ({"raidlevel": "draid", "devices": "/dev/sdb,/dev/sdc,/dev/sdd", "draid-config": "data=2,spares=1"},
         "At least 4 disks needed for current dRAID config"),
        ({"raidlevel": "mirror", "devices": "/dev/sda,/dev/sdb"}, "device '/dev/sda' is already in use"),
    ]  # fmt: skip
    for params, message in cases:
        error = refused(node.disks.zfs.post, name="tank", **params)
        assert error.status_code == 500 and message in str(error), message
    error = refused(node.disks.zfs.post, name="tank", raidlevel="mirror", devices="/dev/sdb,/dev/sdc", ashift=17)
    assert error.status_code == 400 and "ashift" in str(error)
    assert node.disks.zfs.get() == []


def test_disks_zfs_mirror_create(pve_cluster_factory):
    # ZFS.pm 456-536: the by-id links, zpool create with ashift and the layout, compression, the import unit,
    # the storage; 416-418: a second pool of that name is refused
    _cluster, api = lab(pve_cluster_factory, spares=6)
    node = api.nodes("pve1")
    upid = node.disks.zfs.post(name="tank", raidlevel="mirror", devices="/dev/sdb,/dev/sdc", ashift=13,
                               compression="lz4", add_storage=1)  # fmt: skip
    status, log = finished(api, upid)
    listed = disks(node)
    links = [f"/dev/disk/by-id/ata-{listed[d]['model'].replace(' ', '_')}_{listed[d]['serial']}" for d in
             ("/dev/sdb", "/dev/sdc")]  # fmt: skip
    assert ":zfscreate:tank:" in upid and status == "OK"
    assert log[:4] == [f"# /sbin/zpool create -o ashift=13 tank mirror {links[0]} {links[1]}",
                       "# /sbin/zfs set compression=lz4 tank", "# systemctl enable zfs-import@tank.service",
                       "Created symlink '/etc/systemd/system/zfs-import.target.wants/zfs-import@tank.service' → "
                       "'/usr/lib/systemd/system/zfs-import@.service'."]  # fmt: skip
    (pool,) = node.disks.zfs.get()
    assert pool["name"] == "tank" and pool["health"] == "ONLINE"
    assert 0.99 * listed["/dev/sdb"]["size"] < pool["size"] < listed["/dev/sdb"]["size"]  # a mirror: one disk
    tree = node.disks.zfs("tank").get()
    (mirror,) = tree["children"][0]["children"]
    assert mirror["name"] == "mirror-0" and [leaf["name"] for leaf in mirror["children"]] == [
        f"{link}-part1" for link in links]  # fmt: skip
    rows = disks(node, **{"include-partitions": 1})
    assert (rows["/dev/sdb1"]["used"], rows["/dev/sdb9"]["used"]) == ("ZFS", "ZFS reserved")
    assert rows["/dev/sdb9"]["size"] == 8 * 1024**2 and disks(node)["/dev/sdb"]["used"] == "ZFS"
    definition = api.storage("tank").get()
    assert (definition["type"], definition["pool"], definition["nodes"]) == ("zfspool", "tank", "pve1")
    total = storage_of(node, "tank")["total"]
    assert 0.95 * pool["size"] < total < pool["size"]  # the slop space ZFS keeps back
    assert {"pool": "tank"} in node.scan.zfs.get()
    error = refused(node.disks.zfs.post, name="tank", raidlevel="single", devices="/dev/sdd")
    assert "pool 'tank' already exists on node 'pve1'" in str(error)
    upid = node.disks.zfs.post(name="wide", raidlevel="raidz2", devices="/dev/sdd,/dev/sde,/dev/sdf,/dev/sdg")
    assert wait(api, upid)["exitstatus"] == "OK"
    raidz = node.disks.zfs("wide").get()["children"][0]["children"][0]
    assert raidz["name"] == "raidz2-0" and len(raidz["children"]) == 4


def test_disks_zfs_remove_cleanup(pve_cluster_factory):
    # ZFS.pm 584-651: zpool destroy (a dataset in use: the pool is busy), cleanup-config takes this node out of
    # the storage's nodes (Config.pm 45-68), cleanup-disks wipes the disks ZFS partitioned whole
    _cluster, api = lab(pve_cluster_factory, spares=2, nodes=2)
    for name in ("pve1", "pve2"):
        upid = api.nodes(name).disks.zfs.post(name="tank", raidlevel="single", devices="/dev/sdb", add_storage=1)
        status, log = finished(api, upid)
        assert status == "OK"
    assert "Added 'pve2' to nodes for storage 'tank'" in log
    assert api.storage("tank").get()["nodes"] == "pve1,pve2"
    node = api.nodes("pve1")
    upid = node.qemu.post(vmid=310, name="rep", scsi0="tank:8")
    assert wait(api, upid)["exitstatus"] == "OK"
    assert wait(api, node.qemu(310).status.start.post())["exitstatus"] == "OK"
    upid = node.disks.zfs("tank").delete(**{"cleanup-config": 1, "cleanup-disks": 1})
    status, log = finished(api, upid)
    assert status == "command 'zpool destroy tank' failed: exit code 1" and "cannot destroy 'tank': pool is busy" in log
    assert wait(api, node.qemu(310).status.stop.post())["exitstatus"] == "OK"
    upid = node.disks.zfs("tank").delete(**{"cleanup-config": 1, "cleanup-disks": 1})
    status, log = finished(api, upid)
    assert ":zfsremove:tank:" in upid and status == "OK"
    unit = "/etc/systemd/system/zfs-import.target.wants/zfs-import@tank.service"
    assert log[:3] == [f"Removed '{unit}'.", "found child partitions to wipe: /dev/sdb1, /dev/sdb9",
                       "wiping block device /dev/sdb"]  # fmt: skip
    assert node.disks.zfs.get() == [] and "used" not in disks(node)["/dev/sdb"]
    assert api.storage("tank").get()["nodes"] == "pve2"
    upid = api.nodes("pve2").disks.zfs("tank").delete(**{"cleanup-config": 1})  # the disk keeps its labels
    assert finished(api, upid)[0] == "OK" and "tank" not in [row["storage"] for row in api.storage.get()]
    assert disks(api.nodes("pve2"))["/dev/sdb"]["used"] == "ZFS"
    upid = node.disks.zfs("tank").delete()
    assert finished(api, upid) == ("command 'zpool destroy tank' failed: exit code 1",
                                   ["cannot open 'tank': no such pool",
                                    "TASK ERROR: command 'zpool destroy tank' failed: exit code 1"])  # fmt: skip


@pytest.mark.parametrize("busy", [False, True])
def test_disks_wipe_zfs_member_is_busy(pve_cluster_factory, busy):
    # Diskmanage.pm 942-976: wipefs cannot open a disk of an imported pool (run_command's errmsg, Cmd.pm 289-322)
    _cluster, api = lab(pve_cluster_factory, spares=1)
    node = api.nodes("pve1")
    assert wait(api, node.disks.zfs.post(name="tank", raidlevel="single", devices="/dev/sdb"))["exitstatus"] == "OK"
    if not busy:
        assert finished(api, node.disks.zfs("tank").delete())[0] == "OK"
    status, log = finished(api, node.disks.wipedisk.put(disk="/dev/sdb"))
    if busy:
        assert status == ("error wiping '/dev/sdb': wipefs: error: /dev/sdb1: probing initialization failed: Device "
                          "or resource busy")  # fmt: skip
        assert disks(node)["/dev/sdb"]["used"] == "ZFS"
    else:
        assert (
            status == "OK"
            and "/dev/sdb1: 8 bytes were erased at offset 0x0003f000 (zfs_member): 0c b1 ba 00 00 00 00 00" in log
        )
        assert "used" not in disks(node)["/dev/sdb"]


def test_disks_lvm_remove(pve_cluster_factory):
    # LVM.pm 249-285: vgremove (refused by LVM while a volume is open), cleanup-config removes a storage only
    # this node had; without cleanup-disks the physical volume's label stays (the disk still in use)
    _cluster, api = lab(pve_cluster_factory, spares=1)
    node = api.nodes("pve1")
    assert wait(api, node.disks.lvm.post(name="vmdata", device="/dev/sdb", add_storage=1))["exitstatus"] == "OK"
    assert wait(api, node.qemu.post(vmid=320, name="x", scsi0="vmdata:4"))["exitstatus"] == "OK"
    assert wait(api, node.qemu(320).status.start.post())["exitstatus"] == "OK"
    status, _log = finished(api, node.disks.lvm("vmdata").delete(**{"cleanup-config": 1}))
    assert status == "unable to remove volume group vmdata: Logical volume vmdata/vm-320-disk-0 in use."
    status, _log = finished(api, node.disks.lvm("pve").delete())
    assert status == "unable to remove volume group pve: Logical volume pve/root contains a filesystem in use."
    assert wait(api, node.qemu(320).status.stop.post())["exitstatus"] == "OK"
    upid = node.disks.lvm("vmdata").delete(**{"cleanup-config": 1})
    status, log = finished(api, upid)
    assert ":lvmremove:vmdata:" in upid and status == "OK"
    assert log == ['  Logical volume "vm-320-disk-0" successfully removed.',
                   '  Volume group "vmdata" successfully removed', "TASK OK"]  # fmt: skip
    assert "vmdata" not in [row["storage"] for row in api.storage.get()]
    assert disks(node)["/dev/sdb"]["used"] == "LVM" and "vmdata" not in str(node.disks.lvm.get())
    assert finished(api, node.disks.lvm("vmdata").delete())[0] == "no such volume group 'vmdata'"
    error = refused(node.disks.lvm.post, name="again", device="/dev/sdb")
    assert "device '/dev/sdb' is already in use" in str(error)


def test_disks_lvm_on_a_ceph_spare_disk(pve_cluster_factory):
    # Diskmanage.pm 823-827 and OSD.pm (pve-manager 14a22df3) 377-405: a spare disk set up as LVM is in use for
    # pveceph osd create too
    text = """
cluster: {name: fresh, version: "9.1"}
nodes:
  - {name: pve1, ip: 10.10.10.11}
ceph: {initialized: false, spare_disks: 1}
"""
    cluster = pve_cluster_factory.patch(FakeCluster.from_spec(spec_from_text(text)), validate=True)
    api = proxmoxer_client(cluster)
    node = api.nodes("pve1")
    (spare,) = [row["devpath"] for row in node.disks.list.get(type="unused")]
    assert wait(api, node.disks.lvm.post(name="scratch", device=spare))["exitstatus"] == "OK"
    assert disks(node)[spare]["used"] == "LVM" and node.disks.list.get(type="unused") == []
    assert cluster.ceph is not None and cluster.ceph.spare_disks[0].used == "LVM"


def test_disks_storage_without_its_disk_is_inactive(pve_cluster_factory):
    # LVMThin.pm 220-280: without cleanup-config the storage stays defined; Storage.pm storage_info 1440-1520 then
    # cannot activate it on this node: active 0 and zeros, no used_fraction (Status.pm 261-265); made again, it is
    # active with the new pool's figures
    _cluster, api = lab(pve_cluster_factory, spares=1)
    node = api.nodes("pve1")
    assert wait(api, node.disks.lvmthin.post(name="fast", device="/dev/sdb", add_storage=1))["exitstatus"] == "OK"
    assert storage_of(node, "fast")["active"] == 1
    assert finished(api, node.disks.lvmthin("fast").delete(**{"volume-group": "fast"}))[0] == "OK"
    row = storage_of(node, "fast")
    assert (row["active"], row["enabled"], row["total"], row["used"], row["avail"]) == (0, 1, 0, 0, 0)
    assert "used_fraction" not in row and api.storage("fast").get()["nodes"] == "pve1"
    assert next(g for g in node.disks.lvm.get()["children"] if g["name"] == "fast")["free"] > 0  # the group stays
    error = refused(node.disks.lvmthin.post, name="fast", device="/dev/sdb")  # its PV is still the group's
    assert "device '/dev/sdb' is already in use" in str(error)
    assert wait(api, node.disks.lvm("fast").delete(**{"cleanup-disks": 1}))["exitstatus"] == "OK"
    assert wait(api, node.disks.lvmthin.post(name="fast", device="/dev/sdb"))["exitstatus"] == "OK"
    row = storage_of(node, "fast")
    (pool,) = [p for p in node.disks.lvmthin.get() if p["vg"] == "fast"]
    assert (row["active"], row["total"]) == (1, pool["lv_size"])


def test_disks_a_wiped_partition_is_set_up_again(pve_cluster_factory):
    # Directory.pm 379-429 without cleanup-disks: the file system stays (in use); Disks.pm 297-319 and
    # Diskmanage.pm 942-982: wiping the partition frees it (the disk keeps its table); LVM.pm 183-188 and ZFS.pm
    # 460-481: a volume group or a pool on the partition itself (by its by-id -partN link)
    cluster = pve_cluster_factory("single-node", validate=True)
    api = proxmoxer_client(cluster)
    node = api.nodes("pve")
    assert wait(api, node.disks.directory.post(name="scratch", device="/dev/sdb"))["exitstatus"] == "OK"
    assert wait(api, node.disks.directory("scratch").delete())["exitstatus"] == "OK"
    assert disks(node, **{"include-partitions": 1})["/dev/sdb1"]["used"] == "ext4"
    assert "device '/dev/sdb1' is already in use" in str(refused(node.disks.lvm.post, name="vg1", device="/dev/sdb1"))
    status, log = finished(api, node.disks.wipedisk.put(disk="/dev/sdb1"))
    erased = "/dev/sdb1: 2 bytes were erased at offset 0x00000438 (ext4): 53 ef"
    assert status == "OK" and log[:2] == ["wiping block device /dev/sdb1", erased]
    rows = disks(node, **{"include-partitions": 1})
    assert "used" not in rows["/dev/sdb1"] and rows["/dev/sdb"]["used"] == "partitions"
    upid = node.disks.zfs.post(name="ptank", raidlevel="single", devices="/dev/sdb1")
    status, log = finished(api, upid)
    link = f"/dev/disk/by-id/ata-{rows['/dev/sdb']['model'].replace(' ', '_')}_{rows['/dev/sdb']['serial']}-part1"
    assert status == "OK" and log[0] == f"# /sbin/zpool create -o ashift=12 ptank {link}"
    rows = disks(node, **{"include-partitions": 1})
    assert rows["/dev/sdb1"]["used"] == "ZFS" and "/dev/sdb9" not in rows  # no partition 9 on a partition
    assert finished(api, node.disks.zfs("ptank").delete(**{"cleanup-disks": 1}))[0] == "OK"
    assert wait(api, node.disks.lvm.post(name="vg1", device="/dev/sdb1"))["exitstatus"] == "OK"
    (group,) = [g for g in node.disks.lvm.get()["children"] if g["name"] == "vg1"]
    assert group["children"][0]["name"] == "/dev/sdb1" and group["size"] < rows["/dev/sdb1"]["size"]
