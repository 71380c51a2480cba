"""The control API of the HTTPS server (/pvemock-api/...), driven with requests as a test in another language would."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.transports.server import PveServer


class Client:
    """A root@pam session on a server: a ticket cookie and its CSRF token, as a browser or a script holds them."""

    def __init__(self, server: PveServer, user: str = "root@pam", password: str | None = None) -> None:
        self.server = server
        self.session = requests.Session()
        self.verify = str(server.ca_file)  # per request: requests prefers REQUESTS_CA_BUNDLE over session.verify
        answer = self.session.post(
            f"{server.url}/api2/json/access/ticket",
            data={"username": user, "password": password or server.password},
            verify=self.verify,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        self.session.cookies.set("PVEAuthCookie", data["ticket"])
        self.session.headers["CSRFPreventionToken"] = data["CSRFPreventionToken"]

    def control(self, method: str, path: str, **json: Any) -> requests.Response:
        return self.session.request(
            method, f"{self.server.control_url}{path}", json=json or None, verify=self.verify, timeout=30
        )

    def api(self, path: str) -> requests.Response:
        return self.session.get(f"{self.server.url}/api2/json{path}", verify=self.verify, timeout=30)


@pytest.fixture
def root(pve_server: PveServer) -> Client:
    return Client(pve_server)


def test_refused_without_credentials_and_to_other_users(pve_server: PveServer) -> None:
    anonymous = requests.get(f"{pve_server.control_url}/clock", verify=str(pve_server.ca_file), timeout=30)
    assert anonymous.status_code == 401 and anonymous.json()["message"] == "No ticket"
    forged = requests.post(
        f"{pve_server.control_url}/reset",
        cookies={"PVEAuthCookie": "PVE:root@pam:6553F00D::forged"},
        verify=str(pve_server.ca_file),
        timeout=30,
    )
    assert forged.status_code == 401
    with pve_server.lock:
        pve_server.cluster.access.add_user("admin@pve", password="adminpass")
    admin = Client(pve_server, "admin@pve", "adminpass")
    answer = admin.control("POST", "/nodes/pve1/power-off")
    assert answer.status_code == 403 and "root@pam" in answer.json()["message"]
    assert pve_server.cluster.node("pve1").online


def test_a_write_with_a_ticket_needs_the_csrf_token(root: Client) -> None:
    del root.session.headers["CSRFPreventionToken"]
    answer = root.control("POST", "/clock/advance", seconds=60)
    assert answer.status_code == 401 and "csrf" in answer.json()["message"]


def test_root_api_token_is_accepted(pve_server: PveServer) -> None:
    with pve_server.lock:
        secret = pve_server.cluster.access.add_token("root@pam", "ci", privsep=False)
    answer = requests.get(
        f"{pve_server.control_url}/clock",
        headers={"Authorization": f"PVEAPIToken=root@pam!ci={secret}"},
        verify=str(pve_server.ca_file),
        timeout=30,
    )
    assert answer.status_code == 200 and answer.json()["now"] == pve_server.cluster.clock.now()


def test_advancing_the_clock_moves_uptime_and_expires_tickets(root: Client) -> None:
    before = root.control("GET", "/clock").json()["now"]
    uptime = root.api("/nodes/pve1/status").json()["data"]["uptime"]
    moved = root.control("POST", "/clock/advance", seconds=3600)
    assert moved.status_code == 200 and moved.json()["now"] == before + 3600
    assert root.api("/nodes/pve1/status").json()["data"]["uptime"] == uptime + 3600
    root.control("POST", "/clock/advance", seconds=3600)
    # the ticket was issued two hours of cluster time ago: pveproxy refuses it (TICKET_LIFETIME)
    assert root.api("/nodes").status_code == 401
    assert root.control("GET", "/clock").status_code == 401


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "ten"}, {"seconds": 10**9}, {"seconds": True}])
def test_bad_advance_is_a_400_with_a_message(root: Client, body: dict[str, Any]) -> None:
    answer = root.session.post(f"{root.server.control_url}/clock/advance", json=body, verify=root.verify, timeout=30)
    assert answer.status_code == 400 and "seconds" in answer.json()["message"]


def test_unknown_calls_and_nodes_are_json_404s(root: Client) -> None:
    assert root.control("GET", "/nothing").json()["message"].startswith("no such control API call")
    assert root.control("POST", "/nodes/nosuch/power-off").status_code == 404
    assert root.control("GET", "/reset").status_code == 405


def node_status(root: Client, name: str) -> str:
    nodes = {node["node"]: node["status"] for node in root.api("/nodes").json()["data"]}
    return nodes[name]


def test_power_off_shows_the_node_offline_and_reset_restores(root: Client) -> None:
    assert node_status(root, "pve2") == "online"
    answer = root.control("POST", "/nodes/pve2/power-off")
    assert answer.status_code == 200 and answer.json()["online"] is False
    assert node_status(root, "pve2") == "offline"
    root.control("POST", "/clock/advance", seconds=600)
    reset = root.control("POST", "/reset")
    assert reset.status_code == 200
    # the ticket was issued at the start time, which the reset clock is back to
    assert node_status(root, "pve2") == "online"
    assert root.server.cluster.node("pve2").online


def test_cut_network_then_restore(root: Client) -> None:
    root.control("POST", "/nodes/pve3/cut-network")
    assert node_status(root, "pve3") == "offline"
    root.control("POST", "/nodes/pve3/restore-network")
    assert node_status(root, "pve3") == "online"


def test_request_log_masks_every_secret(root: Client) -> None:
    root.api("/nodes")
    entries = root.control("GET", "/requests").json()["requests"]
    login = [entry for entry in entries if entry["path"] == "/api2/json/access/ticket"]
    assert login and login[0]["method"] == "POST" and login[0]["status"] == 200
    assert ["username", "root@pam"] in login[0]["parameters"]
    assert root.server.password not in str(entries)
    assert [entry["path"] for entry in entries][-1] == "/api2/json/nodes"
    assert all("/pvemock-api" not in entry["path"] for entry in entries)
    assert root.control("DELETE", "/requests").json() == {"requests": []}


def test_manual_clock_runs_tasks_only_when_told() -> None:
    pytest.importorskip("trustme")
    with PveServer(FakeCluster.default(), clock="manual") as server:
        root = Client(server)
        vm = next(guest for guest in server.cluster.vms if not guest.running)
        started = root.session.post(
            f"{server.url}/api2/json/nodes/{vm.node}/qemu/{vm.vmid}/status/start", verify=root.verify, timeout=30
        )
        upid = started.json()["data"]
        status = f"/nodes/{vm.node}/tasks/{upid}/status"
        assert root.api(status).json()["data"]["status"] == "running"
        assert root.control("GET", "/clock").json()["mode"] == "manual"
        assert root.control("POST", "/clock/settle").json()["pending"] == 0
        assert root.api(status).json()["data"]["exitstatus"] == "OK"


def test_realtime_clock_follows_wall_time() -> None:
    pytest.importorskip("trustme")
    wall = [1000.0]
    with PveServer(FakeCluster.default(), clock="realtime", speed=10) as server:
        server.server_clock._wall = lambda: wall[0]  # wall time under the test's control
        server.server_clock.rebase(server.cluster)
        root = Client(server)
        before = root.control("GET", "/clock").json()
        wall[0] += 30
        after = root.control("GET", "/clock").json()
        assert before["mode"] == "realtime" and after["now"] == before["now"] + 300
