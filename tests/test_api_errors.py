"""PVE's status codes, reason phrases and bodies, as a real proxmoxer client (and requests) receive them."""

from __future__ import annotations

import pytest

from pytest_pvemock.api.app import InternalErrorWarning, PveApi
from pytest_pvemock.api.messages import ApiRequest
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.schema.validation import SchemaValidationError

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer import ResourceException  # noqa: E402


@pytest.fixture
def replace_handler(pve_cluster):
    return pve_cluster.api_override


def test_undocumented_path_gets_501_with_pve_message(pve_api):
    with pytest.raises(ResourceException) as raised:
        pve_api.nodes("pve1").foo.get()
    assert raised.value.status_code == 501
    assert raised.value.content == "Method 'GET /nodes/pve1/foo' not implemented"


def test_undocumented_method_gets_501(pve_cluster, ticket_session):
    answer = ticket_session.patch(f"{pve_cluster.url}/api2/json/access/users")
    assert answer.status_code == 501
    assert answer.json() == {"data": None, "message": "Method 'PATCH /access/users' not implemented\n"}


def test_parameter_errors_surface_as_proxmoxer_sees_them_from_pve(pve_api):
    with pytest.raises(ResourceException) as raised:
        pve_api.access.users.post(userid="bob@pve", bogus=1)
    error = raised.value
    assert (error.status_code, error.content) == (400, "Parameter verification failed.")
    assert error.errors == {
        "bogus": "property is not defined in schema and the schema does not allow additional properties"
    }
    assert str(error).startswith("400 Bad Request: Parameter verification failed. - {'bogus': ")


def test_parameter_error_body_is_pve_shaped(pve_cluster, ticket_session):
    answer = ticket_session.post(f"{pve_cluster.url}/api2/json/access/users", data={"userid": "bob@pve", "x": "1"})
    assert (answer.status_code, answer.reason) == (400, "Parameter verification failed.")
    body = answer.json()
    assert body["data"] is None
    assert body["message"] == "Parameter verification failed.\n"
    assert set(body["errors"]) == {"x"}


def test_path_parameter_conflicting_with_body_is_refused(pve_cluster, ticket_session):
    answer = ticket_session.put(
        f"{pve_cluster.url}/api2/json/access/users/root@pam", data={"userid": "other@pve", "comment": "x"}
    )
    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "userid": "duplicate parameter (already defined in URI) with conflicting values!"
    }


def test_body_on_a_get_is_refused_as_pveproxy_does(pve_cluster, ticket_session):
    answer = ticket_session.get(f"{pve_cluster.url}/api2/json/access/users", data={"full": "1"})
    assert (answer.status_code, answer.reason) == (501, "Unexpected content for method 'GET'")


def test_extjs_envelope_for_success_and_error(pve_cluster, ticket_session):
    ok = ticket_session.get(f"{pve_cluster.url}/api2/extjs/access/domains")
    assert ok.status_code == 200
    assert ok.json()["success"] == 1
    assert {entry["realm"] for entry in ok.json()["data"]} == {"pam", "pve"}
    failed = ticket_session.get(f"{pve_cluster.url}/api2/extjs/nodes/pve1/foo")
    assert failed.status_code == 200
    assert failed.json() == {
        "data": None,
        "message": "Method 'GET /nodes/pve1/foo' not implemented\n",
        "status": 501,
        "success": 0,
    }


def test_injected_fault_answers_once_then_recovers(pve_cluster, pve_api):
    pve_cluster.inject_error("GET", "/access/users", 500, "cfs-lock 'file-user_cfg' error: got lock timeout")
    with pytest.raises(ResourceException) as raised:
        pve_api.access.users.get()
    assert (raised.value.status_code, raised.value.content) == (
        500,
        "cfs-lock 'file-user_cfg' error: got lock timeout",
    )
    assert pve_api.access.users.get()


def test_injected_fault_on_a_template_until_cleared(pve_cluster, pve_api):
    pve_cluster.inject_error("GET", "/access/users/{userid}", 503, "service busy", times=None)
    for _ in range(3):
        with pytest.raises(ResourceException) as raised:
            pve_api.access.users("root@pam").get()
        assert raised.value.status_code == 503
    pve_cluster.clear_errors()
    assert pve_api.access.users("root@pam").get()["enable"] == 1


def test_offline_node_answers_595_without_body(pve_cluster, ticket_session):
    node = pve_cluster.nodes[-1].name
    pve_cluster.set_node_online(node, False)
    answer = ticket_session.get(f"{pve_cluster.url}/api2/json/nodes/{node}/status")
    assert answer.status_code == 595
    assert answer.reason == "Errors during connection establishment, proxy handshake: No route to host"
    assert answer.content == b""


def test_handler_bug_becomes_500_and_a_warning(pve_api, replace_handler):
    def broken(ctx):
        raise RuntimeError("boom")

    replace_handler("GET", "/access/domains", broken)
    with pytest.warns(InternalErrorWarning, match="RuntimeError: boom"), pytest.raises(ResourceException) as raised:
        pve_api.access.domains.get()
    assert (raised.value.status_code, raised.value.content) == (500, "RuntimeError: boom")


def test_answer_against_the_schema_fails_with_endpoint_and_pointer(
    pve_cluster, pve_cluster_factory, pve_api, replace_handler
):
    replace_handler("GET", "/access/domains", lambda ctx: [{"realm": 5, "type": "pam"}])
    with pytest.raises(SchemaValidationError) as raised:
        pve_api.access.domains.get()
    message = str(raised.value)
    assert "GET /access/domains" in message
    assert "/0/realm" in message
    violations = pve_cluster_factory.api_for(pve_cluster).violations
    assert violations == [raised.value]
    violations.clear()  # expected here: the fixture would otherwise fail the test at teardown


def test_validation_off_lets_a_wrong_answer_through():
    cluster = FakeCluster.default()
    cluster.api_override("GET", "/access/domains", lambda ctx: [{"realm": 5, "type": "pam"}])
    api = PveApi(cluster, validate=False)
    request = ApiRequest("GET", "/api2/json/access/domains")
    assert api.handle(request).json() == {"data": [{"realm": 5, "type": "pam"}]}


@pytest.mark.parametrize(
    "request_",
    [
        ApiRequest("BREW", "/api2/json/access/domains"),
        ApiRequest("GET", "/api2/json/%ZZ/%00"),
        ApiRequest("GET", "/"),
        ApiRequest("GET", "/api2/html/access/domains"),
        ApiRequest("POST", "/api2/json/access/ticket", body=b"{not json", headers={"Content-Type": "application/json"}),
        ApiRequest("POST", "/api2/json/access/ticket", body=b"[1, 2]", headers={"Content-Type": "application/json"}),
        ApiRequest("POST", "/api2/json/access/ticket", body=b"\xff\xfe=\xff"),
        ApiRequest("GET", "/api2/json/access/ticket", query="a=1&a=2;b&=c"),
    ],
)
def test_bad_requests_get_pve_shaped_answers_not_exceptions(request_):
    answer = PveApi(FakeCluster.default()).handle(request_)
    assert 400 <= answer.status < 600 or answer.status == 200
    assert answer.reason
