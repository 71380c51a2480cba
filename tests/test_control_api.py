"""The control API of the HTTPS server (/pvemock-api/...), driven with requests as a test in another language would."""

from __future__ import annotations

import json
import re
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

    def control(self, verb: str, path: str, /, **json: Any) -> requests.Response:
        return self.session.request(
            verb, f"{self.server.control_url}{path}", json=json or None, verify=self.verify, timeout=30
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
    missing = root.control("POST", "/nodes/nosuch/power-off")
    assert missing.status_code == 404 and "pve1" in missing.json()["message"]
    assert root.control("GET", "/reset").status_code == 405
    assert root.control("GET", "/requests?colour=red").status_code == 400
    # never under /api2: there it is an unknown PVE path like any other
    under_api = root.session.get(f"{root.server.url}/api2/json/pvemock-api/clock", verify=root.verify, timeout=30)
    assert under_api.status_code == 501 and "now" not in under_api.text


def node_status(root: Client, name: str) -> str:
    nodes = {node["node"]: node["status"] for node in root.api("/nodes").json()["data"]}
    return nodes[name]


def test_power_off_shows_the_node_offline_and_reset_restores(root: Client) -> None:
    cluster = root.server.cluster
    assert node_status(root, "pve2") == "online"
    answer = root.control("POST", "/nodes/pve2/power-off")
    assert answer.status_code == 200 and answer.json()["online"] is False
    assert node_status(root, "pve2") == "offline"
    root.control("POST", "/clock/advance", seconds=600)
    reset = root.control("POST", "/reset")
    assert reset.status_code == 200
    # the ticket was issued at the start time, which the reset clock is back to
    assert node_status(root, "pve2") == "online"
    # the same object: the test's pve_cluster, fixtures and in-process clients see the reset too
    assert root.server.cluster is cluster and cluster.node("pve2").online


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


def test_request_log_filters_by_method_path_status_and_time(root: Client) -> None:
    root.api("/nodes")
    root.api("/nodes/pve1/status")
    root.api("/cluster/resources")
    root.api("/nodes/nosuch/status")
    later = root.control("POST", "/clock/advance", seconds=10).json()["now"]
    root.api("/nodes/pve2/status")

    def paths(query: str) -> list[str]:
        answer = root.control("GET", f"/requests?{query}")
        assert answer.status_code == 200, answer.text
        return [entry["path"].removeprefix("/api2/json") for entry in answer.json()["requests"]]

    assert paths("path=/nodes") == ["/nodes", "/nodes/pve1/status", "/nodes/nosuch/status", "/nodes/pve2/status"]
    assert paths("method=post") == ["/access/ticket"]
    assert paths("path=/api2/json/nodes&status=200&since=" + str(later)) == ["/nodes/pve2/status"]
    assert paths("status=200&path=/cluster") == ["/cluster/resources"]
    assert root.control("GET", "/requests?status=abc").status_code == 400


@pytest.mark.pve_cluster("ha-three-node")
def test_maintenance_moves_ha_services_away_and_back(root: Client) -> None:
    cluster = root.server.cluster
    answer = root.control("POST", "/nodes/pve1/maintenance", enable=True)
    assert answer.status_code == 200, answer.text
    root.control("POST", "/clock/advance", seconds=60)
    node = root.control("POST", "/nodes/pve1/maintenance", enable=True).json()
    assert node["ha_state"] == "maintenance" and node["online"]
    assert cluster.primary_node(100) in ("pve2", "pve3")  # vm:100 lived on pve1
    root.control("POST", "/nodes/pve1/maintenance", enable=False)
    root.control("POST", "/clock/advance", seconds=60)
    assert cluster.primary_node(100) == "pve1"  # moved back: its maintenance fallback node
    bad = root.control("POST", "/nodes/pve1/maintenance", enable="yes")
    assert bad.status_code == 400 and "enable" in bad.json()["message"]


@pytest.mark.pve_cluster("ha-three-node")
def test_failed_starts_end_in_ha_error_and_error_can_be_set(root: Client) -> None:
    # vm:103 is configured 'stopped'; its next starts fail on every node: max_restart, max_relocate, then 'error'
    failing = root.control("POST", "/guests/103/fail-starts", count=10)
    assert failing.status_code == 200, failing.text
    write = root.session.put(
        f"{root.server.url}/api2/json/cluster/ha/resources/vm:103", data={"state": "started"}, verify=root.verify
    )
    assert write.status_code == 200, write.text
    root.control("POST", "/clock/advance", seconds=300)
    rows = root.api("/cluster/ha/status/current").json()["data"]
    states = {row["sid"]: row.get("state") for row in rows if "sid" in row}
    assert states["vm:103"] == "error"
    forced = root.control("POST", "/guests/100/error")
    assert forced.status_code == 200 and forced.json()["ha_state"] == "error"
    assert root.control("POST", "/guests/9999/error").status_code == 404


def test_ha_faults_need_an_ha_resource(root: Client) -> None:
    answer = root.control("POST", "/guests/100/fail-starts", count=1)
    assert answer.status_code == 409 and "not an HA resource" in answer.json()["message"]


def test_injected_api_errors_answer_then_clear(root: Client) -> None:
    injected = root.control("POST", "/errors/inject", method="GET", path="/nodes/{node}/status", code=503,
                            message="node busy", times=1)  # fmt: skip
    assert injected.status_code == 200, injected.text
    failed = root.api("/nodes/pve2/status")
    assert failed.status_code == 503 and "node busy" in failed.reason
    assert root.api("/nodes/pve2/status").status_code == 200
    listed = root.control("GET", "/errors").json()["errors"]
    assert listed == [{"method": "GET", "path": "/nodes/{node}/status", "code": 503, "message": "node busy",
                       "times": 0, "used": 1}]  # fmt: skip
    root.control("POST", "/errors/inject", method="*", path="/cluster/resources", times=None)
    assert root.api("/cluster/resources").status_code == 500
    assert root.control("POST", "/errors/clear").json() == {"errors": []}
    assert root.api("/cluster/resources").status_code == 200
    bad = root.control("POST", "/errors/inject", method="GET", path="/nodes", code=200)
    assert bad.status_code == 400 and "code" in bad.json()["message"]


def test_scenario_dump_loads_back_into_the_same_cluster(root: Client) -> None:
    root.session.post(f"{root.server.url}/api2/json/pools", data={"poolid": "lab"}, verify=root.verify)
    root.session.post(f"{root.server.url}/api2/json/nodes/pve2/qemu/102/status/start", verify=root.verify)
    root.control("POST", "/nodes/pve3/power-off")
    dumped = root.control("GET", "/scenario")
    assert dumped.status_code == 200 and dumped.headers["Content-Type"].startswith("application/yaml")
    assert "password" not in dumped.text and "secret" not in dumped.text  # never a password or a token secret
    assert root.control("GET", "/scenario?secrets=1").status_code == 400  # nor on request
    with PveServer(FakeCluster.from_scenario("single-node")) as other:
        other_root = Client(other, password="pvemock")
        loaded = other_root.session.post(
            f"{other.control_url}/scenario", data=dumped.content, verify=other_root.verify, timeout=30
        )
        assert loaded.status_code == 200, loaded.text
        assert loaded.json()["nodes"] == 3
        again = Client(other, password="pvemock")  # a load replaces the users: a new login
        assert again.control("GET", "/scenario").text == dumped.text
        config = "/nodes/pve1/qemu/100/config"
        assert again.api(config).json()["data"] == root.api(config).json()["data"]
        assert node_status(again, "pve3") == "offline"
        assert {p["poolid"] for p in again.api("/pools").json()["data"]} == {"prod", "lab"}


def test_a_broken_scenario_body_names_the_line(root: Client) -> None:
    answer = root.session.post(
        f"{root.server.control_url}/scenario", data=b"nodes:\n  - {name: pve1, cpus: many}\n", verify=root.verify
    )
    assert answer.status_code == 400 and "line 2" in answer.json()["message"] and "cpus" in answer.json()["message"]
    assert node_status(root, "pve2") == "online"  # nothing changed


def test_openapi_document_describes_every_route_and_validates(pve_server: PveServer) -> None:
    from jsonschema import Draft202012Validator

    from pytest_pvemock.transports.control_api import ROUTES

    answer = requests.get(f"{pve_server.control_url}/openapi.json", verify=str(pve_server.ca_file), timeout=30)
    assert answer.status_code == 200  # the one call without credentials
    document = answer.json()
    assert document["openapi"].startswith("3.1") and document["info"]["title"] and document["info"]["version"]
    declared = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routed = {(route.method, "/pvemock-api" + route.template) for route in ROUTES}
    assert declared == routed
    operations = [(path, op) for path, item in document["paths"].items() for op in item.values()]
    assert len({op["operationId"] for _, op in operations}) == len(operations)
    schemas = list(document["components"]["schemas"].values())
    for path, op in operations:
        assert "200" in op["responses"] and op["summary"]
        in_path = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path"}
        assert in_path == set(re.findall(r"\{([^}]+)\}", path))
        schemas += [p["schema"] for p in op.get("parameters", ())]
        schemas += [c["schema"] for r in op["responses"].values() for c in r.get("content", {}).values()]
        schemas += [c["schema"] for c in op.get("requestBody", {}).get("content", {}).values()]
    for schema in schemas:  # OpenAPI 3.1's schema objects are JSON Schema 2020-12
        Draft202012Validator.check_schema(schema)
    refs = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(document))
    assert refs and set(refs) <= set(document["components"]["schemas"])
    # the reference validator, where it is installed (not a dependency: its releases need newer jsonschema and
    # requests than the minimum versions this project supports)
    try:
        from openapi_spec_validator import validate
    except ImportError:
        return
    validate(document)


