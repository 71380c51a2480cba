"""One builder: a plain ClusterSpec, made in code, from a scenario file or from a cluster, builds the cluster."""

from __future__ import annotations

import pytest
import yaml

from pytest_pvemock import FakeCluster, PVEError
from pytest_pvemock.model.builders.scenario import ScenarioError, scenario_data, scenario_spec, spec_from_text
from pytest_pvemock.model.builders.spec import (
    ClusterSpec,
    GuestSpec,
    HASpec,
    NodeSpec,
    PoolSpec,
    StorageSpec,
    TokenSpec,
    UserSpec,
    spec_from_cluster,
)

SCENARIO = """
cluster: {name: lab, seed: 3}
nodes: [{name: pve1, cpus: 8}, {name: pve2}]
storage: [{storage: tank, type: zfspool, content: [images, rootdir]}]
pools: [{poolid: prod, comment: Production}]
guests:
  - {vmid: 100, type: qemu, node: pve1, name: web01, status: running, pool: prod, storage: tank}
  - {vmid: 200, type: lxc, node: pve2, name: dns, storage: tank}
users: [{userid: ci@pve, password: secret99, tokens: [{tokenid: deploy, secret: 0b5e1c4a-8f3e-4d7b-9a61-2c3d4e5f6a7b}]}]
ha: {resources: [{sid: "vm:100", state: started}]}
"""


def facts(cluster: FakeCluster) -> dict[str, object]:
    """What a user of the cluster sees of its state."""
    return {
        "nodes": [(node.name, node.ip, node.maxcpu, node.maxmem, node.maxdisk, node.online) for node in cluster.nodes],
        "storages": [
            (storage.storage, storage.plugintype, storage.content, storage.total, storage.base_used)
            for storage in cluster.storages
        ],
        "pools": [(pool.poolid, pool.comment, pool.vmids) for pool in cluster.pools],
        "guests": [(guest.vmid, guest.kind, guest.node, guest.status, dict(guest.config)) for guest in cluster.guests],
        "users": sorted(cluster.access.users),
        "ha": cluster.ha_resources,
    }


def test_a_spec_written_in_code_builds_what_the_same_scenario_builds():
    spec = ClusterSpec(
        settings={"name": "lab", "seed": 3},
        nodes=[NodeSpec("pve1", cpus=8), NodeSpec("pve2")],
        storages=[StorageSpec("tank", plugintype="zfspool")],
        pools=[PoolSpec("prod", "Production")],
        guests=[
            GuestSpec(100, "qemu", node="pve1", name="web01", status="running", pool="prod", storage="tank"),
            GuestSpec(200, "lxc", node="pve2", name="dns", storage="tank"),
        ],
        users=[
            UserSpec(
                "ci@pve", password="secret99", tokens=[TokenSpec("deploy", "0b5e1c4a-8f3e-4d7b-9a61-2c3d4e5f6a7b")]
            )
        ],
        ha=HASpec(resources=[{"sid": "vm:100", "state": "started"}]),
    )
    assert facts(FakeCluster.from_spec(spec)) == facts(FakeCluster.from_spec(spec_from_text(SCENARIO, "lab.yaml")))


def test_a_scenario_spec_builds_the_scenarios_cluster_and_names_it():
    cluster = FakeCluster.from_spec(scenario_spec("default"))
    assert cluster.scenario_name == "default"
    assert facts(cluster) == facts(FakeCluster.from_scenario("default"))


@pytest.mark.parametrize("scenario", ["default", "single-node", "ha-three-node"])
def test_a_cluster_comes_back_from_its_spec_and_from_the_scenario_file_written_of_it(scenario):
    cluster = FakeCluster.from_scenario(scenario)
    cluster.guests[0].config["description"] = "changed by a test"
    cluster.node(cluster.nodes[-1].name).go_offline()
    spec = spec_from_cluster(cluster)
    assert facts(FakeCluster.from_spec(spec)) == facts(cluster)
    text = yaml.safe_dump(scenario_data(spec), sort_keys=False)
    assert facts(FakeCluster.from_spec(spec_from_text(text, "dump.yaml"))) == facts(cluster)


def test_a_clusters_spec_never_holds_a_password_or_token_secret():
    cluster = FakeCluster.from_spec(spec_from_text(SCENARIO, "lab.yaml"))
    user = next(user for user in spec_from_cluster(cluster).users if user.userid == "ci@pve")
    assert (user.password, user.tokens[0].secret) == (None, None)
    assert "secret99" not in yaml.safe_dump(scenario_data(spec_from_cluster(cluster)))


def test_what_the_cluster_refuses_is_its_own_error_for_a_spec_in_code_and_file_and_line_for_a_file():
    twice = ClusterSpec(nodes=[NodeSpec("pve1")], guests=[GuestSpec(100, node="pve1"), GuestSpec(100, node="pve1")])
    with pytest.raises(PVEError, match="VM 100 already exists on node 'pve1'"):
        FakeCluster.from_spec(twice)
    text = "nodes: [{name: pve1}]\nguests:\n  - {vmid: 100}\n  - {vmid: 100}\n"
    with pytest.raises(ScenarioError, match=r"^lab.yaml, line 4: VM 100 already exists on node 'pve1'$"):
        FakeCluster.from_spec(spec_from_text(text, "lab.yaml"))


def test_building_leaves_the_spec_as_it_was():
    spec = spec_from_text(SCENARIO, "lab.yaml")
    first = FakeCluster.from_spec(spec)
    first.guest(100).config["cores"] = 7
    first.access.users["ci@pve"].groups.append("admins")
    assert facts(FakeCluster.from_spec(spec)) == facts(FakeCluster.from_spec(spec_from_text(SCENARIO, "lab.yaml")))
