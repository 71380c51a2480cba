"""QEMU guest agent calls and container interfaces: answered from the guest's config and state, refused as PVE does.

qemu-server src/PVE/QemuServer/Agent.pm ``assert_agent_available`` (commit e6352be6, lines 117-121): no ``agent``
key -> "No QEMU guest agent configured"; not running -> "VM <vmid> is not running"; ``agent: 0`` (no agent
channel, guest-ping fails) -> "QEMU guest agent is not running"; all HTTP 500. pve-container src/PVE/LXC.pm
``get_interfaces`` (94f55852): ``ip --json a`` in the container, nothing for a stopped one.
"""

from __future__ import annotations

import proxmoxer
import pytest
from proxmoxer.core import ResourceException


@pytest.fixture
def api(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    return cluster, proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)


def refusal(call) -> tuple[int, str]:
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value.status_code, caught.value.content


def test_agent_calls_need_an_agent_configured_a_running_vm_and_the_agent_enabled(api):
    cluster, pve = api
    assert refusal(lambda: pve.nodes("pve1").qemu(100).agent("get-osinfo").get()) == (
        500,
        "No QEMU guest agent configured",
    )
    cluster.guest(102).config["agent"] = "1"
    assert refusal(lambda: pve.nodes("pve2").qemu(102).agent.ping.post()) == (500, "VM 102 is not running")
    cluster.guest(100).config["agent"] = "0"
    assert refusal(lambda: pve.nodes("pve1").qemu(100).agent("network-get-interfaces").get()) == (
        500,
        "QEMU guest agent is not running",
    )


def test_the_agent_reports_the_vms_own_nics_cpus_and_disk(api):
    cluster, pve = api
    vm = cluster.guest(103)  # win11, agent: 1, running on pve3
    agent = pve.nodes("pve3").qemu(103).agent
    assert agent.ping.post() == {"result": {}}
    assert agent("get-osinfo").get()["result"]["id"] == "mswindows"
    vm.config["net0"] = "virtio=BC:24:11:0A:0B:0C,bridge=vmbr0,firewall=1"
    interfaces = agent("network-get-interfaces").get()["result"]
    nic = next(entry for entry in interfaces if entry.get("hardware-address") == "bc:24:11:0a:0b:0c")
    addresses = {address["ip-address-type"]: address["ip-address"] for address in nic["ip-addresses"]}
    assert addresses["ipv4"].startswith("192.168.100.")  # pve3's network
    assert addresses["ipv6"] == "fe80::be24:11ff:fe0a:b0c"
    assert nic["name"] == "Ethernet"
    assert len(agent("get-vcpus").get()["result"]) == vm.maxcpu
    (filesystem,) = agent("get-fsinfo").get()["result"]
    assert 0 < filesystem["used-bytes"] < filesystem["total-bytes"] < vm.maxdisk
    assert agent("get-host-name").get() == {"result": {"host-name": "win11"}}


def test_a_linux_vm_reports_debian_of_its_release(pve_cluster_factory):
    cluster = pve_cluster_factory(version="8.4", validate=True)
    cluster.guest(100).config["agent"] = "enabled=1,fstrim_cloned_disks=1"
    pve = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    osinfo = pve.nodes("pve1").qemu(100).agent("get-osinfo").get()["result"]
    assert osinfo["pretty-name"] == "Debian GNU/Linux 12 (bookworm)"
    names = [entry["name"] for entry in pve.nodes("pve1").qemu(100).agent("network-get-interfaces").get()["result"]]
    assert names == ["lo", "ens18"]


def test_container_interfaces_follow_its_nets(api):
    cluster, pve = api
    ct = cluster.guest(110)
    ct.config["net1"] = "name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:00:2A,ip=10.10.0.5/16,type=veth"
    rows = pve.nodes("pve2").lxc(110).interfaces.get()
    assert [row["name"] for row in rows] == ["lo", "eth0", "eth1"]
    eth1 = rows[2]
    assert eth1["hwaddr"] == eth1["hardware-address"] == "bc:24:11:00:00:2a"
    assert eth1["inet"] == "10.10.0.5/16"
    assert eth1["inet6"] == "fe80::be24:11ff:fe00:2a/64"
    assert {"ip-address-type": "inet", "ip-address": "10.10.0.5", "prefix": 16} in eth1["ip-addresses"]