def token_get(server: PveServer, authid: str, secret: str, path: str = "/clock") -> requests.Response:
    """``GET`` on the control API with the API token ``authid`` (``root@pam!ci``) and ``secret``."""
    return requests.get(
        f"{server.control_url}{path}",
        headers={"Authorization": f"PVEAPIToken={authid}={secret}"},
        verify=str(server.ca_file),
        timeout=30,
    )


def test_loading_a_dump_of_the_server_keeps_its_callers_way_in(root: Client) -> None:
    # a token made through the PVE API after the start: its secret is shown once and never dumped
    made = root.session.post(f"{root.server.url}/api2/json/access/users/root@pam/token/ci", data={"privsep": 0},
                             verify=root.verify, timeout=30)  # fmt: skip
    secret = made.json()["data"]["value"]
    dumped = token_get(root.server, "root@pam!ci", secret, "/scenario").text
    assert secret not in dumped and "tokenid: ci" in dumped
    later = root.session.post(f"{root.server.url}/api2/json/access/users/root@pam/token/later", data={"privsep": 0},
                              verify=root.verify, timeout=30).json()["data"]["value"]  # fmt: skip
    loaded = requests.post(f"{root.server.control_url}/scenario", data=dumped.encode(), verify=root.verify, timeout=30,
                           headers={"Authorization": f"PVEAPIToken=root@pam!ci={secret}"})  # fmt: skip
    assert loaded.status_code == 200, loaded.text
    # the token the dump declares keeps its secret, the ticket its key; a token the dump does not hold is gone
    assert token_get(root.server, "root@pam!ci", secret).status_code == 200
    assert root.control("GET", "/clock").status_code == 200
    assert token_get(root.server, "root@pam!later", later).status_code == 401
    assert root.control("POST", "/reset").status_code == 200  # back to the loaded scenario: the same
    assert token_get(root.server, "root@pam!ci", secret).status_code == 200


