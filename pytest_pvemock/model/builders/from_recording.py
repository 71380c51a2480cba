"""A fake cluster built from what a real cluster answered: nodes, guests and their configs, storage, pools, HA.

:func:`cluster_from_answers` takes the decoded ``data`` of recorded GET answers keyed by API path (``/nodes``,
``/cluster/resources``, ``/cluster/resources?type=vm``, ``/nodes/pve1/qemu/100/config`` ...) and builds a
:class:`FakeCluster` through its ordinary builder methods, so the result behaves like any other fake: it can be
changed, and every endpoint answers consistently. What the recording does not show gets the fake's defaults
(figures drawn from the seed, a default config around the recorded keys). HA resources, groups and rules are kept
as data on the cluster (``ha_resources``, ``ha_groups``, ``ha_rules``), as scenarios keep them.

No HTTP and no cassette format here: ``FakeCluster.from_cassette`` reads the cassette (transports) and calls this.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.nodes.node import SUBSCRIPTION_LEVELS
from pytest_pvemock.model.storage import CONTENT_TYPES

GIB = 1024**3
MIB = 1024**2
_GUEST_STATUS = {"running": "running", "paused": "running"}
# Config keys the fake derives itself: copying the recorded value would contradict the fake's own.
_DERIVED_CONFIG_KEYS = {"digest"}
_DISK_KEY = re.compile(r"^(?:scsi|sata|ide|virtio|efidisk|tpmstate|rootfs|mp)\d*$")


def _rows(answers: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    data = answers.get(path)
    return [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []


def _resource_rows(answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every /cluster/resources row recorded (with or without ?type=), one per id, the last answer winning."""
    by_id: dict[str, dict[str, Any]] = {}
    for path, data in answers.items():
        if path == "/cluster/resources" or path.startswith("/cluster/resources?"):
            for row in data if isinstance(data, list) else []:
                if isinstance(row, dict) and "id" in row:
                    by_id[str(row["id"])] = {**by_id.get(str(row["id"]), {}), **row}
    return list(by_id.values())


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def supported_version(recorded: str | None) -> str:
    """The fake's release for a recorded one: the same release when it is known (``8.2.5``, ``7.2-3``), else its
    series' last (a recorded ``8.2.9``), else the latest."""
    from pytest_pvemock.schema.registry import UnknownRelease, resolve_release

    match = re.match(r"^(\d+)(?:\.(\d+))?", recorded or "")
    for candidate in (recorded or "", f"{match[1]}.{match[2]}" if match and match[2] else "", "latest"):
        try:
            return resolve_release(candidate).version
        except UnknownRelease:
            continue
    return resolve_release("latest").version


def _version(answers: Mapping[str, Any]) -> str:
    data = answers.get("/version")
    recorded = str(data.get("version") or data.get("release") or "") if isinstance(data, dict) else None
    return supported_version(recorded)


def _cluster_name(answers: Mapping[str, Any]) -> str | None:
    for row in _rows(answers, "/cluster/status"):
        if row.get("type") == "cluster" and row.get("name"):
            return str(row["name"])
    return None


# ------------------------------------------------------------------------------------------------------ nodes


