"""Views over the model: per-object key order, and cached /cluster/resources that never goes stale."""

from __future__ import annotations

from pytest_pvemock.api.views.resources import cluster_resources
from pytest_pvemock.model.cluster import FakeCluster


def key_orders(cluster: FakeCluster) -> list[tuple[str, ...]]:
    return [tuple(entry) for entry in cluster_resources(cluster, "vm", ordered=True)]


def test_key_order_differs_between_objects_and_repeats_between_runs():
    orders = key_orders(FakeCluster.default())
    assert len(set(orders)) > 1
    assert orders == key_orders(FakeCluster.default())


def test_key_order_can_be_switched_off():
    cluster = FakeCluster.default(shuffle_keys=False)
    orders = key_orders(cluster)
    assert {order[:6] for order in orders} == {("id", "vmid", "node", "type", "status", "name")}


def test_ordered_entries_hold_the_same_data():
    cluster = FakeCluster.default()
    assert cluster_resources(cluster, ordered=True) == cluster_resources(cluster)


def entry(cluster: FakeCluster, ident: str) -> dict:
    return next(row for row in cluster_resources(cluster, ordered=True) if row["id"] == ident)


def test_cached_resources_follow_direct_changes():
    cluster = FakeCluster.default()
    assert "tags" not in entry(cluster, "qemu/102")
    cluster.guest(102).config["tags"] = "edited"
    assert entry(cluster, "qemu/102")["tags"] == "edited"
    cluster.node("pve3").online = False
    assert entry(cluster, "node/pve3")["status"] == "offline"
    cluster.pool("prod").vmids.append(102)
    assert entry(cluster, "qemu/102")["pool"] == "prod"
    cluster.storage("nas").enabled = False
    assert all(row.get("storage") != "nas" for row in cluster_resources(cluster, ordered=True))


def test_cached_resources_follow_the_clock():
    cluster = FakeCluster.default(task_mode="manual")
    before = entry(cluster, "qemu/100")["uptime"]
    cluster.clock.advance(30)
    assert entry(cluster, "qemu/100")["uptime"] == before + 30


def test_cached_resources_follow_actions_and_rollback():
    cluster = FakeCluster.default()
    vm = cluster.guest(102)
    vm.snapshot("base")
    vm.set_config({"name": "renamed"})
    assert entry(cluster, "qemu/102")["name"] == "renamed"
    vm.rollback("base")
    assert entry(cluster, "qemu/102")["name"] == "build01"
    vm.start()
    assert entry(cluster, "qemu/102")["status"] == "running"


def test_usage_figures_do_not_depend_on_what_was_read_first():
    listed_first = FakeCluster.default()
    cluster_resources(listed_first)
    one_by_one = FakeCluster.default()
    for guest in reversed(one_by_one.guests):
        guest.usage()
    for cluster in (listed_first, one_by_one):
        cluster.clock.advance(45)
        cluster.guest(102).start()
    assert [guest.usage() for guest in one_by_one.guests] == [guest.usage() for guest in listed_first.guests]
    assert cluster_resources(one_by_one) == cluster_resources(listed_first)


def test_a_stopped_guests_entry_follows_changes_while_the_clock_moves():
    cluster = FakeCluster.default()
    ct = cluster.add_container(300, node="pve2", name="idle")
    ct.config.pop("cores")
    cluster.clock.advance(60)
    assert entry(cluster, "lxc/300")["maxcpu"] == cluster.node("pve2").maxcpu
    cluster.node("pve2").maxcpu = 4
    assert entry(cluster, "lxc/300")["maxcpu"] == 4
    ct.config["hostname"] = "renamed"
    cluster.clock.advance(60)
    assert entry(cluster, "lxc/300")["name"] == "renamed"
