"""urllib3 answered in-process, and requests not answered twice by the urllib3 patch under it."""

from __future__ import annotations

import json

import pytest
import urllib3

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports import urllib3_patch
from pytest_pvemock.transports.routing import HOSTS, routed
from pytest_pvemock.transports.server import PveServer

seen: list[ApiRequest] = []


def echo(request: ApiRequest) -> ApiResponse:
    seen.append(request)
    status = 403 if request.path.endswith("/forbidden") else 200
    reason = "Permission check failed (/vms/100, VM.PowerMgmt)" if status == 403 else "OK"
    return ApiResponse(status, json.dumps({"data": {"path": request.path}}).encode(), reason=reason)


@pytest.fixture
def fake_host():
    seen.clear()
    urllib3_patch.install()
    try:
        with routed(["pve.test"], 8006, echo):
            yield
    finally:
        urllib3_patch.uninstall()


def test_pool_manager_request_reaches_the_api_as_sent(fake_host):
    response = urllib3.PoolManager().request(
        "POST", "https://pve.test:8006/api2/json/pools", fields={"poolid": "dev"}, encode_multipart=False
    )
    assert response.status == 200
    assert response.json() == {"data": {"path": "/api2/json/pools"}}
    assert (seen[-1].method, seen[-1].body, seen[-1].host) == ("POST", b"poolid=dev", "pve.test")


def test_connection_pool_and_module_level_request(fake_host):
    pool = urllib3.HTTPSConnectionPool("pve.test", 8006)
    response = pool.urlopen("GET", "/api2/json/forbidden?x=1")
    assert (response.status, response.reason) == (403, "Permission check failed (/vms/100, VM.PowerMgmt)")
    assert seen[-1].query == "x=1"
    assert urllib3.request("GET", "https://pve.test:8006/api2/json/version").status == 200


def test_streamed_response_reads_like_a_real_one(fake_host):
    response = urllib3.PoolManager().request("GET", "https://pve.test:8006/api2/json/x", preload_content=False)
    assert b"".join(response.stream(4)) == b'{"data": {"path": "/api2/json/x"}}'
    response.release_conn()


def test_other_hosts_pass_through_or_are_refused(fake_host):
    with PveServer(None, tls=False, dispatcher=echo) as real:
        assert urllib3.request("GET", f"{real.url}/api2/json/real").json() == {"data": {"path": "/api2/json/real"}}
    with HOSTS.refusing_other_hosts(), pytest.raises(urllib3.exceptions.HTTPError, match="refused a request"):
        urllib3.request("GET", "https://elsewhere:8006/api2/json/version", retries=False)


def test_install_is_counted_and_removed_cleanly():
    before = urllib3.HTTPConnectionPool.urlopen  # patched already while a session-scoped mock is active
    urllib3_patch.install()
    urllib3_patch.install()
    patched = urllib3.HTTPConnectionPool.urlopen
    urllib3_patch.uninstall()
    assert urllib3.HTTPConnectionPool.urlopen is patched
    urllib3_patch.uninstall()
    assert urllib3.HTTPConnectionPool.urlopen is before


def test_requests_to_a_fake_host_are_answered_once_by_the_requests_patch(fake_host):
    import requests

    from pytest_pvemock.transports.install import installed

    with installed():  # every transport patch, requests' included, as mock() installs them
        response = requests.get("https://pve.test:8006/api2/json/once", timeout=5)
    assert response.json() == {"data": {"path": "/api2/json/once"}}
    assert [request.path for request in seen] == ["/api2/json/once"]