def _node_facts(answers: Mapping[str, Any], resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    facts: dict[str, dict[str, Any]] = {}
    for row in resources:
        if row.get("type") == "node" and row.get("node"):
            facts.setdefault(str(row["node"]), {}).update(row)
    for row in _rows(answers, "/nodes"):
        if row.get("node"):
            facts.setdefault(str(row["node"]), {}).update(row)
    for row in _rows(answers, "/cluster/status"):
        if row.get("type") == "node" and row.get("name"):
            entry = facts.setdefault(str(row["name"]), {})
            entry.setdefault("ip", row.get("ip"))
            entry.setdefault("nodeid", row.get("nodeid"))
            if "online" in row and "status" not in entry:
                entry["status"] = "online" if row["online"] else "offline"
    return dict(sorted(facts.items(), key=lambda item: (_int(item[1].get("nodeid"), 10**6), item[0])))


def _add_nodes(cluster: FakeCluster, facts: dict[str, dict[str, Any]]) -> None:
    for name, fact in facts.items():
        options: dict[str, Any] = {"online": fact.get("status", "online") == "online"}
        if fact.get("ip"):
            options["ip"] = str(fact["ip"])
        if _int(fact.get("maxcpu")) > 0:
            options["cpus"] = _int(fact["maxcpu"])
        if _int(fact.get("maxmem")) > 0:
            options["memory_gib"] = _int(fact["maxmem"]) / GIB
        if _int(fact.get("maxdisk")) > 0:
            options["disk_gib"] = _int(fact["maxdisk"]) / GIB
        if fact.get("level") in SUBSCRIPTION_LEVELS:
            options["level"] = fact["level"]
        cluster.add_node(name, **options)


def _ensure_node(cluster: FakeCluster, name: str) -> None:
    if name and cluster.find_node(name) is None:
        cluster.add_node(name)


# ------------------------------------------------------------------------------------------------------ storage


def _content(value: Any) -> list[str]:
    kinds = value if isinstance(value, list) else str(value or "").split(",")
    return [kind.strip() for kind in kinds if kind.strip() in CONTENT_TYPES]


def _storage_facts(answers: Mapping[str, Any], resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    facts: dict[str, dict[str, Any]] = {}
    for row in _rows(answers, "/storage"):
        if row.get("storage"):
            entry = facts.setdefault(str(row["storage"]), {"nodes_seen": set()})
            entry.update(plugintype=row.get("type"), content=row.get("content"), shared=row.get("shared"))
            entry.update(path=row.get("path"), configured_nodes=row.get("nodes"), disable=row.get("disable"))
    for row in resources:
        if row.get("type") == "storage" and row.get("storage"):
            entry = facts.setdefault(str(row["storage"]), {"nodes_seen": set()})
            entry["nodes_seen"].add(str(row.get("node", "")))
            for key in ("plugintype", "content", "shared"):
                entry.setdefault(key, row.get(key))
            entry.setdefault("disk", row.get("disk"))
            entry.setdefault("maxdisk", row.get("maxdisk"))
    for path, data in answers.items():
        match = re.fullmatch(r"/nodes/([^/?]+)/storage", path)
        node_name = match[1] if match else ""
        for row in data if match and isinstance(data, list) else []:
            if isinstance(row, dict) and row.get("storage"):
                entry = facts.setdefault(str(row["storage"]), {"nodes_seen": set()})
                entry["nodes_seen"].add(node_name)
                entry.setdefault("plugintype", row.get("type"))
                entry.setdefault("content", row.get("content"))
                entry.setdefault("shared", row.get("shared"))
                entry.setdefault("disk", row.get("used"))
                entry.setdefault("maxdisk", row.get("total"))
    return facts


def _add_storages(cluster: FakeCluster, facts: dict[str, dict[str, Any]]) -> None:
    all_nodes = {node.name for node in cluster.nodes}
    for storage, fact in facts.items():
        options: dict[str, Any] = {
            "plugintype": str(fact.get("plugintype") or "dir"),
            "shared": bool(fact.get("shared")),
        }
        content = _content(fact.get("content"))
        if content:
            options["content"] = content
        configured = fact.get("configured_nodes")
        seen = {node for node in fact["nodes_seen"] if node}
        nodes = set(_content_names(configured)) if configured else seen
        if nodes and nodes != all_nodes and not options["shared"]:
            options["nodes"] = sorted(nodes)
        if _int(fact.get("maxdisk")) > 0:
            options["size_gib"] = _int(fact["maxdisk"]) / GIB
            options["used_fraction"] = min(max(_int(fact.get("disk")) / _int(fact["maxdisk"]), 0.0), 1.0)
        if fact.get("path"):
            options["path"] = str(fact["path"])
        if fact.get("disable"):
            options["enabled"] = False
        cluster.add_storage(storage, **options)


def _content_names(value: Any) -> list[str]:
    return [item.strip() for item in str(value).split(",") if item.strip()]


# ------------------------------------------------------------------------------------------------------ guests


def _guest_facts(answers: Mapping[str, Any], resources: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    facts: dict[int, dict[str, Any]] = {}
    for row in resources:
        if row.get("type") in ("qemu", "lxc") and row.get("vmid") is not None:
            facts.setdefault(_int(row["vmid"]), {}).update(row)
    for path, data in answers.items():
        match = re.fullmatch(r"/nodes/([^/?]+)/(qemu|lxc)", path)
        node_name, kind = (match[1], match[2]) if match else ("", "")
        for row in data if match and isinstance(data, list) else []:
            if isinstance(row, dict) and row.get("vmid") is not None:
                entry = facts.setdefault(_int(row["vmid"]), {})
                for key, value in row.items():
                    entry.setdefault(key, value)
                entry.setdefault("node", node_name)
                entry.setdefault("type", kind)
        match = re.fullmatch(r"/nodes/([^/?]+)/(qemu|lxc)/(\d+)/config", path)
        if match and isinstance(data, dict):
            entry = facts.setdefault(int(match[3]), {})
            entry.setdefault("node", match[1])
            entry.setdefault("type", match[2])
            entry["config"] = data
        match = re.fullmatch(r"/nodes/([^/?]+)/(qemu|lxc)/(\d+)/status/current", path)
        if match and isinstance(data, dict):
            entry = facts.setdefault(int(match[3]), {})
            for key, value in data.items():
                entry.setdefault(key, value)
            entry.setdefault("node", match[1])
            entry.setdefault("type", match[2])
    return dict(sorted(facts.items()))


def _pool_members(answers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    pools: dict[str, dict[str, Any]] = {}
    for row in _rows(answers, "/pools"):
        if row.get("poolid"):
            pools.setdefault(str(row["poolid"]), {"comment": row.get("comment", ""), "vmids": set(), "storage": set()})
    for path, data in answers.items():
        match = re.fullmatch(r"/pools/([^/?]+)", path)
        if match and isinstance(data, dict):
            pool = pools.setdefault(match[1], {"comment": "", "vmids": set(), "storage": set()})
            pool["comment"] = data.get("comment", pool["comment"])
            for member in data.get("members") or []:
                if member.get("type") in ("qemu", "lxc") and member.get("vmid") is not None:
                    pool["vmids"].add(_int(member["vmid"]))
                elif member.get("type") == "storage" and member.get("storage"):
                    pool["storage"].add(str(member["storage"]))
    return pools


def _disk_storage(config: Mapping[str, Any]) -> str | None:
    for key, value in config.items():
        if _DISK_KEY.match(key) and isinstance(value, str) and ":" in value and "media=cdrom" not in value:
            storage = value.split(":", 1)[0]
            if storage and storage != "none":
                return storage
    return None


def _guest_options(cluster: FakeCluster, fact: dict[str, Any]) -> dict[str, Any]:
    config = {key: value for key, value in (fact.get("config") or {}).items() if key not in _DERIVED_CONFIG_KEYS}
    options: dict[str, Any] = {
        "vmid": _int(fact["vmid"]) if "vmid" in fact else None,
        "node": str(fact["node"]),
        "status": _GUEST_STATUS.get(str(fact.get("status")), "stopped"),
    }
    name = config.get("name") or config.get("hostname") or fact.get("name")
    if name:
        options["name"] = str(name)
    cpus = _int(fact.get("maxcpu") or fact.get("cpus"))
    if cpus > 0:
        options["cores"] = cpus
    if _int(fact.get("maxmem")) > 0:
        options["memory"] = max(_int(fact["maxmem"]) // MIB, 16)
    if _int(fact.get("maxdisk")) >= GIB:
        options["disk_gib"] = max(_int(fact["maxdisk"]) // GIB, 1)
    if fact.get("tags"):
        options["tags"] = str(fact["tags"])
    if _int(fact.get("template")):
        options["template"] = True
    if fact.get("lock"):
        options["lock"] = str(fact["lock"])
    storage = _disk_storage(config)
    if storage is None:
        storage = next((s.storage for s in cluster.storages if "images" in s.content), None)
    if storage:
        options["storage"] = storage
    if config:
        options["config"] = config
    return options


def _add_guests(cluster: FakeCluster, facts: dict[int, dict[str, Any]], pools: dict[str, dict[str, Any]]) -> None:
    member_of = {vmid: poolid for poolid, pool in pools.items() for vmid in pool["vmids"]}
    for vmid, fact in facts.items():
        fact.setdefault("vmid", vmid)
        if not fact.get("node"):
            continue
        _ensure_node(cluster, str(fact["node"]))
        options = _guest_options(cluster, fact)
        pool = fact.get("pool") or member_of.get(vmid)
        if pool:
            if cluster.pool(str(pool)) is None:
                cluster.add_pool(str(pool))
            options["pool"] = str(pool)
        if fact.get("type") == "lxc":
            cluster.add_container(**options)
        else:
            cluster.add_vm(**options)


# ------------------------------------------------------------------------------------------------------ HA


def _ha_resources(answers: Mapping[str, Any], facts: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    recorded = _rows(answers, "/cluster/ha/resources")
    if recorded:
        return [dict(row) for row in recorded if row.get("sid")]
    derived: dict[str, dict[str, Any]] = {}
    for row in _rows(answers, "/cluster/ha/status/current"):
        if row.get("type") == "service" and row.get("sid"):
            entry = {"sid": str(row["sid"]), "state": str(row.get("request_state") or row.get("state") or "started")}
            for key in ("group", "max_restart", "max_relocate", "failback", "comment"):
                if key in row:
                    entry[key] = row[key]
            derived[entry["sid"]] = entry
    for vmid, fact in facts.items():
        if fact.get("hastate"):
            sid = f"{'ct' if fact.get('type') == 'lxc' else 'vm'}:{vmid}"
            derived.setdefault(sid, {"sid": sid, "state": "started" if fact["hastate"] != "stopped" else "stopped"})
    return list(derived.values())


def _known_guests_only(cluster: FakeCluster, resources: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = []
    for resource in resources:
        kind, _, vmid = str(resource["sid"]).partition(":")
        guest = cluster.find_guest(vmid) if vmid.isdigit() else None
        if guest is not None and guest.kind == ("qemu" if kind == "vm" else "lxc"):
            kept.append(resource)
    return kept


# ------------------------------------------------------------------------------------------------------ all


def cluster_from_answers(answers: Mapping[str, Any], **overrides: Any) -> FakeCluster:
    """A :class:`FakeCluster` from recorded GET answers (``data`` values keyed by API path; see the module)."""
    options: dict[str, Any] = {"version": _version(answers)}
    name = _cluster_name(answers)
    if name:
        options["name"] = name
    options.update({key: value for key, value in overrides.items() if value is not None})
    cluster = FakeCluster(**options)
    resources = _resource_rows(answers)
    _add_nodes(cluster, _node_facts(answers, resources))
    _add_storages(cluster, _storage_facts(answers, resources))
    pools = _pool_members(answers)
    for poolid, pool in pools.items():
        cluster.add_pool(poolid, str(pool["comment"] or ""))
    guests = _guest_facts(answers, resources)
    _add_guests(cluster, guests, pools)
    for poolid, pool in pools.items():
        known_storage = [storage for storage in pool["storage"] if cluster.storage(storage) is not None]
        if known_storage:
            with contextlib.suppress(PVEError, ValueError):  # a member the fake cannot hold is left out
                cluster.update_pool(poolid, storage=known_storage)
    cluster.ha_resources = _known_guests_only(cluster, _ha_resources(answers, guests))
    cluster.ha_groups = [dict(row) for row in _rows(answers, "/cluster/ha/groups")]
    cluster.ha_rules = [dict(row) for row in _rows(answers, "/cluster/ha/rules")]
    return cluster
