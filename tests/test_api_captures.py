"""Our answers have the keys and value types of real PVE answers to the same endpoints (third_party/pve-captures).

For each capture, entries are matched with ours of the same kind and state (a running QEMU guest with a running
one, an offline node with an offline one ...). Keys that PVE only sends when they apply (``lock``, ``tags``,
``pool``, ``hastate``, ``template`` in lists) may differ; everything else must be the same set with the same
JSON types. The captures come from PVE 7.4 to 8.4, so the fake runs as 8.4 here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

proxmoxer = pytest.importorskip("proxmoxer")

CAPTURES = Path(__file__).resolve().parent.parent / "third_party" / "pve-captures"

OPTIONAL = {"lock", "tags", "pool", "hastate", "template"}
NUMBERS = {"cpu", "used_fraction", "wait"}  # PVE prints an idle 0 as an integer, a load as a float


def capture(name: str) -> Any:
    data = json.loads((CAPTURES / name).read_text())
    return data["data"] if isinstance(data, dict) and set(data) <= {"data", "total"} else data


def kind_of(key: str, value: Any) -> str:
    if key in NUMBERS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    return type(value).__name__


def signature(entry: dict[str, Any], ignore: set[str] = OPTIONAL) -> dict[str, str]:
    return {key: kind_of(key, value) for key, value in entry.items() if key not in ignore}


def entry_class(entry: dict[str, Any]) -> tuple[str, str, bool]:
    """Entries that must look alike: same type and status (pools: with or without running members)."""
    return entry.get("type", ""), entry.get("status", ""), "cpu" in entry and entry.get("type") == "pool"


def assert_same_shape(real: list[dict[str, Any]], ours: list[dict[str, Any]], ignore: set[str] = OPTIONAL) -> int:
    """Each entry in ``real`` has a twin in ``ours`` (same class, same keys and types); returns how many."""
    ours_by_class: dict[tuple[str, str, bool], list[dict[str, str]]] = {}
    for entry in ours:
        ours_by_class.setdefault(entry_class(entry), []).append(signature(entry, ignore))
    compared = 0
    for entry in real:
        wanted = signature(entry, ignore)
        candidates = ours_by_class.get(entry_class(entry))
        assert candidates, f"no entry like {entry_class(entry)} in our answer"
        assert wanted in candidates, f"{entry_class(entry)}: real {sorted(wanted.items())} not among ours {candidates}"
        compared += 1
    return compared


@pytest.fixture
def api(pve_cluster_factory, request):
    cluster = pve_cluster_factory(version=getattr(request, "param", "8.4"), validate=True)
    cluster.add_pool("pool-1")
    cluster.update_pool("pool-1", vms=[111])
    cluster.node("pve3").go_offline()
    cluster.node("pve3").go_online(cluster.clock.now())
    client = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    client.cluster_object = cluster
    return client


@pytest.mark.parametrize(
    "name",
    [
        "cluster-resources__go-proxmox-pve8x.json",
        "cluster-resources__datadog-integrations-core.json",
        "cluster-resources__dougiteixeira-proxmoxve.json",
        "cluster-resources-type-vm__community-proxmox.json",
    ],
)
def test_cluster_resources(api, name):
    # INDEX.json: in the dougiteixeira capture, lxc/1000 and qemu/1001 are hand-made copies with the names dropped
    real = [entry for entry in capture(name) if entry.get("vmid") not in (1000, 1001)]
    assert assert_same_shape(real, api.cluster.resources.get()) > 0


def test_cluster_status(api):
    real = capture("cluster-status__go-proxmox-pve8x.json")
    assert assert_same_shape(real, api.cluster.status.get()) == len(real)


def test_nodes(api):
    assert assert_same_shape(capture("nodes__go-proxmox-pve8x.json"), api.nodes.get())


def test_node_status_has_every_captured_key_with_its_type(api):
    real = capture("nodes-node-status__go-proxmox-pve7x.json")
    ours = api.nodes("pve1").status.get()
    assert signature(real) == {key: kind for key, kind in signature(ours).items() if key in real}
    for part in ("cpuinfo", "memory", "rootfs", "swap", "ksm"):
        assert signature(real[part]) == {k: v for k, v in signature(ours[part]).items() if k in real[part]}
    assert isinstance(ours["loadavg"][0], str)


def test_qemu_list(api):
    ours = api.nodes("pve1").qemu.get() + api.nodes("pve2").qemu.get()
    assert assert_same_shape(capture("nodes-node-qemu__community-proxmox.json"), ours) == 2


# Both captures predate pve-container 5.0.10 (81aa4bd, 2024-04: the list's vmid became an integer, PVE 8.2): they
# show vmid as a string, as the fake answers on 8.1 (release_platform.FEATURES "lxc-list-vmid-integer").
@pytest.mark.parametrize("api", ["8.1"], indirect=True)
@pytest.mark.parametrize("name", ["nodes-node-lxc__go-proxmox-pve7x.json", "nodes-node-lxc__community-proxmox.json"])
def test_lxc_list(api, name):
    ours = api.nodes("pve2").lxc.get() + api.nodes("pve3").lxc.get()
    assert assert_same_shape(capture(name), ours) > 0


def test_running_qemu_status_current(api):
    real = capture("nodes-node-qemu-vmid-status-current__go-proxmox-pve8x.json")
    ours = api.nodes("pve1").qemu(100).status.current.get()
    assert signature(ours) == signature(real)
    assert real["ha"] == ours["ha"] == {"managed": 0}
    disk = next(iter(real["blockstat"].values()))
    assert signature(ours["blockstat"]["scsi0"]) == signature(disk)
    balloon = signature(ours["ballooninfo"], set())
    assert balloon.items() <= signature(real["ballooninfo"], set()).items()


def test_task_list_and_status(api):
    upid = api.nodes("pve2").qemu(102).status.start.post()
    real_rows = capture("nodes-node-tasks__datadog-integrations-core.json")
    ours_rows = api.nodes("pve2").tasks.get()
    assert signature(ours_rows[0]) == signature(real_rows[0])
    assert signature(capture("nodes-node-tasks-upid-status-stopped__proxmoxer.json")) == signature(
        api.nodes("pve2").tasks(upid).status.get()
    )


@pytest.mark.pve_cluster(task_mode="manual", validate=True)
def test_running_task_status(pve_cluster, pve_api):
    upid = pve_api.nodes("pve2").qemu(102).status.start.post()
    real = capture("nodes-node-tasks-upid-status-keep-running__proxmoxer.json")
    assert signature(pve_api.nodes("pve2").tasks(upid).status.get()) == signature(real)


@pytest.mark.parametrize("name", ["version__datadog-integrations-core.json", "version__proxmoxer.json"])
def test_version(api, name):
    assert signature(api.version.get()) == signature(capture(name))


def test_pool_members(api):
    real = capture("pools-poolid__go-proxmox-pve8x.json")
    api.cluster_object.update_pool("prod", storage=["local"])
    ours = api.pools("prod").get()
    assert set(ours) == set(real)
    assert assert_same_shape(real["members"], ours["members"]) == len(real["members"])


def test_node_storage(api):
    real = capture("nodes-node-storage__home-assistant-core.json")
    assert assert_same_shape(real, api.nodes("pve1").storage.get(), ignore=set()) == len(real)
