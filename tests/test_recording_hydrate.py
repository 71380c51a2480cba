"""``FakeCluster.from_cassette``: a mutable fake cluster from what a real cluster answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.clients import proxmoxer_client as client

from pytest_pvemock import FakeCluster
from pytest_pvemock.cassette.file_format import response_document
from pytest_pvemock.mocking import mock

EXAMPLES = Path(__file__).resolve().parent.parent / "cassettes"

proxmoxer = pytest.importorskip("proxmoxer")


def answer(path: str, data: object) -> dict:
    return {
        "request": {"method": "GET", "uri": f"https://pve1.lan:8006/api2/json{path}", "body": None, "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"json": {"data": data}}},
    }


def cassette(tmp_path: Path, *interactions: dict) -> Path:
    path = tmp_path / "recorded.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "interactions": list(interactions)}, sort_keys=False))
    return path


def recorded_data(path: Path, uri_end: str):
    for item in yaml.safe_load(path.read_text())["interactions"]:
        if item["request"]["uri"].endswith(uri_end):
            return response_document(item["response"])["data"]
    raise LookupError(uri_end)


def test_the_example_recording_becomes_a_cluster_that_answers_like_it():
    path = EXAMPLES / "pve8-captures.yaml"
    recorded_vms = recorded_data(path, "/cluster/resources?type=vm")

    cluster = FakeCluster.from_cassette(path)

    assert (cluster.name, cluster.version) == ("clustername", "8.4.1")  # the recorded release
    assert [node.name for node in cluster.nodes] == ["node1", "node2", "node3", "node4"]
    with mock(cluster, validate=True):
        api = client(cluster)
        vms = api.cluster.resources.get(type="vm")
        nodes = {row["name"]: row for row in api.cluster.status.get() if row["type"] == "node"}
        assert api.pools("testpool").get()["comment"] == "Test pool"
        storages = {row["storage"] for row in api.nodes("node1").storage.get()}
    assert {(row["vmid"], row["node"], row["status"]) for row in vms} == {
        (row["vmid"], row["node"], row["status"]) for row in recorded_vms
    }
    assert {row["name"] for row in vms} == {row["name"] for row in recorded_vms}
    assert nodes["node3"]["ip"] == "192.168.1.3"
    assert storages == {"local", "local-zfs", "cloud-init"}


def test_the_hydrated_cluster_can_be_changed_and_stays_consistent():
    cluster = FakeCluster.from_cassette(EXAMPLES / "pve8-captures.yaml")

    with mock(cluster, validate=True):
        api = client(cluster)
        api.nodes("node1").qemu(102).status.start.post()
        assert api.nodes("node1").qemu(102).status.current.get()["status"] == "running"
        assert {row["vmid"]: row["status"] for row in api.cluster.resources.get(type="vm")}[102] == "running"


def test_a_recording_of_the_fake_hydrates_into_the_same_cluster():
    original = FakeCluster.default()

    hydrated = FakeCluster.from_cassette(EXAMPLES / "fake-default.yaml")

    assert [node.name for node in hydrated.nodes] == [node.name for node in original.nodes]
    assert [(g.vmid, g.kind, g.node, g.config.get("name", g.config.get("hostname"))) for g in hydrated.guests] == [
        (g.vmid, g.kind, g.node, g.config.get("name", g.config.get("hostname"))) for g in original.guests
    ]
    assert {s.storage for s in hydrated.storages} == {s.storage for s in original.storages}
    assert {p.poolid: sorted(p.vmids) for p in hydrated.pools} == {p.poolid: sorted(p.vmids) for p in original.pools}


def test_configs_pools_storage_and_ha_come_from_the_recording(tmp_path):
    config = {
        "cores": 3,
        "memory": "3072",
        "name": "db01",
        "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0",
        "scsi0": "ceph:vm-100-disk-0,size=40G",
        "digest": "0" * 40,
    }
    path = cassette(
        tmp_path,
        answer("/version", {"version": "9.1.2", "release": "9.1", "repoid": "0123456789abcdef"}),
        answer(
            "/nodes",
            [
                {"node": "pve1", "status": "online", "maxcpu": 8, "maxmem": 34359738368},
                {"node": "pve2", "status": "offline"},
            ],
        ),
        answer("/storage", [{"storage": "ceph", "type": "rbd", "content": "images,rootdir", "shared": 1}]),
        answer("/nodes/pve1/qemu", [{"vmid": 100, "name": "db01", "status": "running", "cpus": 3}]),
        answer("/nodes/pve1/lxc", [{"vmid": "101", "name": "web", "status": "stopped", "type": "lxc"}]),
        answer("/nodes/pve1/qemu/100/config", config),
        answer("/pools", [{"poolid": "prod", "comment": "Production"}]),
        answer("/pools/prod", {"comment": "Production", "members": [{"type": "lxc", "vmid": 101, "id": "lxc/101"}]}),
        answer("/cluster/ha/resources", [{"sid": "vm:100", "state": "started", "type": "vm"}]),
        answer("/cluster/ha/groups", [{"group": "pref", "nodes": "pve1:2,pve2:1", "type": "group"}]),
    )

    cluster = FakeCluster.from_cassette(path)

    assert cluster.version == "9.1.2"  # the recorded release
    assert cluster.node("pve1").maxcpu == 8 and not cluster.node("pve2").online
    assert cluster.storage("ceph").shared and cluster.storage("ceph").plugintype == "rbd"
    vm = cluster.guest(100)
    assert (vm.kind, vm.status, vm.config["cores"], vm.config["net0"]) == ("qemu", "running", 3, config["net0"])
    assert vm.config["scsi0"] == "ceph:vm-100-disk-0,size=40G"
    assert cluster.guest(101).kind == "lxc" and cluster.pool_of(101) == "prod"
    assert cluster.ha_resources == [{"sid": "vm:100", "state": "started", "type": "vm"}]
    assert cluster.ha_groups[0]["group"] == "pref"


def test_ha_resources_are_derived_from_the_ha_status_when_not_recorded(tmp_path):
    path = cassette(
        tmp_path,
        answer(
            "/cluster/resources",
            [
                {
                    "id": "qemu/100",
                    "type": "qemu",
                    "vmid": 100,
                    "node": "pve1",
                    "status": "running",
                    "hastate": "started",
                }
            ],
        ),
        answer(
            "/cluster/ha/status/current",
            [
                {
                    "id": "service:vm:100",
                    "type": "service",
                    "sid": "vm:100",
                    "state": "started",
                    "request_state": "started",
                    "max_restart": 2,
                }
            ],
        ),
    )

    cluster = FakeCluster.from_cassette(path)

    assert cluster.ha_resources == [{"sid": "vm:100", "state": "started", "max_restart": 2}]


def test_what_the_recording_lacks_gets_the_fakes_defaults(tmp_path):
    path = cassette(tmp_path, answer("/nodes", [{"node": "solo", "status": "online"}]))

    cluster = FakeCluster.from_cassette(path, seed=7)

    assert cluster.version == "9.1.5"  # nothing recorded: the latest release
    assert [node.name for node in cluster.nodes] == ["solo"]
    assert cluster.guests == [] and cluster.pools == []
    assert cluster.node("solo").maxcpu > 0


def test_a_plain_vcrpy_cassette_in_json_works_too(tmp_path):
    interaction = answer("/nodes", [{"node": "pve7", "status": "online"}])
    interaction["response"]["body"] = {"string": json.dumps({"data": [{"node": "pve7", "status": "online"}]})}
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"version": 1, "interactions": [interaction]}))

    assert [node.name for node in FakeCluster.from_cassette(path).nodes] == ["pve7"]


def test_a_broken_cassette_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ninteractions:\n  - request: [\n")

    with pytest.raises(ValueError, match=r"broken\.yaml:\d+: not valid YAML"):
        FakeCluster.from_cassette(path)
