"""Catalogue rows (docs/behaviour.md) for what PVE fills in on create and config update: volumes allocated per
storage type, MAC addresses, ``type=veth``, the default boot order. Each test is named after its row."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException  # noqa: E402
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)

MAC = r"[0-9A-F]{2}(:[0-9A-F]{2}){5}"


@pytest.fixture
def more_storage(pve_cluster):
    pve_cluster.add_storage("tank", "zfspool", content=["images", "rootdir"])
    pve_cluster.add_storage("ceph", "rbd", content=["images"], shared=True)
    pve_cluster.add_storage("share", "cifs", content=["images", "rootdir"], shared=True, path="/mnt/pve/share")
    return pve_cluster


def test_qemu_create_volume_lvmthin(pve_api):
    # qemu-server Qemu.pm create_disks 640-690; LvmThinPlugin.pm alloc_image 99
    upid = pve_api.nodes("pve1").qemu.post(vmid=200, scsi0="local-lvm:8,iothread=1")
    assert finish(pve_api, upid)["exitstatus"] == "OK"
    assert pve_api.nodes("pve1").qemu(200).config.get()["scsi0"] == "local-lvm:vm-200-disk-0,iothread=1,size=8G"
    assert "scsi0: successfully created disk 'local-lvm:vm-200-disk-0,iothread=1,size=8G'" in log_of(pve_api, upid)


def test_qemu_create_volume_file_storage(pve_api):
    # Plugin.pm alloc_image 1049 (VMID/NAME), get_next_vm_diskname 970; NFSPlugin.pm 68 (raw by default)
    finish(pve_api, pve_api.nodes("pve1").qemu.post(vmid=200, scsi0="nas:8"))
    assert pve_api.nodes("pve1").qemu(200).config.get()["scsi0"] == "nas:200/vm-200-disk-0.raw,size=8G"


def test_qemu_create_volume_requested_format(pve_api, more_storage):
    # Qemu.pm create_disks 643-644 (format= chosen), 678 (format dropped from the drive)
    finish(pve_api, pve_api.nodes("pve1").qemu.post(vmid=200, scsi0="share:8,format=qcow2,discard=on"))
    assert pve_api.nodes("pve1").qemu(200).config.get()["scsi0"] == "share:200/vm-200-disk-0.qcow2,discard=on,size=8G"


def test_qemu_create_volume_zfs_and_rbd(pve_api, more_storage):
    # ZFSPoolPlugin.pm alloc_image 264, RBDPlugin.pm alloc_image 704: no VMID/ directory, no extension
    finish(pve_api, pve_api.nodes("pve1").qemu.post(vmid=200, scsi0="tank:8", virtio0="ceph:2"))
    config = pve_api.nodes("pve1").qemu(200).config.get()
    assert config["scsi0"] == "tank:vm-200-disk-0,size=8G" and config["virtio0"] == "ceph:vm-200-disk-0,size=2G"


def test_qemu_create_next_free_disk_number(pve_api):
    # Plugin.pm get_next_vm_diskname 970: the lowest free N for that guest on that storage
    finish(pve_api, pve_api.nodes("pve1").qemu.post(vmid=200, scsi0="local-lvm:8", scsi1="local-lvm:1", sata0="nas:1"))
    config = pve_api.nodes("pve1").qemu(200).config.get()
    assert [config["scsi0"], config["scsi1"], config["sata0"]] == [
        "local-lvm:vm-200-disk-0,size=8G",
        "local-lvm:vm-200-disk-1,size=1G",
        "nas:200/vm-200-disk-0.raw,size=1G",
    ]


def test_qemu_create_storage_without_images(pve_api):
    # Qemu.pm check_storage_access 190-192: a parameter error before the worker
    with pytest.raises(ResourceException) as error:
        pve_api.nodes("pve1").qemu.post(vmid=200, scsi0="local:8")
    assert error.value.status_code == 400 and error.value.errors == {
        "storage": "storage 'local' does not support vm images"
    }
    assert 200 not in [vm["vmid"] for vm in pve_api.nodes("pve1").qemu.get()]


def test_qemu_create_storage_missing(pve_api):
    # pve-storage Storage.pm storage_config 252-259, called by check_storage_access before the worker
    with pytest.raises(ResourceException, match="storage 'nope' does not exist") as error:
        pve_api.nodes("pve1").qemu.post(vmid=200, scsi0="nope:8")
    assert error.value.status_code == 500


def test_qemu_create_default_boot_order(pve_api):
    # Qemu.pm create_vm 1506-1508; QemuServer.pm get_default_bootdevices 8270; Drive.pm valid_drive_names 722
    finish(
        pve_api,
        pve_api.nodes("pve1").qemu.post(
            vmid=200, virtio0="local-lvm:8", scsi0="local-lvm:4", ide2="none,media=cdrom", net1="virtio,bridge=vmbr0"
        ),
    )
    assert pve_api.nodes("pve1").qemu(200).config.get()["boot"] == "order=scsi0;ide2;net1"
    finish(pve_api, pve_api.nodes("pve1").qemu.post(vmid=201, memory="512"))
    assert "boot" not in pve_api.nodes("pve1").qemu(201).config.get()


def test_qemu_create_nic_gets_mac(pve_api, pve_cluster_factory):
    # Qemu.pm create_vm -> print_net; pve-common Tools.pm random_ether_addr 713 (prefix BC:24:11)
    finish(pve_api, pve_api.nodes("pve1").qemu.post(vmid=200, net0="virtio,bridge=vmbr0,firewall=1"))
    net0 = pve_api.nodes("pve1").qemu(200).config.get()["net0"]
    assert net0.startswith("virtio=BC:24:11:") and net0.endswith(",bridge=vmbr0,firewall=1")
    again = pve_cluster_factory("default")
    other = proxmoxer.ProxmoxAPI(again.host, user=again.user, password=again.password, verify_ssl=False)
    finish(other, other.nodes("pve1").qemu.post(vmid=200, net0="virtio,bridge=vmbr0,firewall=1"))
    assert other.nodes("pve1").qemu(200).config.get()["net0"] == net0  # the cluster's seed: repeatable


def test_lxc_create_rootfs_zfs_subvol(pve_api, more_storage):
    # pve-container LXC.pm alloc_disk 2581-2600: subvol on ZFS; ZFSPoolPlugin.pm alloc_image 264
    upid = pve_api.nodes("pve1").lxc.post(
        vmid=300, ostemplate="local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst", rootfs="tank:8"
    )
    finish(pve_api, upid)
    assert pve_api.nodes("pve1").lxc(300).config.get()["rootfs"] == "tank:subvol-300-disk-0,size=8G"


def test_lxc_create_rootfs_file_storage_raw(pve_api):
    # LXC.pm alloc_disk 2591-2594: raw on a storage with a path (size > 0)
    upid = pve_api.nodes("pve1").lxc.post(
        vmid=300, ostemplate="local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst", rootfs="nas:8"
    )
    finish(pve_api, upid)
    assert pve_api.nodes("pve1").lxc(300).config.get()["rootfs"] == "nas:300/vm-300-disk-0.raw,size=8G"


def test_lxc_create_net_veth_and_hwaddr(pve_api):
    # LXC/Config.pm parse_lxc_network 1566-1580: type is always veth, a missing hwaddr is drawn
    upid = pve_api.nodes("pve1").lxc.post(
        vmid=300,
        ostemplate="local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst",
        rootfs="local-lvm:4",
        net0="name=eth0,bridge=vmbr0,ip=dhcp",
    )
    finish(pve_api, upid)
    net0 = pve_api.nodes("pve1").lxc(300).config.get()["net0"]
    assert net0.startswith("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:") and net0.endswith(",ip=dhcp,type=veth")


def test_lxc_create_storage_without_rootdir(pve_api):
    # pve-container LXC.pm create_vm 351-353: a parameter error before the worker
    with pytest.raises(ResourceException) as error:
        pve_api.nodes("pve1").lxc.post(
            vmid=300, ostemplate="local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst", rootfs="local:4"
        )
    assert error.value.status_code == 400
    assert error.value.errors == {"storage": "storage 'local' does not support container directories"}


def test_qemu_config_disk_allocation(pve_api):
    # Qemu.pm update_vm -> create_disks (vmconfig_apply_pending): a STORAGE:SIZE disk becomes a volume
    vm = pve_api.nodes("pve2").qemu(102)
    vm.config.put(scsi1="local-lvm:4,discard=on")
    assert vm.config.get()["scsi1"] == "local-lvm:vm-102-disk-1,discard=on,size=4G"
    content = pve_api.nodes("pve2").storage("local-lvm").content.get(vmid=102)
    assert {row["volid"]: row["size"] for row in content} == {
        "local-lvm:vm-102-disk-0": 48 * 1024**3,
        "local-lvm:vm-102-disk-1": 4 * 1024**3,
    }


def test_qemu_config_nic_gets_mac(pve_api):
    # Qemu.pm update_vm 2181-2184: a NIC is parsed and printed again, which adds a MAC
    vm = pve_api.nodes("pve2").qemu(102)
    vm.config.put(net1="e1000,bridge=vmbr0")
    net1 = vm.config.get()["net1"]
    assert net1.startswith("e1000=BC:24:11:") and net1.endswith(",bridge=vmbr0")
    vm.config.put(net1=net1.replace("bridge=vmbr0", "bridge=vmbr1"))
    assert vm.config.get()["net1"] == net1.replace("bridge=vmbr0", "bridge=vmbr1")  # a given MAC stays


def test_lxc_config_mount_point_allocation(pve_api):
    # pve-container LXC/Config.pm apply_pending_mountpoint 1855-1864 -> create_disks: mp is required
    ct = pve_api.nodes("pve3").lxc(111)
    ct.config.put(mp0="local-lvm:2,mp=/srv/data,backup=1")
    assert ct.config.get()["mp0"] == "local-lvm:vm-111-disk-1,mp=/srv/data,backup=1,size=2G"


def test_lxc_config_net_veth(pve_api):
    # LXC/Config.pm parse_lxc_network 1566-1580 on update
    ct = pve_api.nodes("pve3").lxc(111)
    ct.config.put(net1="name=eth1,bridge=vmbr0")
    assert ct.config.get()["net1"].startswith("name=eth1,bridge=vmbr0,hwaddr=BC:24:11:")
    assert ct.config.get()["net1"].endswith(",type=veth")


@pytest.mark.parametrize("kind, vmid, node", [("qemu", 102, "pve2"), ("lxc", 111, "pve3")])
def test_config_update_without_options(pve_api, kind, vmid, node):
    # Qemu.pm update_vm 2110, pve-container API2/LXC/Config.pm 161: before any lock or worker
    guest = getattr(pve_api.nodes(node), kind)(vmid)
    with pytest.raises(ResourceException, match="no options specified") as error:
        guest.config.put()
    assert error.value.status_code == 500


def test_storage_content_names_per_storage_type(pve_api):
    # Plugin.pm list_images 1629: file storages list VMID/NAME.FMT with their format; templates' base- volumes
    rows = {row["volid"]: row for row in pve_api.nodes("pve1").storage("nas").content.get(content="images")}
    assert rows["nas:101/vm-101-disk-0.raw"]["format"] == "raw"
    assert rows["nas:9000/base-9000-disk-0.raw"]["size"] == 16 * 1024**3
    assert not [volid for volid in rows if volid.startswith("nas:vm-")]


def test_task_log_limit_zero_reads_everything(pve_api):
    # pve-common Tools.pm dump_logfile_by_filehandle 757-759: limit 0 means read until the end
    upid = pve_api.nodes("pve1").qemu.post(vmid=200, scsi0="local-lvm:1", scsi1="local-lvm:1")
    finish(pve_api, upid)
    lines = pve_api.nodes("pve1").tasks(upid).log.get(limit=0)
    assert [line["n"] for line in lines] == [1, 2, 3] and lines[-1]["t"] == "TASK OK"
