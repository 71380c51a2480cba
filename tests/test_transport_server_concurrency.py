"""Sixteen clients at once against one server and one cluster: no lost update, consistent answers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from proxmoxer import ProxmoxAPI, ResourceException

CLIENTS = 16
ROUNDS = 2
MAX_ATTEMPTS = 400


def test_sixteen_clients_starting_stopping_and_editing_with_digests(pve_server):
    cluster = pve_server.cluster
    node = cluster.nodes[0].name
    with pve_server.lock:
        own_vms = [cluster.add_vm(node=node, name=f"client{i}").vmid for i in range(CLIENTS)]
        shared = cluster.add_vm(node=node, name="shared").vmid
    start_together = threading.Barrier(CLIENTS)

    def client_work(index: int) -> None:
        api = ProxmoxAPI(
            pve_server.address,
            port=pve_server.port,
            user=pve_server.user,
            password=pve_server.password,
            verify_ssl=str(pve_server.ca_file),
        )
        mine = api.nodes(node).qemu(own_vms[index])
        start_together.wait(timeout=60)
        for round_ in range(ROUNDS):
            mine.status.start.post()
            assert mine.status.current.get()["status"] == "running"
            append_to_description(api.nodes(node).qemu(shared), f"<{index}.{round_}>")
            listed = {r["vmid"]: r["status"] for r in api.cluster.resources.get(type="vm")}
            assert listed[own_vms[index]] == "running"
            mine.status.stop.post()
            assert mine.status.current.get()["status"] == "stopped"

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client_work, range(CLIENTS)))

    description = cluster.guest(shared).config.get("description", "")
    tokens = [f"<{i}.{r}>" for i in range(CLIENTS) for r in range(ROUNDS)]
    assert sorted(t for t in tokens if t in description) == sorted(tokens)
    assert len(description) == sum(len(t) for t in tokens)
    assert all(cluster.guest(vmid).status == "stopped" for vmid in own_vms)


def append_to_description(vm, token: str) -> None:
    """Read-modify-write with the config digest, retrying on PVE's checksum error (another client won)."""
    for _ in range(MAX_ATTEMPTS):
        config = vm.config.get()
        try:
            vm.config.put(description=config.get("description", "") + token, digest=config["digest"])
            return
        except ResourceException as error:
            if "checksum mismatch" not in str(error):
                raise
    raise AssertionError(f"{token}: no write went through in {MAX_ATTEMPTS} attempts")