SCENARIO_WITH_SECRET_ENV = """\
nodes: [{name: pve1}]
users:
  - userid: root@pam
    tokens:
      - {tokenid: ci, privsep: false, secret_env: PVEMOCK_TEST_CI_SECRET}
"""


def test_a_scenario_takes_a_token_secret_from_the_environment(root: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PVEMOCK_TEST_CI_SECRET", raising=False)
    unset = root.session.post(f"{root.server.control_url}/scenario", data=SCENARIO_WITH_SECRET_ENV.encode(),
                              verify=root.verify, timeout=30)  # fmt: skip
    assert unset.status_code == 400
    assert unset.json()["message"] == (
        "the scenario body, line 5: the secret of token root@pam!ci comes from the environment variable "
        "PVEMOCK_TEST_CI_SECRET, which is not set"
    )
    monkeypatch.setenv("PVEMOCK_TEST_CI_SECRET", "4f1b2c3d-0000-4000-8000-00000000abcd")
    loaded = root.session.post(f"{root.server.control_url}/scenario", data=SCENARIO_WITH_SECRET_ENV.encode(),
                               verify=root.verify, timeout=30)  # fmt: skip
    assert loaded.status_code == 200, loaded.text
    assert token_get(root.server, "root@pam!ci", "4f1b2c3d-0000-4000-8000-00000000abcd").status_code == 200
    assert "PVEMOCK_TEST_CI_SECRET" not in root.control("GET", "/scenario").text  # the dump: a new token, no secret


def test_a_loaded_scenario_keeps_root_s_password_and_the_callers_ticket(root: Client) -> None:
    changed = root.session.put(f"{root.server.url}/api2/json/access/password",
                               data={"userid": "root@pam", "password": "changed-Passw0rd", "confirmation-password":
                                     root.server.password}, verify=root.verify, timeout=30)  # fmt: skip
    assert changed.status_code == 200, changed.text
    loaded = root.session.post(f"{root.server.control_url}/scenario", data=b"nodes: [{name: solo}]\n",
                               verify=root.verify, timeout=30)  # fmt: skip
    assert loaded.status_code == 200, loaded.text
    assert root.control("GET", "/clock").status_code == 200  # the ticket of before the load
    assert Client(root.server, password="changed-Passw0rd").control("GET", "/clock").status_code == 200
