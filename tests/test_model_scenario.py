"""YAML scenarios: the built-ins load, and a broken file is reported with its name, line and problem."""

from __future__ import annotations

import os
import time

import pytest

from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario import ScenarioError, builtin_scenarios
from pytest_pvemock.model.cluster import FakeCluster


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
    assert cluster.version == "8.4.2" and cluster.clock.task_mode == "manual"


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


NODE = "nodes:\n  - name: pve1\n"
GUEST = NODE + "guests:\n  - vmid: 100\n    node: pve1\n"

# Every value the model or the fake's answers would reject later fails at load, on its own line, in PVE's words
# where PVE checks it (the parameters of the create method: pve-ha-manager Resources.pm, qemu-server Qemu.pm,
# pve-container LXC.pm, pve-storage Storage.pm, pve-access-control User.pm/Pool.pm, pve-cluster ClusterConfig.pm).
BAD_VALUES = {
    "ha state": (
        GUEST + "ha:\n  resources:\n    - sid: vm:100\n      state: strated\n",
        "line 9: 'state' of HA resource 'vm:100': value 'strated' does not have a value in the enumeration "
        "'started, stopped, enabled, disabled, ignored'",
    ),
    "ha resource key": (
        GUEST + "ha:\n  resources:\n    - sid: vm:100\n      max_restarts: 2\n",
        "line 9: 'max_restarts' of HA resource 'vm:100': property is not defined in schema",
    ),
    "ha max_restart": (
        GUEST + "ha:\n  resources:\n    - sid: vm:100\n      max_restart: -1\n",
        "line 9: 'max_restart' of HA resource 'vm:100': value must have a minimum value of 0",
    ),
    "ha rule type": (
        GUEST + "ha:\n  rules:\n    - rule: r1\n      type: node-afinity\n      resources: vm:100\n",
        "line 9: 'type' of HA rule 'r1': value 'node-afinity' does not have a value in the enumeration",
    ),
    "ha group": (
        GUEST + "ha:\n  resources:\n    - sid: vm:100\n      group: edge\n",
        "line 9: HA group 'edge' does not exist (add it under 'groups')",
    ),
    "cluster name": ("cluster:\n  name: my lab\n" + NODE, "line 2: 'name' of 'cluster': invalid format"),
    "cluster start_time": ("cluster:\n  start_time: 99999999999\n" + NODE, "line 2: 'start_time' of 'cluster' must"),
    "node disk": (NODE + "    disk_gib: 1\n", "line 3: 'disk_gib' of node 'pve1' must be at least 4"),
    "node ip taken": (
        "nodes:\n  - {name: pve1, ip: 10.0.0.1}\n  - name: pve2\n    ip: 10.0.0.1\n",
        "line 4: node 'pve2' has the ip of node 'pve1' (10.0.0.1)",
    ),
    "guest memory": (
        GUEST + "    memory: 8\n",
        "line 6: 'memory' of guest 100: invalid format - format error; memory.",
    ),
    "guest disk": (GUEST + "    disk_gib: -5\n", "line 6: 'disk_gib' of guest 100 must be at least 1"),
    "guest storage": (GUEST + "    storage: tank\n", "line 6: guest 100 has its disk on unknown storage 'tank'"),
    "volume size": (
        NODE + "storage:\n  - storage: tank\n    volumes:\n      - name: iso/x.iso\n        size: -3\n",
        "line 7: 'size' of volume 'iso/x.iso' must be bytes (0 or more), not -3",
    ),
    "token secret": (
        NODE + "users:\n  - userid: ci@pve\n    tokens:\n      - tokenid: t1\n        secret: 5\n",
        "line 7: 'secret' of token 't1' of user 'ci@pve' must be str",
    ),
    "ha shutdown policy": (
        NODE + "ha:\n  shutdown_policy: sometimes\n",
        "line 4: shutdown_policy must be one of",
    ),
    "cluster version": (
        "cluster:\n  name: lab\n  version: 6.4\n" + NODE,
        "line 3: PVE version '6.4' is not a known release",
    ),
    "cluster task mode": ("cluster:\n  task_mode: fast\n" + NODE, "line 2: 'task_mode' of 'cluster' must be one of"),
    "cluster port": ("cluster:\n  port: 80000\n" + NODE, "line 2: 'port' of 'cluster' must be between 1 and 65535"),
    "cluster seed": ("cluster:\n  seed: [1]\n" + NODE, "line 2: 'seed' of 'cluster' must be an integer or a string"),
    "node name": (
        "nodes:\n  - name: pve_1\n",
        "line 2: 'name' of node 'pve_1': invalid format - value does not look",
    ),
    "node ip": (
        NODE + "    ip: 10.0.0.300\n",
        "line 3: 'ip' of node 'pve1': invalid format - value does not look",
    ),
    "node level": (NODE + "    level: gold\n", "line 3: 'level' of node 'pve1' must be one of '' (none), c, b, s, p"),
    "node memory": (NODE + "    memory_gib: 0\n", "line 3: 'memory_gib' of node 'pve1' must be at least 1"),
    "node online": (NODE + "    online: yes please\n", "line 3: 'online' of node 'pve1' must be bool"),
    "guest status": (GUEST + "    status: runing\n", "line 6: 'status' of guest 100 must be one of running, stopped"),
    "guest name": (GUEST + "    name: web_01\n", "line 6: 'name' of guest 100: invalid format - value does not"),
    "guest lock": (GUEST + "    lock: busy\n", "line 6: 'lock' of guest 100: value 'busy' does not have a value"),
    "guest tags": (GUEST + "    tags: ['a b!']\n", "line 6: 'tags' of guest 100: invalid format"),
    "guest vmid": (
        NODE + "guests:\n  - vmid: 42\n    node: pve1\n",
        "line 4: 'vmid' of guest 42: invalid format",
    ),
    "guest config": (
        GUEST + "    config:\n      ostype: windows\n",
        "line 7: 'ostype' of the config of guest 100: value 'windows' does not have a value in the enumeration",
    ),
    "container hostname": (
        NODE + "guests:\n  - vmid: 100\n    type: lxc\n    node: pve1\n    name: dns_01\n",
        "line 7: 'name' of guest 100: invalid format",
    ),
    "storage id": (NODE + "storage:\n  - storage: 1local\n", "line 4: 'storage' of storage '1local': invalid format"),
    "storage type": (
        NODE + "storage:\n  - storage: tank\n    type: zfs-pool\n",
        "line 5: 'type' of storage 'tank': value 'zfs-pool' does not have a value in the enumeration",
    ),
    "storage content": (
        NODE + "storage:\n  - storage: tank\n    content: [images, isos]\n",
        "line 5: 'content' of storage 'tank': invalid format - invalid content type 'isos'",
    ),
    "storage fraction": (
        NODE + "storage:\n  - storage: tank\n    used_fraction: 2\n",
        "line 5: 'used_fraction' of storage 'tank' must be between 0 and 1",
    ),
    "node cpus": (NODE + "    cpus: 0\n", "line 3: 'cpus' of node 'pve1' must be at least 1"),
    "guest template": (GUEST + "    template: 'yes'\n", "line 6: 'template' of guest 100 must be bool"),
    "snapshot name": (
        GUEST + "    snapshots:\n      - name: before upgrade\n",
        "line 7: 'name' of snapshot 'before upgrade' of guest 100: invalid format",
    ),
    "snapshot vmstate on a container": (
        NODE + "guests:\n  - vmid: 100\n    type: lxc\n    snapshots:\n      - name: s1\n        vmstate: true\n",
        "line 8: 'vmstate' of snapshot 's1' of guest 100: property is not defined in schema",
    ),
    "volume content": (
        NODE + "storage:\n  - storage: tank\n    volumes:\n      - name: iso/x.iso\n        content: isos\n",
        "line 7: 'content' of volume 'iso/x.iso': invalid format - invalid content type 'isos'",
    ),
    "pool id": (NODE + "pools:\n  - poolid: 'p@1'\n", "line 4: 'poolid' of pool 'p@1': invalid format"),
    "user id": (NODE + "users:\n  - userid: ci\n", "line 4: 'userid' of user 'ci': invalid format"),
    "user email": (
        NODE + "users:\n  - userid: ci@pve\n    email: nobody\n",
        "line 5: 'email' of user 'ci@pve': invalid format",
    ),
    "token id": (
        NODE + "users:\n  - userid: ci@pve\n    tokens:\n      - tokenid: 'bad token'\n",
        "line 6: 'tokenid' of token 'bad token' of user 'ci@pve': value does not match the regex pattern",
    ),
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_a_bad_value_fails_at_load_on_its_line(case):
    text, expected = BAD_VALUES[case]
    with pytest.raises(ScenarioError) as error:
        build_from_text(text, "lab.yaml")
    assert str(error.value).startswith(f"lab.yaml, {expected}"), str(error.value)


@pytest.mark.parametrize("text", ["", "# nothing\n", "cluster: {name: lab}\n", "nodes: []\n"])
def test_a_scenario_without_nodes_is_refused(text):
    with pytest.raises(ScenarioError, match=r"^lab.yaml(, line \d+)?: the scenario has no nodes"):
        build_from_text(text, "lab.yaml")


def test_values_passed_by_the_caller_are_not_blamed_on_the_file():
    with pytest.raises(ValueError) as error:
        FakeCluster.from_scenario("default", version="6")
    assert str(error.value).startswith(
        "scenarios/default.yaml built with version='6': PVE version '6' is not a known release: give a release "
        "(7.0-1 to 9.1.5), a minor such as 8.2 (its last release), a major such as 8 (its newest) or latest"
    )
