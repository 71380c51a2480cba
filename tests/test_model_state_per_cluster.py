"""State that belongs to one cluster stays in it: HA service uids count per HA cluster, so two identical
clusters driven the same way answer the same (pve-ha-manager draws them at random: ``compute_new_uuid``,
src/PVE/HA/Manager.pm:387 at b71218f2; a process-wide counter made answers depend on the tests run before)."""

from __future__ import annotations

import pytest

pytest.importorskip("proxmoxer")

import proxmoxer

from pytest_pvemock import mock
from pytest_pvemock.model.cluster import FakeCluster


def ha_answers(cluster: FakeCluster) -> list:
    with mock(cluster):
        api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
        api.cluster.ha.resources("vm:100").put(state="stopped")
        cluster.clock.advance(30)
        api.cluster.ha.resources("vm:100").put(state="started")
        cluster.node("pve2").power_off()
        cluster.clock.advance(200)
        return [api.cluster.ha.status.manager_status.get(), api.cluster.ha.status.current.get()]


def test_two_identical_clusters_give_identical_ha_answers():
    first = ha_answers(FakeCluster.from_scenario("ha-three-node"))
    second = ha_answers(FakeCluster.from_scenario("ha-three-node"))
    uids = [sd["uid"] for sd in first[0]["manager_status"]["service_status"].values()]
    assert uids and all(uids)
    assert first == second
