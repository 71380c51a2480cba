"""prometheus-pve-exporter, the most used PVE exporter, scrapes the fake over HTTPS with all its default collectors.

The exporter reads ``/cluster/status``, ``/cluster/resources``, ``/version``, ``/cluster/backup-info/not-backed-up``,
``/cluster/config/qdevice`` and, for the node it is pointed at, ``/nodes/{node}/subscription``, the guests'
configs and the replication jobs. Any answer it cannot digest fails the scrape (a placeholder ``nextduedate`` once
made every scrape answer HTTP 500).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="prometheus-pve-exporter needs Python >= 3.11")

SCENARIOS = [
    pytest.param("default", marks=pytest.mark.pve_cluster("default", validate=True), id="default"),
    pytest.param("ha-three-node", marks=pytest.mark.pve_cluster("ha-three-node", validate=True), id="ha-three-node"),
]


def scrape(server) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """One scrape with every default collector (cluster=1, node=1), as ``/pve?target=...`` runs it."""
    pytest.importorskip("pve_exporter", reason="pip install 'pytest-pvemock[test]'")
    from prometheus_client.parser import text_string_to_metric_families
    from pve_exporter.collector import CollectorsOptions, collect_pve

    options = CollectorsOptions(*[True] * len(CollectorsOptions._fields))
    config = {"user": server.user, "password": server.password, "verify_ssl": str(server.ca_file)}
    text = collect_pve(config, f"127.0.0.1:{server.port}", True, True, options).decode()
    metrics: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            metrics[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return metrics


def by(metrics: dict[tuple[tuple[str, str], ...], float], label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for labels, value in metrics.items()}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_node_guest_and_storage_is_up_as_the_cluster_says(pve_server, scenario: Any) -> None:
    cluster = pve_server.cluster
    up = by(scrape(pve_server)["pve_up"], "id")
    assert {key: value for key, value in up.items() if key.startswith("node/")} == {
        f"node/{node.name}": 1.0 for node in cluster.nodes
    }
    assert {key: value for key, value in up.items() if key.startswith(("qemu/", "lxc/"))} == {
        guest.id: float(guest.running) for guest in cluster.guests
    }
    assert up[f"cluster/{cluster.name}"] == 1.0


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_info_sample_per_guest_with_its_node_and_name(pve_server, scenario: Any) -> None:
    info = scrape(pve_server)["pve_guest_info"]
    seen = sorted((labels["id"], labels["node"], labels["name"]) for labels in map(dict, info))
    assert seen == sorted((guest.id, guest.node, guest.name) for guest in pve_server.cluster.guests)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_ha_guest_has_exactly_its_requested_ha_state(pve_server, scenario: Any) -> None:
    cluster = pve_server.cluster
    states: dict[str, list[str]] = defaultdict(list)
    for labels, value in scrape(pve_server)["pve_ha_state"].items():
        if value == 1.0:
            states[dict(labels)["id"]].append(dict(labels)["state"])
    expected = {}
    for resource in cluster.ha_resources:
        kind, vmid = resource["sid"].split(":")
        expected[f"{'qemu' if kind == 'vm' else 'lxc'}/{vmid}"] = [resource.get("state", "started")]
    expected.update({f"node/{node.name}": ["online"] for node in cluster.nodes} if cluster.ha_resources else {})
    assert dict(states) == expected


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_storage_sizes_add_up(pve_server, scenario: Any) -> None:
    metrics = scrape(pve_server)
    size, used = by(metrics["pve_disk_size_bytes"], "id"), by(metrics["pve_disk_usage_bytes"], "id")
    shared = {dict(labels)["id"]: value for labels, value in metrics["pve_storage_shared"].items()}
    storages = [key for key in size if key.startswith("storage/")]
    assert len(storages) == sum(len(pve_server.cluster.storages_on(node.name)) for node in pve_server.cluster.nodes)
    for key in storages:
        assert 0 < used[key] < size[key], key
    seen: dict[str, tuple[float, float]] = {}
    for key in storages:
        name = key.rsplit("/", 1)[1]
        if shared[key]:
            assert seen.setdefault(name, (size[key], used[key])) == (size[key], used[key]), "a shared storage differs"
    for node in pve_server.cluster.nodes:
        assert 0 < used[f"node/{node.name}"] < size[f"node/{node.name}"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_subscription_matches_the_nodes_support_level(pve_server, scenario: Any) -> None:
    cluster = pve_server.cluster
    metrics = scrape(pve_server)
    node = cluster.nodes[0]
    status = {key: value for key, value in by(metrics["pve_subscription_status"], "status").items() if value}
    assert status == {"active": 1.0}
    assert by(metrics["pve_subscription_info"], "level") == {node.level: 1.0}
    assert by(metrics["pve_subscription_next_due_timestamp_seconds"], "id")[f"node/{node.name}"] > cluster.clock.now()


@pytest.mark.pve_cluster("default")
def test_a_node_without_subscription_reports_notfound_and_no_due_date(pve_server) -> None:
    # pve-manager PVE/API2/Subscription.pm lines 219-228 (commit 14a22df3): no key -> status "notfound", no dates
    with pve_server.lock:
        for node in pve_server.cluster.nodes:
            node.level = ""
    metrics = scrape(pve_server)
    assert {key for key, value in by(metrics["pve_subscription_status"], "status").items() if value} == {"notfound"}
    assert by(metrics["pve_subscription_info"], "level") == {"unknown": 1.0}
    assert not metrics.get("pve_subscription_next_due_timestamp_seconds")


@pytest.mark.pve_cluster("default")
def test_not_backed_up_follows_the_backup_jobs(pve_server) -> None:
    # pve-manager PVE/API2/Cluster/BackupInfo.pm lines 101-140 and PVE/VZDump.pm get_included_guests (14a22df3)
    import proxmoxer

    cluster = pve_server.cluster
    api = proxmoxer.ProxmoxAPI(
        f"127.0.0.1:{pve_server.port}",
        user=pve_server.user,
        password=pve_server.password,
        verify_ssl=str(pve_server.ca_file),
    )
    before = by(scrape(pve_server)["pve_not_backed_up_info"], "id")
    assert set(before) == {guest.id for guest in cluster.guests}
    api.cluster.backup.post(id="nightly", schedule="21:00", storage="nas", vmid="100,110", enabled=0)
    api.cluster.backup.post(id="pve3", schedule="sun 02:00", storage="nas", all=1, node="pve3", exclude="111")
    metrics = scrape(pve_server)
    after = by(metrics["pve_not_backed_up_info"], "id")
    covered = {"qemu/100", "lxc/110"} | {guest.id for guest in cluster.guests if guest.node == "pve3"} - {"lxc/111"}
    assert set(after) == {guest.id for guest in cluster.guests} - covered
    assert by(metrics["pve_not_backed_up_total"], "id") == {f"cluster/{cluster.name}": float(len(after))}
