"""aiohttp's ClientSession answered in-process with a real ClientResponse."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports import aiohttp_patch
from pytest_pvemock.transports.routing import HOSTS, routed
from pytest_pvemock.transports.server import PveServer

seen: list[ApiRequest] = []


def echo(request: ApiRequest) -> ApiResponse:
    seen.append(request)
    if request.path.endswith("/bad"):
        return ApiResponse(400, b'{"data":null}', reason="Parameter verification failed.")
    headers = {"Content-Type": "application/json;charset=UTF-8", "Set-Cookie": "PVEAuthCookie=abc; Path=/; Secure"}
    return ApiResponse(200, json.dumps({"data": {"path": request.path}}).encode(), headers=headers)


@pytest.fixture
def fake_host():
    seen.clear()
    aiohttp_patch.install()
    try:
        with routed(["pve.test"], 8006, echo):
            yield
    finally:
        aiohttp_patch.uninstall()


def run(coroutine):
    return asyncio.run(coroutine)


def test_request_and_response_as_a_server_would_give_them(fake_host):
    async def call():
        session = aiohttp.ClientSession(base_url="https://pve.test:8006")
        async with session, session.post("/api2/json/nodes/pve1/qemu", data={"vmid": "100"}, params={"a": "1"}) as resp:
            return resp.status, resp.reason, await resp.json(), await resp.text(), resp.cookies["PVEAuthCookie"]

    status, reason, data, text, cookie = run(call())
    assert (status, reason, data) == (200, "OK", {"data": {"path": "/api2/json/nodes/pve1/qemu"}})
    assert json.loads(text) == data
    assert cookie.value == "abc"
    request = seen[-1]
    assert (request.method, request.query, request.body) == ("POST", "a=1", b"vmid=100")
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert request.header("Host") == "pve.test:8006"


def test_cookie_jar_and_json_body(fake_host):
    async def call():
        async with aiohttp.ClientSession() as session:
            await (await session.get("https://pve.test:8006/api2/json/access/ticket")).read()
            response = await session.put("https://pve.test:8006/api2/json/x", json={"k": 1})
            body = await response.read()
            response.release()
            return body

    assert run(call()) == b'{"data": {"path": "/api2/json/x"}}'
    assert seen[-1].header("Cookie") == "PVEAuthCookie=abc"
    assert (seen[-1].body, seen[-1].header("Content-Type")) == (b'{"k": 1}', "application/json")


def test_raise_for_status_per_request_and_per_session(fake_host):
    async def call(**session_options):
        session = aiohttp.ClientSession(**session_options)
        async with session, session.get("https://pve.test:8006/api2/json/bad") as response:
            response.raise_for_status()

    with pytest.raises(aiohttp.ClientResponseError) as raised:
        run(call())
    assert (raised.value.status, raised.value.message) == (400, "Parameter verification failed.")
    with pytest.raises(aiohttp.ClientResponseError):
        run(call(raise_for_status=True))


def test_other_hosts_pass_through_or_are_refused(fake_host):
    async def get(url):
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return await response.json()

    with PveServer(None, tls=False, dispatcher=echo) as real:
        assert run(get(f"{real.url}/api2/json/real")) == {"data": {"path": "/api2/json/real"}}
    with HOSTS.refusing_other_hosts(), pytest.raises(aiohttp.ClientConnectionError, match="refused a request"):
        run(get("https://elsewhere:8006/api2/json/version"))


def test_install_is_counted_and_removed_cleanly():
    before = aiohttp.ClientSession._request  # patched already while a session-scoped mock is active
    aiohttp_patch.install()
    aiohttp_patch.install()
    patched = aiohttp.ClientSession._request
    aiohttp_patch.uninstall()
    assert aiohttp.ClientSession._request is patched
    aiohttp_patch.uninstall()
    assert aiohttp.ClientSession._request is before
