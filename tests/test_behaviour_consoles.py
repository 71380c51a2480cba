"""Consoles as PVE opens them: a proxy on the node's next free port, a short-lived ticket bound to user, path and
port, a worker task that waits for the client, and the websocket call that checks the ticket.

Sources (the handlers' docstrings in pytest_pvemock/api/handlers/consoles.py give every line): qemu-server
src/PVE/API2/Qemu.pm (e6352be6) vncproxy 2939-3152, termproxy 3154-3272, vncwebsocket 3274-3330, spiceproxy
3332-3376; pve-manager PVE/API2/Nodes.pm (14a22df3) vncshell 1212-1363, termproxy 1367-1456, vncwebsocket
1459-1505; pve-container src/PVE/API2/LXC.pm (94f55852) spiceproxy 1252-1300; pve-access-control
src/PVE/AccessControl.pm (5ccd07d9) short-lived tickets 517-590 (40 seconds); pve-common src/PVE/Tools.pm
(f665029e) next_unused_port 429-497; pve-cluster src/PVE/Cluster/Setup.pm (7091d92e) gen_pveca_cert 423-452.
"""

from __future__ import annotations

import pytest
from cryptography import x509

from tests.support.clients import proxmoxer_client, refused, task_log


@pytest.fixture
def pve(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True, task_mode="manual")
    return cluster, proxmoxer_client(cluster)


def status_of(api, upid):
    return api.nodes(upid.split(":")[1]).tasks(upid).status.get()


def test_a_vm_console_gets_the_next_free_port_a_ticket_for_it_and_a_waiting_task(pve):
    cluster, api = pve
    vm = api.nodes("pve1").qemu(100)
    first = vm.vncproxy.post(websocket=1)
    assert set(first) == {"user", "ticket", "password", "cert", "port", "upid"}
    assert (first["user"], first["port"]) == ("root@pam", 5900)
    # the websocket variant's ticket carries the VNC password in front (Qemu.pm 3025-3030)
    assert first["ticket"].startswith(first["password"] + ":PVEVNC:") and len(first["password"]) == 8
    ca = x509.load_pem_x509_certificate(first["cert"].encode())  # /etc/pve/pve-root-ca.pem: a real CA
    ca.verify_directly_issued_by(ca)
    assert ca.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == "PVE Cluster Manager CA"
    task = status_of(api, first["upid"])
    assert (task["type"], task["id"], task["status"]) == ("vncproxy", "100", "running")
    assert vm.vncproxy.post()["port"] == 5901  # 5900 is taken while its proxy listens

    assert vm.vncwebsocket.get(port=first["port"], vncticket=first["ticket"]) == {"port": "5900"}
    for port, ticket in ((5901, first["ticket"]), (5900, first["ticket"].replace("PVEVNC:", "PVEVNC:0"))):
        error = refused(vm.vncwebsocket.get, port=port, vncticket=ticket)
        assert (error.status_code, error.content) == (401, "permission denied - invalid PVEVNC ticket")
    other = api.nodes("pve1").qemu(101)  # the ticket is bound to /vms/100
    error = refused(other.vncwebsocket.get, port=5900, vncticket=first["ticket"])
    assert error.status_code == 401

    cluster.clock.advance(10)  # qm vncproxy waits 10 seconds for its client (Qemu.pm 3076-3080)
    assert status_of(api, first["upid"])["exitstatus"] == "connection timed out"
    cluster.clock.advance(30)  # 40 seconds: the ticket is too old
    assert refused(vm.vncwebsocket.get, port=5900, vncticket=first["ticket"]).status_code == 401
    assert vm.vncproxy.post()["port"] == 5900  # free again: nothing listens, the 5-second reservation passed


def test_a_connected_shell_runs_until_its_client_leaves(pve):
    cluster, api = pve
    shell = api.nodes("pve2").termproxy.post()
    assert set(shell) == {"user", "ticket", "port", "upid"}  # termproxy answers no certificate
    assert api.nodes("pve2").vncwebsocket.get(port=shell["port"], vncticket=shell["ticket"]) == {
        "port": str(shell["port"])
    }
    cluster.consoles.connect("pve2", shell["port"])  # what opening the websocket does
    cluster.clock.advance(600)
    assert status_of(api, shell["upid"])["status"] == "running"
    cluster.consoles.disconnect("pve2", shell["port"])
    assert status_of(api, shell["upid"])["exitstatus"] == "OK"


def test_a_guests_console_ends_when_the_guest_stops(pve):
    cluster, api = pve
    proxy = api.nodes("pve2").lxc(110).termproxy.post()
    cluster.consoles.connect("pve2", proxy["port"])
    api.nodes("pve2").lxc(110).status.stop.post()
    cluster.clock.settle()
    assert status_of(api, proxy["upid"])["exitstatus"] == "OK"  # lxc-console exits, termproxy with it


def test_a_terminal_nobody_connects_to_fails_as_termproxy_does(pve):
    cluster, api = pve
    shell = api.nodes("pve2").qemu(102).termproxy.post()  # the VM need not run to open a terminal proxy
    cluster.clock.advance(10)
    task = status_of(api, shell["upid"])
    assert task["exitstatus"].startswith(f"command '/usr/bin/termproxy {shell['port']} --path /vms/102 --perm")
    assert task["exitstatus"].endswith("failed: exit code 1")
    assert "failed waiting for client: timed out" in task_log(api, shell["upid"])


def test_a_stopped_vms_display_proxy_fails_when_the_client_connects(pve):
    cluster, api = pve
    proxy = api.nodes("pve2").qemu(102).vncproxy.post()
    cluster.consoles.connect("pve2", proxy["port"])
    assert status_of(api, proxy["upid"])["exitstatus"] == "Failed to run vncproxy."


def test_spice_needs_a_running_guest_with_a_spice_display(pve):
    cluster, api = pve
    error = refused(api.nodes("pve2").qemu(102).spiceproxy.post)
    assert (error.status_code, error.content) == (500, "VM 102 not running")
    error = refused(api.nodes("pve1").qemu(100).spiceproxy.post)  # std VGA: QEMU runs no SPICE server
    assert error.content == "no spice port"
    error = refused(api.nodes("pve3").lxc(111).spiceproxy.post)
    assert error.content == "CT 111 not running"

    cluster.guest(100).config["vga"] = "qxl"
    config = api.nodes("pve1").qemu(100).spiceproxy.post(proxy="10.0.0.5")
    assert config["type"] == "spice" and config["title"] == "VM 100 - web01"
    assert config["proxy"] == "http://10.0.0.5:3128"
    assert config["tls-port"] == 61000
    assert config["host"].startswith(f"pvespiceproxy:{cluster.clock.now():08x}:100:pve1:61000::")
    assert config["host-subject"].startswith("OU=PVE Cluster Node,O=Proxmox Virtual Environment,CN=pve1.")
    assert config["ca"].startswith("-----BEGIN CERTIFICATE-----\\n")  # newlines escaped for the .vv file
    assert len(config["password"]) == 40

    shell = api.nodes("pve2").lxc(110).spiceproxy.post()  # a container's console runs spiceterm in a task
    assert shell["tls-port"] == 61000 and shell["title"] == "CT 110"
    assert [task for task in cluster.tasks if task.type == "spiceproxy" and task.id == "110" and task.running]
