"""YAML scenarios: the built-ins load, and a broken file is reported with its name, line and problem."""

from __future__ import annotations

import os
import time

import pytest

from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.scenario import ScenarioError, builtin_scenarios


def test_builtin_scenarios_are_shipped():
    assert {"default", "single-node", "ha-three-node", "empty-ha"} <= set(builtin_scenarios())


@pytest.mark.parametrize("name", ["default", "single-node", "ha-three-node", "empty-ha"])
def test_every_builtin_scenario_builds(name):
    cluster = FakeCluster.from_scenario(name)
    assert cluster.nodes and cluster.guests


def test_default_scenario_shape():
    cluster = FakeCluster.default()
    assert [node.name for node in cluster.nodes] == ["pve1", "pve2", "pve3"]
    assert cluster.vms and cluster.containers and cluster.pools
    assert {storage.storage for storage in cluster.storages} >= {"local", "local-lvm", "nas"}
    assert any(storage.shared for storage in cluster.storages)


def test_ha_scenario_keeps_resources_as_data_and_empty_ha_has_none():
    assert [res["sid"] for res in FakeCluster.from_scenario("ha-three-node").ha_resources][:2] == ["vm:100", "vm:101"]
    assert FakeCluster.from_scenario("empty-ha").ha_resources == []


def test_overrides_replace_the_files_cluster_settings():
    cluster = FakeCluster.from_scenario("default", version="8.4", task_mode="manual")
    assert cluster.version == "8.4" and cluster.clock.task_mode == "manual"


def write(tmp_path, text):
    path = tmp_path / "lab.yaml"
    path.write_text(text)
    return path


def test_unknown_key_is_reported_with_file_and_line(tmp_path):
    path = write(tmp_path, "nodes:\n  - name: pve1\n    cpu: 4\n")
    with pytest.raises(ScenarioError) as error:
        FakeCluster.from_scenario(path)
    assert str(error.value).startswith(f"{path}, line 3: unknown key 'cpu' in a node")


def test_guest_on_unknown_node_is_reported(tmp_path):
    path = write(tmp_path, "nodes:\n  - {name: pve1}\nguests:\n  - vmid: 100\n    node: pve9\n")
    with pytest.raises(ScenarioError, match=r"line 5: guest 100 is on unknown node 'pve9'"):
        FakeCluster.from_scenario(path)


def test_wrong_type_is_reported(tmp_path):
    path = write(tmp_path, "nodes:\n  - {name: pve1}\nguests:\n  - {vmid: 100, cores: many}\n")
    with pytest.raises(ScenarioError, match=r"line 4: 'cores' of guest 100 must be int"):
        FakeCluster.from_scenario(path)


def test_duplicate_vmid_is_reported(tmp_path):
    path = write(tmp_path, "nodes:\n  - {name: pve1}\nguests:\n  - {vmid: 100}\n  - {vmid: 100}\n")
    with pytest.raises(ScenarioError, match=r"line 5: VM 100 already exists on node 'pve1'"):
        FakeCluster.from_scenario(path)


def test_invalid_yaml_is_reported_with_line(tmp_path):
    path = write(tmp_path, "nodes:\n  - {name: pve1\n")
    with pytest.raises(ScenarioError, match=r"lab.yaml, line \d+: invalid YAML"):
        FakeCluster.from_scenario(path)


def test_unknown_builtin_lists_the_builtins():
    with pytest.raises(ScenarioError, match=r"no such built-in scenario .*default"):
        FakeCluster.from_scenario("nope")


def test_users_and_tokens_from_a_scenario(tmp_path):
    path = write(
        tmp_path,
        "nodes: [{name: pve1}]\nusers:\n  - userid: ci@pve\n    password: pw\n"
        "    tokens: [{tokenid: deploy, secret: 11111111-2222-4333-8444-555555555555}]\n",
    )
    cluster = FakeCluster.from_scenario(path)
    assert cluster.access.check_password("ci@pve", "pw") == "ci@pve"
    assert cluster.access.check_token("ci@pve", "deploy", "11111111-2222-4333-8444-555555555555")


def test_a_scenario_file_changed_between_builds_is_read_again(tmp_path):
    path = write(tmp_path, "nodes:\n  - {name: pve1}\nguests:\n  - {vmid: 100, status: running}\n")
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    assert FakeCluster.from_scenario(path).guest(100).running  # an old file: its text is kept
    path.write_text("nodes:\n  - {name: pve1}\nguests:\n  - {vmid: 100, status: stopped}\n")
    assert not FakeCluster.from_scenario(path).guest(100).running
    stamp = path.stat().st_mtime_ns
    path.write_text("nodes:\n  - {name: pve1}\nguests:\n  - {vmid: 101, status: stopped}\n")  # same size
    os.utime(path, ns=(stamp, stamp))  # and the same time stamp, as a coarse file system gives within one tick
    assert FakeCluster.from_scenario(path).guest(101) is not None
