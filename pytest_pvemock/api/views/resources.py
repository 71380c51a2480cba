"""``GET /cluster/resources`` and the entries other endpoints share (nodes, storages, pools, pool members).

One list, every view consistent: each entry is rendered from the model's facts at the cluster's current moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.views.cache import ViewCache, view_cache
from pytest_pvemock.model.sdn import zone_status

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.nodes.node import Node
    from pytest_pvemock.model.pools import Pool
    from pytest_pvemock.model.storage import Storage


def cluster_resources(cluster: FakeCluster, kind: str | None = None, ordered: bool = False) -> list[dict[str, Any]]:
    """``GET /cluster/resources`` (``kind``: vm, node, storage, pool, sdn).

    ``ordered=True`` gives each entry its per-object key order (see :mod:`pytest_pvemock.model.key_order`). The
    entries are kept until the cluster's view key moves (:mod:`.cache`); do not change them.
    """
    cache = view_cache(cluster)
    return list(cache.answer(("resources", kind, ordered), lambda: _resources(cluster, cache, kind, ordered)))


def cluster_resources_answer(
    cluster: FakeCluster, kind: str | None = None
) -> tuple[list[dict[str, Any]], tuple[Any, ...] | None]:
    """What ``GET /cluster/resources`` answers (ordered entries) and its snapshot: a value equal for equal
    answers (``None``: not known), so that the app encodes and validates each answer once."""
    cache = view_cache(cluster)
    rows = list(cache.answer(("resources", kind, True), lambda: _resources(cluster, cache, kind, True)))
    return rows, None if cache.key is None else (cache, cache.key, kind)


def _resources(cluster: FakeCluster, cache: ViewCache, kind: str | None, ordered: bool) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    now = cluster.clock.now()
    if kind in (None, "vm"):
        rows = cache.steady_part("guests", lambda: [_guest_row(cluster, cache, guest) for guest in cluster.guests])
        entries.extend(row.at(now, ordered, cluster) for row in rows)
    others: list[dict[str, Any]] = []
    if kind in (None, "node"):
        loads = cache.steady_part("loads", cluster.guest_loads)
        others.extend(node_resource(cluster, node, loads.get(node.name, (0, 0.0))) for node in cluster.nodes)
    if kind in (None, "storage"):
        others.extend(cache.steady_part("storage", lambda: _storage_entries(cluster)))
    if kind in (None, "pool"):
        others.extend(pool_resource(cluster, pool) for pool in cluster.pools)
    if kind in (None, "sdn"):
        others.extend(cache.steady_part("sdn", lambda: _sdn_entries(cluster)))
    if ordered:
        apply = cluster.key_order.apply
        others = [apply(entry, entry["id"]) for entry in others]
    entries.extend(others)
    return entries


class GuestRow:
    """A guest's ``/cluster/resources`` entry with the figures that grow with its uptime set aside: the entry at
    any moment of the same run is a copy with ``uptime`` and those counters (``Guest.usage_counters``) filled in.
    """

    __slots__ = ("counters", "entry", "identity", "ordered", "started_at")

    def __init__(self, entry: dict[str, Any], started_at: int, counters: tuple[tuple[str, int, float], ...]) -> None:
        self.entry = entry
        self.identity: str = entry["id"]
        self.ordered: dict[str, Any] | None = None  # the entry in its per-object key order, made when first asked
        self.started_at = started_at
        self.counters = counters

    def at(self, now: int, ordered: bool, cluster: FakeCluster) -> dict[str, Any]:
        """The entry at ``now`` (shared while nothing in it moves: do not change it)."""
        entry = self.entry
        if ordered:
            entry = self.ordered or self._order(cluster)
        if not self.counters:
            return entry
        fresh = entry.copy()
        uptime = now - self.started_at if now > self.started_at else 0
        fresh["uptime"] = uptime
        for key, start, rate in self.counters:
            fresh[key] = start + int(rate * uptime)
        return fresh

    def _order(self, cluster: FakeCluster) -> dict[str, Any]:
        ordered = self.ordered = cluster.key_order.apply(self.entry, self.identity)
        return ordered


def guest_resource(cluster: FakeCluster, guest: Guest) -> dict[str, Any]:
    """The guest as ``/cluster/resources`` lists it (QUIRKS §2.3); only its identity while its node is offline."""
    return dict(_guest_row(cluster, view_cache(cluster), guest).at(cluster.clock.now(), False, cluster))


def _guest_row(cluster: FakeCluster, cache: ViewCache, guest: Guest) -> GuestRow:
    """The guest's row, reused while nothing it shows but the clock changed."""
    node = cluster.find_node(guest.node)
    online = node is not None and node.online
    pool = guest.pool
    hastate = guest.hastate
    running = guest.running and online
    state = (
        online,
        guest.run_figures() if running else None,
        guest.state_key(),
        guest.maxcpu,  # a container without ``cores`` shows its node's
        pool,
        hastate,
        cluster.version,
    )
    cached = cache.rows.get(guest.id)
    if cached is not None and cached[0][0] is guest and cached[0][1] == state:
        row: GuestRow = cached[1]
        return row
    if not online:
        row = GuestRow(_unknown_guest_resource(guest, hastate, pool), 0, ())
    else:
        row = GuestRow(_build_guest_resource(cluster, guest, hastate, pool), guest.started_at, guest.usage_counters())
    cache.rows[guest.id] = ((guest, state), row)
    return row


