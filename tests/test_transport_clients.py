"""Each client library against the pve_cluster fixture, in-process: log in, read, start a VM with the CSRF token."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote, urlencode

import aiohttp
import httpx
import urllib3


def stopped_vm(cluster):
    guest = next(g for g in cluster.vms if g.status == "stopped" and not g.config.get("template"))
    return guest.node, guest.vmid


def credentials(login: dict) -> dict[str, str]:
    data = login["data"]
    return {
        "Cookie": f"PVEAuthCookie={quote(data['ticket'], safe='')}",
        "CSRFPreventionToken": data["CSRFPreventionToken"],
    }


def test_httpx_sync_client(pve_cluster):
    node, vmid = stopped_vm(pve_cluster)
    with httpx.Client(base_url=f"{pve_cluster.url}/api2/json") as client:
        login = client.post("/access/ticket", data={"username": pve_cluster.user, "password": pve_cluster.password})
        client.headers.update(credentials(login.json()))
        upid = client.post(f"/nodes/{node}/qemu/{vmid}/status/start").json()["data"]
        resources = client.get("/cluster/resources", params={"type": "vm"}).json()["data"]
    assert upid.startswith(f"UPID:{node}:")
    assert {r["vmid"]: r["status"] for r in resources}[vmid] == "running"
    assert pve_cluster.guest(vmid).status == "running"


def test_httpx_async_client(pve_cluster):
    node, vmid = stopped_vm(pve_cluster)

    async def drive() -> str:
        async with httpx.AsyncClient(base_url=f"{pve_cluster.url}/api2/json") as client:
            login = await client.post(
                "/access/ticket", data={"username": pve_cluster.user, "password": pve_cluster.password}
            )
            client.headers.update(credentials(login.json()))
            await client.post(f"/nodes/{node}/qemu/{vmid}/status/start")
            return (await client.get(f"/nodes/{node}/qemu/{vmid}/status/current")).json()["data"]["status"]

    assert asyncio.run(drive()) == "running"


def test_aiohttp_session(pve_cluster):
    node, vmid = stopped_vm(pve_cluster)

    async def drive() -> tuple[int, str]:
        async with aiohttp.ClientSession(f"{pve_cluster.url}") as session:
            login_data = {"username": pve_cluster.user, "password": pve_cluster.password}
            async with session.post("/api2/json/access/ticket", data=login_data) as login:
                headers = credentials(await login.json())
            async with session.post(f"/api2/json/nodes/{node}/qemu/{vmid}/status/start", headers=headers) as started:
                started.raise_for_status()
            async with session.get("/api2/json/nodes/pve9/status", headers=headers) as missing:
                return missing.status, (await missing.json())["message"]

    status, message = asyncio.run(drive())
    assert pve_cluster.guest(vmid).status == "running"
    assert status >= 400
    assert "pve9" in message


def test_urllib3_pool_manager(pve_cluster):
    node, vmid = stopped_vm(pve_cluster)
    http = urllib3.PoolManager()
    login = http.request(
        "POST",
        f"{pve_cluster.url}/api2/json/access/ticket",
        body=urlencode({"username": pve_cluster.user, "password": pve_cluster.password}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    headers = credentials(json.loads(login.data))
    started = http.request(
        "POST", f"{pve_cluster.url}/api2/json/nodes/{node}/qemu/{vmid}/status/start", headers=headers
    )
    assert started.status == 200
    assert pve_cluster.guest(vmid).status == "running"
