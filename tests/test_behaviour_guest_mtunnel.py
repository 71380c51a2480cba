"""The target side of a remote migration: ``POST .../mtunnel`` with PVE's checks before the worker, then a tunnel
worker that waits for the source (qemu-server src/PVE/API2/Qemu.pm mtunnel 6638-7236 at e6352be6; pve-container
src/PVE/API2/LXC.pm mtunnel 3066-3370 at 94f55852)."""

from __future__ import annotations

import pytest

from tests.support.clients import proxmoxer_client, refused


@pytest.fixture
def cluster(pve_cluster_factory):
    return pve_cluster_factory(validate=True)  # instant tasks: the tunnel still waits for the clock


def test_a_tunnel_reserves_the_vmid_until_its_source_does_not_connect(cluster):
    pve = proxmoxer_client(cluster)
    answer = pve.nodes("localhost").qemu(4242).mtunnel.post(storages="local-lvm", bridges="vmbr0")
    assert answer["socket"] == "/run/qemu-server/4242.mtunnel"
    assert answer["upid"].split(":")[5:7] == ["qmtunnel", "4242"]
    # the worker writes an empty config locked 'create': the VMID is taken while the tunnel waits
    assert pve.nodes("pve1").qemu(4242).config.get()["lock"] == "create"
    # mtunnelwebsocket takes the ticket for that socket
    socket = pve.nodes("pve1").qemu(4242).mtunnelwebsocket.get(socket=answer["socket"], ticket=answer["ticket"])
    assert socket == {"socket": "/run/qemu-server/4242.mtunnel"}
    cluster.clock.advance(300)  # run_with_timeout(300, accept)
    status = pve.nodes("pve1").tasks(answer["upid"]).status.get()
    assert status["exitstatus"] == "Exiting mtunnel"
    assert 4242 not in {guest["vmid"] for guest in pve.cluster.resources.get(type="vm")}


def test_the_tunnel_checks_node_storages_bridges_and_vmid_before_its_worker(cluster):
    pve = proxmoxer_client(cluster)
    error = refused(pve.nodes("pve2").qemu(4242).mtunnel.post)  # not proxied: pve1 answers
    assert (error.status_code, error.errors) == (400, {"node": "node needs to be 'localhost' or local hostname 'pve1'"})
    error = refused(pve.nodes("pve1").qemu(4242).mtunnel.post, storages="local")
    assert error.content == "storage 'local' does not support vm images"
    error = refused(pve.nodes("pve1").lxc(4242).mtunnel.post, storages="local")
    assert error.content == "storage 'local' does not support CT rootdirs"
    error = refused(pve.nodes("pve1").qemu(4242).mtunnel.post, bridges="vmbr7")
    assert error.content == "bridge 'vmbr7' does not exist"
    error = refused(pve.nodes("pve1").lxc(100).mtunnel.post)
    assert error.errors == {"vmid": "unable to create empty CT config - VM 100 already exists on node 'pve1'\n"}
