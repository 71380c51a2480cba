"""The HTTPS server: real TLS verified with the generated CA, curl, both envelopes, and the pve_server fixture."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import requests
from proxmoxer import ProxmoxAPI

from pytest_pvemock.transports.server import PveServer


def proxmoxer_client(server: PveServer) -> ProxmoxAPI:
    return ProxmoxAPI(
        server.address, port=server.port, user=server.user, password=server.password, verify_ssl=str(server.ca_file)
    )


def test_proxmoxer_verifies_the_certificate_and_sees_changes_made_during_the_test(pve_server):
    client = proxmoxer_client(pve_server)
    assert {user["userid"] for user in client.access.users.get()} == {"root@pam"}
    with pve_server.lock:
        pve_server.cluster.access.add_user("alice@pve", comment="added by the test")
    assert {user["userid"] for user in client.access.users.get()} == {"root@pam", "alice@pve"}


def test_the_certificate_is_not_trusted_without_the_ca_file(pve_server):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{pve_server.url}/api2/json/version", timeout=30)
    assert pve_server.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_logs_in_and_reads_with_certificate_verification(pve_server):
    def curl(*args: str) -> dict:
        command = ["curl", "--silent", "--show-error", "--fail", "--cacert", str(pve_server.ca_file), *args]
        return json.loads(subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout)

    login = curl(
        "--data-urlencode",
        f"username={pve_server.user}",
        "--data-urlencode",
        f"password={pve_server.password}",
        f"{pve_server.url}/api2/json/access/ticket",
    )["data"]
    users = curl("--cookie", f"PVEAuthCookie={login['ticket']}", f"{pve_server.url}/api2/json/access/users")
    assert [user["userid"] for user in users["data"]] == ["root@pam"]


def test_extjs_envelope_and_pveproxy_errors(pve_server):
    verify = str(pve_server.ca_file)
    wrong = requests.post(
        f"{pve_server.url}/api2/extjs/access/ticket",
        data={"username": "root@pam", "password": "wrong"},
        verify=verify,
        timeout=30,
    )
    assert wrong.status_code == 200
    assert wrong.json()["success"] == 0
    no_ticket = requests.get(f"{pve_server.url}/api2/json/access/users", verify=verify, timeout=30)
    assert (no_ticket.status_code, no_ticket.reason) == (401, "No ticket")


def test_plain_http_on_a_free_port_and_a_clean_stop(pve_cluster):
    with PveServer(pve_cluster, tls=False) as first, PveServer(pve_cluster, tls=False) as second:
        assert first.ca_file is None
        assert first.port != second.port
        response = requests.post(
            f"{first.url}/api2/json/access/ticket", data={"username": "root@pam", "password": "pvemock"}, timeout=30
        )
        assert response.json()["data"]["username"] == "root@pam"
        url = first.url
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/api2/json/version", timeout=5)


def test_session_scoped_server_is_shared(pve_server_session):
    assert pve_server_session.url.startswith("https://127.0.0.1:")
    assert proxmoxer_client(pve_server_session).access.users.get()


def test_ipv6_loopback(pve_cluster):
    try:
        server = PveServer(pve_cluster, host="::1", tls=False).start()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with server:
        assert server.url.startswith("http://[::1]:")
        response = requests.post(
            f"{server.url}/api2/json/access/ticket", data={"username": "root@pam", "password": "pvemock"}, timeout=30
        )
        assert response.status_code == 200
