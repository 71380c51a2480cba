"""``GET /cluster/metrics/export`` as pve-manager answers it (commit 14a22df3): PVE/API2/Cluster/MetricServer.pm
lines 309-480 (collection over the members, ``local-only``, ``node-list``, ``history``, ``start-time``, sorted by
time) over what PVE/PullMetric.pm makes of each pvestatd round (gauges and ``derive`` counters per node, guest and
storage; loads and counters of a guest only while it runs; 181 rounds kept)."""

from __future__ import annotations

import itertools

import proxmoxer
import pytest


@pytest.fixture
def pve(pve_cluster, pve_api):
    return pve_cluster, pve_api


def _by_id(metrics):
    found = {}
    for metric in metrics:
        found.setdefault(metric["id"], {})[metric["metric"]] = metric
    return found


def test_the_newest_round_agrees_with_cluster_resources(pve):
    _, client = pve
    metrics = client.cluster.metrics.export.get()["data"]
    assert [metric["timestamp"] for metric in metrics] == sorted(metric["timestamp"] for metric in metrics)
    found = _by_id(metrics)
    resources = client.cluster.resources.get()
    for entry in resources:
        if entry["type"] in ("qemu", "lxc"):
            guest = found[entry["id"]]
            assert guest["mem_total"]["value"] == entry["maxmem"] and guest["cpu_max"]["value"] == entry["maxcpu"]
            if entry["status"] == "running":
                assert guest["cpu_current"]["value"] == pytest.approx(entry["cpu"])
                assert guest["net_in"]["type"] == "derive"
                assert entry["netin"] - 20 * 10**6 < guest["net_in"]["value"] <= entry["netin"]
                assert 0 < entry["uptime"] - guest["uptime"]["value"] < 10
            else:
                assert "cpu_current" not in guest and guest["uptime"]["value"] == 0
        elif entry["type"] == "storage":
            storage = found[entry["id"]]
            assert (storage["disk_total"]["value"], storage["disk_used"]["value"]) == (entry["maxdisk"], entry["disk"])
        elif entry["type"] == "node":
            node = found[entry["id"]]
            assert node["mem_total"]["value"] == entry["maxmem"] and node["cpu_max"]["value"] == entry["maxcpu"]
            assert {metric["type"] for metric in node.values()} == {"gauge", "derive"}


def test_history_holds_181_rounds_ten_seconds_apart_and_start_time_cuts_it(pve):
    cluster, client = pve
    history = client.cluster.metrics.export.get(history=1)["data"]
    times = sorted({metric["timestamp"] for metric in history if metric["id"] == "node/pve1"})
    assert len(times) == 181 and {b - a for a, b in itertools.pairwise(times)} == {10}
    assert times[-1] > cluster.clock.now() - 10
    counters = [metric["value"] for metric in history if metric["id"] == "qemu/100" and metric["metric"] == "net_in"]
    assert counters == sorted(counters) and counters[0] < counters[-1]
    start = cluster.clock.now() - 60
    recent = client.cluster.metrics.export.get(history=1, **{"start-time": start})["data"]
    assert recent and all(metric["timestamp"] > start for metric in recent)
    assert len({metric["timestamp"] for metric in recent if metric["id"] == "node/pve1"}) == 6


def test_offline_members_are_skipped_and_unknown_ones_fail(pve):
    cluster, client = pve
    cluster.node("pve3").power_off()
    ids = {metric["id"] for metric in client.cluster.metrics.export.get()["data"]}
    assert "node/pve3" not in ids and "node/pve2" in ids
    only = {metric["id"].split("/")[1] for metric in client.cluster.metrics.export.get(**{"node-list": "pve2"})["data"]}
    assert only <= {"pve2", *(str(guest.vmid) for guest in cluster.guests_on("pve2"))}
    local = {metric["id"] for metric in client.cluster.metrics.export.get(**{"local-only": 1})["data"]}
    assert {entry for entry in local if entry.startswith("node/")} == {"node/pve1"}
    with pytest.raises(proxmoxer.ResourceException) as failure:
        client.cluster.metrics.export.get(**{"node-list": "pve1,nope"})
    assert failure.value.status_code == 500
    assert "Requested node-list contains unknown nodes - nope" in str(failure.value)