def _build_guest_resource(cluster: FakeCluster, guest: Guest, hastate: str | None, pool: str | None) -> dict[str, Any]:
    name, template, maxmem, maxdisk = guest.config_figures()
    entry: dict[str, Any] = {
        "id": guest.id,
        "vmid": guest.vmid,
        "node": guest.node,
        "type": guest.kind,
        "status": guest.status,
        "name": name,
        "uptime": guest.uptime(),
        "template": template,
        "maxcpu": guest.maxcpu,
        "maxmem": maxmem,
        "maxdisk": maxdisk,
        **guest.usage(),
    }
    if cluster.has("memhost"):
        entry["memhost"] = guest.memhost(entry["mem"])
    _add_optional(guest, entry, hastate, pool)
    return entry


def _unknown_guest_resource(guest: Guest, hastate: str | None, pool: str | None) -> dict[str, Any]:
    """The entry of a guest whose node has no fresh figures (offline): only its identity."""
    entry: dict[str, Any] = {"id": guest.id, "vmid": guest.vmid, "node": guest.node, "type": guest.kind}
    entry["status"] = "unknown"
    _add_optional(guest, entry, hastate, pool)
    return entry


def _add_optional(guest: Guest, entry: dict[str, Any], hastate: str | None, pool: str | None) -> None:
    if hastate:
        entry["hastate"] = hastate
    if guest.lock:
        entry["lock"] = guest.lock
    if guest.config.get("tags"):
        entry["tags"] = ";".join(guest.tags)
    if pool:
        entry["pool"] = pool


def node_resource(cluster: FakeCluster, node: Node, load: tuple[int, float] | None = None) -> dict[str, Any]:
    """The node's ``/cluster/resources`` entry; ``load``: its guests' (memory, CPU in cores), when already known."""
    if load is None:
        load = cluster.guest_loads(node.name).get(node.name)
    guests_mem, guests_cpu = load if load is not None else (0, 0.0)
    entry = node.resource_entry(cluster.clock.now(), guests_mem, guests_cpu)
    entry["cgroup-mode"] = 2
    if cluster.ha_provider is not None:
        hastate = cluster.ha_provider.node_hastate(node)
        if hastate:
            entry["hastate"] = hastate
    return entry


