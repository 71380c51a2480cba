"""The in-process requests transport: real Response objects, no socket, other hosts passed through or refused."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from requests.adapters import HTTPAdapter

from pytest_pvemock import mock
from pytest_pvemock.api.messages import ApiResponse
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.transports.in_process import request_body
from pytest_pvemock.transports.install import installed
from pytest_pvemock.transports.routing import UnmatchedHostError, routed

ORIGINAL_SEND = HTTPAdapter.send


@pytest.fixture
def local_server():
    """A real HTTP server on 127.0.0.1, to see requests to other hosts pass through."""

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200, "Fine")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"real network")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_answers_are_real_responses_without_a_socket(monkeypatch):
    def no_sockets(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", no_sockets)
    monkeypatch.setattr(socket.socket, "connect", no_sockets)
    cluster = FakeCluster.default()
    with mock(cluster):
        answer = requests.get(f"{cluster.url}/api2/json/access/domains?x=1", verify="/no/such/ca.pem")
    assert isinstance(answer, requests.Response)
    assert (answer.status_code, answer.reason, answer.ok) == (200, "OK", True)
    assert answer.url == f"{cluster.url}/api2/json/access/domains?x=1"
    assert answer.request.method == "GET"
    assert answer.headers["content-type"] == "application/json;charset=UTF-8"
    assert answer.encoding == "UTF-8"
    assert answer.raw.read() == answer.content
    assert {entry["realm"] for entry in answer.json()["data"]} == {"pam", "pve"}


def test_every_host_of_the_cluster_answers_on_its_port():
    cluster = FakeCluster.default()
    node = cluster.nodes[0]
    with mock(cluster):
        for host in (cluster.host, node.name, node.ip):
            assert requests.get(f"https://{host}:{cluster.port}/api2/json/access/ticket").json() == {"data": None}


def test_raise_for_status_sees_pve_reason():
    cluster = FakeCluster.default()
    with mock(cluster):
        answer = requests.get(f"{cluster.url}/api2/json/version")
    with pytest.raises(requests.HTTPError, match="401 Client Error: No ticket"):
        answer.raise_for_status()


def test_other_hosts_pass_through(local_server):
    with mock(FakeCluster.default()):
        answer = requests.get(local_server)
    assert (answer.status_code, answer.reason, answer.text) == (200, "Fine", "real network")


def test_other_hosts_are_refused_when_asked(local_server):
    cluster = FakeCluster.default()
    with mock(cluster, refuse_other_hosts=True):
        with pytest.raises(UnmatchedHostError, match=r"127\.0\.0\.1"):
            requests.get(local_server)
        with pytest.raises(UnmatchedHostError):
            requests.get(f"https://{cluster.host}:9999/api2/json/version")
    assert requests.get(local_server).text == "real network"


def test_mocks_nest_and_the_patch_goes_away():
    outer, inner = FakeCluster.default(), FakeCluster.default()
    outer.access.add_user("outer@pve")
    with mock(outer):
        with mock(inner):
            session = _root_session(inner)
            users = session.get(f"{inner.url}/api2/json/access/users").json()["data"]
            assert "outer@pve" not in {user["userid"] for user in users}
        session = _root_session(outer)
        users = session.get(f"{outer.url}/api2/json/access/users").json()["data"]
        assert "outer@pve" in {user["userid"] for user in users}
        assert HTTPAdapter.send is not ORIGINAL_SEND
    assert HTTPAdapter.send is ORIGINAL_SEND


def test_mock_works_with_start_and_stop():
    cluster = FakeCluster.default()
    patched = mock(cluster)
    assert patched.start() is cluster
    try:
        assert requests.get(f"{cluster.url}/api2/json/access/ticket").status_code == 200
        with pytest.raises(RuntimeError, match="already active"):
            patched.start()
    finally:
        patched.stop()
    assert not patched.active


def test_set_cookie_reaches_the_session_jar():
    def with_cookie(request):
        return ApiResponse(200, b"{}", {"Content-Type": "application/json", "Set-Cookie": "PVEAuthCookie=abc; path=/"})

    with installed(), routed(["cookie.test"], 8006, with_cookie):
        session = requests.Session()
        answer = session.get("https://cookie.test:8006/api2/json/")
    assert answer.cookies["PVEAuthCookie"] == "abc"
    assert session.cookies["PVEAuthCookie"] == "abc"


def test_request_bodies_of_every_kind_arrive_as_bytes():
    assert request_body(None) == b""
    assert request_body("a=1") == b"a=1"
    assert request_body(iter([b"a=", "1"])) == b"a=1"


def _root_session(cluster) -> requests.Session:
    data = requests.post(
        f"{cluster.url}/api2/json/access/ticket", data={"username": cluster.user, "password": cluster.password}
    ).json()["data"]
    session = requests.Session()
    session.cookies.set("PVEAuthCookie", data["ticket"])
    session.headers["CSRFPreventionToken"] = data["CSRFPreventionToken"]
    return session
