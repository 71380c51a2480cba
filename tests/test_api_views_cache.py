"""The views' cache (api/views/cache.py) never answers with a stale entry: after every kind of change, and with
the clock moving in between, /cluster/resources equals what a fresh copy of the cluster (an empty cache)
renders."""

from __future__ import annotations

import contextlib
import copy
import random

import pytest

from pytest_pvemock.api.views.resources import cluster_resources, guest_resource
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.cluster import FakeCluster


def fresh(cluster: FakeCluster, ordered: bool) -> list[dict]:
    return cluster_resources(copy.deepcopy(cluster), ordered=ordered)


def changes(cluster: FakeCluster) -> list:
    vm, ct = cluster.guest(100), cluster.guest(110)
    return [
        lambda: cluster.clock.advance(1),
        lambda: cluster.clock.advance(37),
        lambda: vm.stop() if vm.running else vm.start(),
        lambda: ct.stop() if ct.running else ct.start(),
        lambda: vm.suspend() if vm.run_state == "running" else vm.resume(),
        lambda: vm.config.update(tags="edited", cores=3),
        lambda: ct.config.pop("cores", None),
        lambda: cluster.pool("prod").vmids.append(102) if 102 not in cluster.pool("prod").vmids else None,
        lambda: setattr(cluster.node("pve3"), "online", not cluster.node("pve3").online),
        lambda: cluster.ha.add_resource("vm:101") if not cluster.ha.resource("vm:101") else None,
        lambda: cluster.add_vm(max(g.vmid for g in cluster.guests) + 1, node="pve2", status="running"),
        lambda: cluster.guest(103).migrate("pve1", online=True),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_resources_after_changes_and_clock_moves_equal_a_fresh_render(seed):
    cluster = FakeCluster.default(task_mode="instant")
    pick = random.Random(seed)
    steps = changes(cluster)
    for _ in range(40):
        with contextlib.suppress(PVEError):  # a PVE refusal (not running, locked, HA ...) is a step too
            pick.choice(steps)()
        ordered = pick.random() < 0.5
        assert cluster_resources(cluster, ordered=ordered) == fresh(cluster, ordered)
        if ordered:
            assert [list(row) for row in cluster_resources(cluster, ordered=True)] == [
                list(row) for row in fresh(cluster, True)
            ]


def test_a_running_guests_entry_moves_with_the_clock_only_in_its_counters():
    cluster = FakeCluster.default()
    before = guest_resource(cluster, cluster.guest(100))
    cluster.clock.advance(10)
    after = guest_resource(cluster, cluster.guest(100))
    moved = {key for key in before if before[key] != after[key]}
    assert moved == {"uptime", "netin", "netout", "diskread", "diskwrite"}
    assert after["uptime"] == before["uptime"] + 10
