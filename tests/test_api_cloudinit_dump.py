"""``GET /nodes/{node}/qemu/{vmid}/cloudinit/dump``: qemu-server src/PVE/QemuServer/Cloudinit.pm (commit e6352be6)
``cloudinit_userdata`` 145-189, ``nocloud_network`` 527-596, ``configdrive2_network`` 198-247, metadata 249-264 and
598-608, ``get_dns_conf`` 127-143 (the node's resolv.conf when the VM sets no DNS), ``get_cloudinit_format`` 94-110;
API2/Qemu.pm 6595-6640 (the password masked without VM.Config.Cloudinit)."""

from __future__ import annotations

import hashlib

import pytest


@pytest.fixture
def vm(pve_cluster, pve_api):
    vm = pve_api.nodes("pve2").qemu(102)  # stopped: cloud-init options apply at once, not as pending changes
    vm.config.put(
        ipconfig0="ip=10.0.0.5/24,gw=10.0.0.1", ciuser="admin", cipassword="s3cret", sshkeys="ssh-ed25519%20AAAA%20me"
    )
    return vm


def test_user_data_holds_the_cloud_init_options_but_never_a_clear_password(vm, pve_cluster):
    text = vm.cloudinit.dump.get(type="user")
    name = pve_cluster.guest(102).config["name"]
    assert text.startswith(f"#cloud-config\nhostname: {name}\nmanage_etc_hosts: true\nfqdn: {name}\nuser: admin\n")
    assert "password: **********\n" in text and "s3cret" not in text
    assert "ssh_authorized_keys:\n  - ssh-ed25519 AAAA me\n" in text
    assert text.endswith("chpasswd:\n  expire: False\nusers:\n  - default\npackage_upgrade: true\n")


def test_network_config_is_nocloud_v1_with_the_nic_mac_and_the_nodes_dns(vm, pve_cluster):
    text = vm.cloudinit.dump.get(type="network")
    mac = pve_cluster.guest(102).config["net0"].split(",")[0].split("=")[1].lower()
    assert text == (
        "version: 1\nconfig:\n"
        f"    - type: physical\n      name: eth0\n      mac_address: '{mac}'\n      subnets:\n"
        "      - type: static\n        address: '10.0.0.5'\n        netmask: '255.255.255.0'\n"
        "        gateway: '10.0.0.1'\n"
        "    - type: nameserver\n      address:\n      - '192.168.100.1'\n      search:\n      - 'pvemock.lan'\n"
    )


def test_metadata_is_the_sha1_of_user_data_and_network_config(vm):
    meta = vm.cloudinit.dump.get(type="meta")
    # the unmasked user data; the fake shows no clear password even then, but PVE's hash input is the same text
    assert meta.startswith("instance-id: ") and len(meta.strip().split(": ")[1]) == 40
    vm.config.put(searchdomain="example.org")
    assert vm.cloudinit.dump.get(type="meta") != meta  # the DNS search domain is part of the network config


def test_windows_guests_get_a_configdrive2_interfaces_file(vm):
    vm.config.put(ostype="win11")
    network = vm.cloudinit.dump.get(type="network")
    assert network.startswith("auto lo\niface lo inet loopback\n\n        dns_nameservers 192.168.100.1\n")
    assert "auto eth0\niface eth0 inet static\n        address 10.0.0.5\n        netmask 255.255.255.0\n" in network
    meta = vm.cloudinit.dump.get(type="meta")
    assert '"network_config": { "content_path": "/content/0000" }' in meta
    uuid = meta.split('"uuid": "')[1].split('"')[0]
    assert len(uuid) == len(hashlib.sha1().hexdigest())
