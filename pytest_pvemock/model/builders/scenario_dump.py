"""A cluster as scenario YAML: what ``load_scenario`` reads back into the same cluster.

``scenario_of(cluster)`` writes the cluster's settings (its clock's current time as ``start_time``), nodes, storage
with its static volumes, pools, guests with their whole config, users and tokens, and the HA resources, groups and
rules, in the format of :mod:`pytest_pvemock.model.builders.scenario`. Sizes drawn from the seed at build time (node
memory and disk, storage size and use) are written so that the same seed draws them again to the same byte.

Not written: passwords and token secrets (unless ``secrets=True``: a scenario is a file, and a file is no place for
them), snapshots' own configs (a loaded snapshot takes the guest's config), pending changes, running tasks, and the
state only the API's collections keep (ACLs, groups, roles, firewall, SDN, backup jobs ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from pytest_pvemock.model import figures
from pytest_pvemock.model.nodes.node import GIB

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node
    from pytest_pvemock.model.storage import Storage


def scenario_of(cluster: FakeCluster, secrets: bool = False) -> dict[str, Any]:
    """The scenario (as plain data) that builds ``cluster`` as it is now; ``secrets`` adds passwords and tokens'
    secrets."""
    scenario: dict[str, Any] = {
        "description": f"Dumped from cluster {cluster.name} at {cluster.clock.now()}",
        "cluster": {
            "name": cluster.name,
            "version": cluster.version,
            "host": cluster.host,
            "port": cluster.port,
            "seed": cluster.seed,
            "timezone": cluster.timezone,
            "start_time": cluster.clock.now(),
            "task_mode": cluster.clock.task_mode,
            "shuffle_keys": cluster.key_order.enabled,
        },
        "nodes": [_node(cluster, node) for node in cluster.nodes],
        "storage": [_storage(cluster, storage) for storage in cluster.storages],
        "pools": [{"poolid": pool.poolid, "comment": pool.comment} for pool in cluster.pools],
        "guests": [_guest(cluster, guest) for guest in sorted(cluster.guests, key=lambda guest: guest.vmid)],
        "users": [_user(user, secrets) for user in cluster.access.users.values()],
    }
    ha: dict[str, Any] = {}
    if cluster.ha.service_config:
        ha["resources"] = cluster.ha_resources
    if cluster.ha.groups:
        ha["groups"] = [dict(group) for group in cluster.ha.groups]
    if cluster.ha.rules:
        ha["rules"] = [dict(rule) for rule in cluster.ha.rules]
    if cluster.ha.shutdown_policy != "conditional":
        ha["shutdown_policy"] = cluster.ha.shutdown_policy
    if ha:
        scenario["ha"] = ha
    return scenario


def scenario_yaml(cluster: FakeCluster, secrets: bool = False) -> str:
    """:func:`scenario_of` as YAML text, keys in the order a scenario file writes them."""
    return yaml.safe_dump(scenario_of(cluster, secrets), sort_keys=False, default_flow_style=False, width=120)


def _node(cluster: FakeCluster, node: Node) -> dict[str, Any]:
    # Node.build draws these two offsets first (model/nodes/node.py): the sizes that draw the node's figures again
    rng = figures.seeded(cluster.seed, "node", node.name)
    memory_offset = rng.randrange(180_000_000, 420_000_000)
    disk_offset = rng.randrange(-2_000_000_000, 2_000_000_000)
    return {
        "name": node.name,
        "ip": node.ip,
        "cpus": node.maxcpu,
        "memory_gib": (node.maxmem + memory_offset) / GIB,
        "disk_gib": (node.maxdisk - disk_offset) / GIB,
        "level": node.level,
        "online": node.online,
    }


def _storage(cluster: FakeCluster, storage: Storage) -> dict[str, Any]:
    # Storage.build: total = size + offset, used = total * fraction + offset (model/storage.py)
    rng = figures.seeded(cluster.seed, "storage", storage.storage)
    size_offset = rng.randrange(-900_000_000, 900_000_000)
    used_offset = rng.randrange(1, 800_000_000)
    entry: dict[str, Any] = {
        "storage": storage.storage,
        "type": storage.plugintype,
        "content": list(storage.content),
        "shared": storage.shared,
        "size_gib": (storage.total - size_offset) / GIB,
        "used_fraction": min(max((storage.base_used - used_offset + 0.5) / storage.total, 0.0), 1.0),
        "enabled": storage.enabled,
    }
    if storage.nodes is not None:
        entry["nodes"] = list(storage.nodes)
    if storage.path is not None:
        entry["path"] = storage.path
    if storage.volumes:
        entry["volumes"] = [
            {
                "name": volume.volid.split(":", 1)[1],
                "content": volume.content,
                "size": volume.size,
                "format": volume.format,
            }
            for volume in storage.volumes
        ]
    return entry


def _guest(cluster: FakeCluster, guest: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"vmid": guest.vmid, "type": guest.kind, "node": guest.node, "status": guest.run_state}
    pool = cluster.pool_of(guest.vmid)
    if pool is not None:
        entry["pool"] = pool
    entry["config"] = {key: value for key, value in guest.config.items() if key != "digest"}
    if guest.snapshots:
        entry["snapshots"] = [
            {"name": name, "description": str(snap.get("description", "")), "vmstate": bool(snap.get("vmstate"))}
            for name, snap in guest.snapshots.items()
            if name != "current"
        ]
    return entry


def _user(user: Any, secrets: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"userid": user.userid}
    if secrets and user.password is not None:
        entry["password"] = user.password
    for key in ("enable", "expire", "groups", "comment", "email", "firstname", "lastname"):
        value = getattr(user, key)
        if value not in ("", [], 0) or key == "enable":
            entry[key] = list(value) if isinstance(value, list) else value
    tokens = []
    for token in user.tokens.values():
        item: dict[str, Any] = {"tokenid": token.tokenid, "privsep": token.privsep}
        if token.expire:
            item["expire"] = token.expire
        if token.comment:
            item["comment"] = token.comment
        if secrets:
            item["secret"] = token.secret
        tokens.append(item)
    if tokens:
        entry["tokens"] = tokens
    return entry
