"""Sixteen threads at once against one in-process cluster, through every client library and pvesh: every
digest-guarded update lands. Each cluster has one lock (``FakeCluster.lock``) that every transport takes around a
request, as the HTTPS server does; without it 1 to 14 of 160 updates were lost (two writes passing the same digest
check), 0 to 51 of 160 with the thread switch interval this test sets."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

aiohttp = pytest.importorskip("aiohttp")
httpx = pytest.importorskip("httpx")
requests = pytest.importorskip("requests")
urllib3 = pytest.importorskip("urllib3")

from pytest_pvemock import FakeCluster, mock  # noqa: E402
from pytest_pvemock.transports.pvesh import run_pvesh  # noqa: E402
from pytest_pvemock.transports.routing import dispatcher_for  # noqa: E402

THREADS = 16
UPDATES = 25
MAX_ATTEMPTS = 500
Call = Callable[[str, str, dict[str, str] | None], tuple[int, Any]]


def with_requests(base: str, headers: dict[str, str]) -> Call:
    session = requests.Session()

    def call(method: str, path: str, data: dict[str, str] | None) -> tuple[int, Any]:
        answer = session.request(method, base + path, data=data, headers=headers, verify=False, timeout=30)
        return answer.status_code, answer.json()

    return call


def with_httpx(base: str, headers: dict[str, str]) -> Call:
    client = httpx.Client(verify=False, headers=headers)

    def call(method: str, path: str, data: dict[str, str] | None) -> tuple[int, Any]:
        answer = client.request(method, base + path, data=data)
        return answer.status_code, answer.json()

    return call


def with_httpx_async(base: str, headers: dict[str, str]) -> Call:
    async def request(method: str, path: str, data: dict[str, str] | None) -> tuple[int, Any]:
        async with httpx.AsyncClient(verify=False, headers=headers) as client:
            answer = await client.request(method, base + path, data=data)
            return answer.status_code, answer.json()

    return lambda method, path, data: asyncio.run(request(method, path, data))


def with_aiohttp(base: str, headers: dict[str, str]) -> Call:
    async def request(method: str, path: str, data: dict[str, str] | None) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.request(method, base + path, data=data, ssl=False) as answer,
        ):
            return answer.status, json.loads(await answer.text())

    return lambda method, path, data: asyncio.run(request(method, path, data))


def with_urllib3(base: str, headers: dict[str, str]) -> Call:
    pool = urllib3.PoolManager(cert_reqs="CERT_NONE")

    def call(method: str, path: str, data: dict[str, str] | None) -> tuple[int, Any]:
        body = urlencode(data).encode() if data else None
        sent = {**headers, "Content-Type": "application/x-www-form-urlencoded"} if body else headers
        answer = pool.request(method, base + path, body=body, headers=sent)
        return answer.status, json.loads(answer.data)

    return call


def with_pvesh(base: str, headers: dict[str, str]) -> Call:
    """``pvesh get|set PATH -key value --output-format json``, as proxmoxer's local and SSH backends run it."""
    parts = urlsplit(base)
    dispatcher = dispatcher_for(parts.hostname or "", parts.port)
    assert dispatcher is not None

    def call(method: str, path: str, data: dict[str, str] | None) -> tuple[int, Any]:
        options = [word for key, value in (data or {}).items() for word in (f"-{key}", value)]
        command = ["pvesh", "get" if method == "GET" else "set", path, *options, "--output-format", "json"]
        result = run_pvesh(command, dispatcher)
        if result.exit_status:
            return 500, {"message": result.stderr}
        return 200, {"data": json.loads(result.stdout) if result.stdout.strip() else None}

    return call


CLIENTS = [with_requests, with_httpx, with_httpx_async, with_aiohttp, with_urllib3, with_pvesh]


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_sixteen_threads_through_every_library_lose_no_digest_guarded_update():
    cluster = FakeCluster.default()
    secret = cluster.access.add_token("root@pam", "threads", privsep=False)
    headers = {"Authorization": f"PVEAPIToken=root@pam!threads={secret}"}
    vm = cluster.guests[0]
    path = f"/nodes/{vm.node}/{vm.kind}/{vm.vmid}/config"
    base = f"{cluster.url}/api2/json"
    start_together = threading.Barrier(THREADS)

    def work(index: int) -> int:
        call = CLIENTS[index % len(CLIENTS)](base, headers)
        start_together.wait(timeout=60)
        conflicts = 0
        for update in range(UPDATES):
            for _ in range(MAX_ATTEMPTS):
                status, config = call("GET", path, None)
                assert status == 200
                text = config["data"].get("description", "")
                change = {"description": f"{text}<{index}.{update}>", "digest": config["data"]["digest"]}
                status, answer = call("PUT", path, change)
                if status == 200:
                    break
                assert "checksum mismatch" in json.dumps(answer)
                conflicts += 1
            else:
                raise AssertionError(f"<{index}.{update}>: no write went through in {MAX_ATTEMPTS} attempts")
        return conflicts

    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so that races show in every run
    try:
        with mock(cluster), ThreadPoolExecutor(THREADS) as pool:
            conflicts = sum(pool.map(work, range(THREADS)))
    finally:
        sys.setswitchinterval(switch_interval)

    description = cluster.guest(vm.vmid).config.get("description", "")
    written = sorted(piece.rstrip(">") for piece in description.lstrip("<").split("<"))
    assert written == sorted(f"{i}.{u}" for i in range(THREADS) for u in range(UPDATES))
    assert conflicts > 0  # the threads did race for the same digest