def storage_resource(
    cluster: FakeCluster, storage: Storage, node: Node, allocations: dict[tuple[str, str | None], int] | None = None
) -> dict[str, Any]:
    """A storage as ``/cluster/resources`` lists it on ``node``; ``allocations``: ``cluster.allocations()``."""
    entry: dict[str, Any] = {
        "id": f"storage/{node.name}/{storage.storage}",
        "storage": storage.storage,
        "node": node.name,
        "type": "storage",
        "plugintype": storage.plugintype,
        "status": "available" if node.online else "unknown",
        "shared": int(storage.shared),
        "content": storage.content_text,
    }
    if node.online:
        total, used, _avail = cluster.storage_usage(storage.storage, node.name, allocations)
        entry["disk"] = used
        entry["maxdisk"] = total
    return entry


def _storage_entries(cluster: FakeCluster) -> list[dict[str, Any]]:
    allocations = cluster.allocations()
    return [
        storage_resource(cluster, storage, node, allocations)
        for node in cluster.nodes
        for storage in cluster.storages_on(node.name)
        if storage.enabled
    ]


def pool_resource(cluster: FakeCluster, pool: Pool) -> dict[str, Any]:
    """A pool as ``/cluster/resources`` lists it: the sums over its running guests."""
    entry: dict[str, Any] = {"id": f"/pool/{pool.poolid}", "pool": pool.poolid, "type": "pool"}
    guests = (cluster.find_guest(vmid) for vmid in pool.vmids)
    running = [guest for guest in guests if guest is not None and guest.running]
    if running:
        usages = [guest.usage() for guest in running]
        entry["cpu"] = float(f"{sum(float(usage['cpu']) for usage in usages):.15g}")
        entry["maxcpu"] = sum(guest.maxcpu for guest in running)
        entry["mem"] = sum(usage["mem"] for usage in usages)
        entry["maxmem"] = sum(guest.maxmem for guest in running)
        entry["uptime"] = max(guest.uptime() for guest in running)
    return entry


def pool_members(cluster: FakeCluster, pool: Pool) -> list[dict[str, Any]]:
    """``GET /pools/{poolid}`` members: its guests' entries, then its storages' on every node that has them."""
    guests = (cluster.find_guest(vmid) for vmid in pool.vmids)
    members = [guest_resource(cluster, guest) for guest in guests if guest is not None]
    for storage_id in pool.storages:
        storage = cluster.storage(storage_id)
        if storage is None:
            continue
        members.extend(
            storage_resource(cluster, storage, node) for node in cluster.nodes if storage.available_on(node.name)
        )
    return members


def _sdn_entries(cluster: FakeCluster) -> list[dict[str, Any]]:
    """The default ``localnetwork`` zone on every node, then the applied zones each online node reports (pvestatd
    ``update_network_status``/``update_sdn_status`` broadcast ``Zones::status``; pve-manager PVE/API2/Cluster.pm
    resources 660-720 and PVE/Service/pvestatd.pm 773-800, commit 14a22df3)."""
    network = cluster.has("resources-network-type")
    entries: list[dict[str, Any]] = []
    for node in cluster.nodes:
        if network:
            entries.append(
                {
                    "id": f"network/{node.name}/zone/localnetwork",
                    "type": "network",
                    "network-type": "zone",
                    "network": "localnetwork",
                    "status": "ok",
                    "node": node.name,
                }
            )
        else:
            entries.append(
                {
                    "id": f"sdn/{node.name}/localnetwork",
                    "sdn": "localnetwork",
                    "status": "ok",
                    "type": "sdn",
                    "node": node.name,
                }
            )
    for node in sorted((node for node in cluster.nodes if node.online), key=lambda node: node.name):
        zones, _vnets = zone_status(cluster, node.name)
        for zone, state in sorted(zones.items()):
            if network:
                entry = {"id": f"network/{node.name}/zone/{zone}", "node": node.name, "type": "network"}
                entry.update({"network-type": "zone", "network": zone, "status": state["status"]})
            else:
                entry = {"id": f"sdn/{node.name}/{zone}", "sdn": zone, "node": node.name, "type": "sdn"}
                entry["status"] = state["status"]
            if state.get("zone-type"):
                entry["zone-type"] = state["zone-type"]
            entries.append(entry)
    return entries
