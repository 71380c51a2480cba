"""httpx (sync and async) answered in-process: what the API sees, what the client gets, and other hosts."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports import httpx_patch
from pytest_pvemock.transports.routing import HOSTS, routed
from pytest_pvemock.transports.server import PveServer

seen: list[ApiRequest] = []


def echo(request: ApiRequest) -> ApiResponse:
    seen.append(request)
    if request.path.endswith("/bad"):
        body = {"data": None, "message": "Parameter verification failed.\n", "errors": {"vmid": "invalid"}}
        return ApiResponse(400, json.dumps(body).encode(), reason="Parameter verification failed.")
    return ApiResponse(200, json.dumps({"data": {"path": request.path}}).encode())


@pytest.fixture
def fake_host():
    seen.clear()
    httpx_patch.install()
    try:
        with routed(["pve.test"], 8006, echo):
            yield
    finally:
        httpx_patch.uninstall()


def test_sync_client_request_reaches_the_api_as_sent(fake_host):
    with httpx.Client(base_url="https://pve.test:8006/api2/json") as client:
        response = client.post("/nodes/pve1/qemu", params={"full": "1"}, data={"vmid": "100", "name": "a b"})
    assert response.json() == {"data": {"path": "/api2/json/nodes/pve1/qemu"}}
    request = seen[-1]
    assert (request.method, request.path, request.query, request.host) == (
        "POST",
        "/api2/json/nodes/pve1/qemu",
        "full=1",
        "pve.test",
    )
    assert request.body == b"vmid=100&name=a+b"
    assert request.header("content-type") == "application/x-www-form-urlencoded"


def test_sync_client_error_keeps_status_and_reason(fake_host):
    response = httpx.get("https://pve.test:8006/api2/json/bad")
    assert (response.status_code, response.reason_phrase) == (400, "Parameter verification failed.")
    with pytest.raises(httpx.HTTPStatusError, match="400 Parameter verification failed"):
        response.raise_for_status()


def test_async_client_is_answered_in_process(fake_host):
    async def call() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.put("https://pve.test:8006/api2/json/nodes/pve1/config", json={"description": "x"})

    response = asyncio.run(call())
    assert response.status_code == 200
    assert json.loads(seen[-1].body) == {"description": "x"}  # httpx < 0.28 puts spaces in its JSON, newer ones do not


def test_other_hosts_pass_through_to_the_network(fake_host):
    with PveServer(None, tls=False, dispatcher=echo) as real:
        response = httpx.get(f"{real.url}/api2/json/real")
    assert response.json() == {"data": {"path": "/api2/json/real"}}
    assert seen[-1].host == "127.0.0.1"


def test_other_hosts_are_refused_when_asked(fake_host):
    with HOSTS.refusing_other_hosts(), pytest.raises(httpx.ConnectError, match="refused a request to elsewhere"):
        httpx.get("https://elsewhere:8006/api2/json/version")


def test_install_is_counted_and_removed_cleanly():
    before = httpx.HTTPTransport.handle_request  # patched already while a session-scoped mock is active
    httpx_patch.install()
    httpx_patch.install()
    patched = httpx.HTTPTransport.handle_request
    httpx_patch.uninstall()
    assert httpx.HTTPTransport.handle_request is patched
    httpx_patch.uninstall()
    assert httpx.HTTPTransport.handle_request is before
