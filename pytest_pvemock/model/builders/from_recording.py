"""A cluster spec made of what a real cluster answered: nodes, guests and their configs, storage, pools, HA.

:func:`spec_from_answers` takes the decoded ``data`` of recorded GET answers keyed by API path (``/nodes``,
``/cluster/resources``, ``/cluster/resources?type=vm``, ``/nodes/pve1/qemu/100/config`` ...) and makes a
:class:`~.spec.ClusterSpec`, built like a scenario's, so the result behaves like any other fake: it can be
changed, and every endpoint answers consistently. What the recording does not show gets the fake's defaults
(figures drawn from the seed, a default config around the recorded keys). HA resources, groups and rules are kept
as data on the cluster (``ha_resources``, ``ha_groups``, ``ha_rules``), as scenarios keep them.

No HTTP and no cassette format here: ``FakeCluster.from_cassette`` reads the cassette file and calls this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_pvemock.model.builders.spec import ClusterSpec, GuestSpec, HASpec, NodeSpec, PoolSpec, StorageSpec
from pytest_pvemock.model.nodes.node import SUBSCRIPTION_LEVELS
from pytest_pvemock.model.storage import CONTENT_TYPES
from pytest_pvemock.schema.registry import UnknownRelease, resolve_release

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


def _node_specs(facts: dict[str, dict[str, Any]]) -> list[NodeSpec]:
    specs = []
    for name, fact in facts.items():
        spec = NodeSpec(name, online=fact.get("status", "online") == "online")
        if fact.get("ip"):
            spec.ip = str(fact["ip"])
        if _int(fact.get("maxcpu")) > 0:
            spec.cpus = _int(fact["maxcpu"])
        if _int(fact.get("maxmem")) > 0:
            spec.memory_gib = _int(fact["maxmem"]) / GIB
        if _int(fact.get("maxdisk")) > 0:
            spec.disk_gib = _int(fact["maxdisk"]) / GIB
        if fact.get("level") in SUBSCRIPTION_LEVELS:
            spec.level = fact["level"]
        specs.append(spec)
    return specs


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


def _storage_specs(facts: dict[str, dict[str, Any]], all_nodes: set[str]) -> list[StorageSpec]:
    specs = []
    for storage, fact in facts.items():
        spec = StorageSpec(storage, plugintype=str(fact.get("plugintype") or "dir"), shared=bool(fact.get("shared")))
        content = _content(fact.get("content"))
        if content:
            spec.content = content
        configured = fact.get("configured_nodes")
        seen = {node for node in fact["nodes_seen"] if node}
        nodes = set(_content_names(configured)) if configured else seen
        if nodes and nodes != all_nodes and not spec.shared:
            spec.nodes = sorted(nodes)
        if _int(fact.get("maxdisk")) > 0:
            spec.size_gib = _int(fact["maxdisk"]) / GIB
            spec.used_fraction = min(max(_int(fact.get("disk")) / _int(fact["maxdisk"]), 0.0), 1.0)
        if fact.get("path"):
            spec.path = str(fact["path"])
        if fact.get("disable"):
            spec.enabled = False
        specs.append(spec)
    return specs


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


def _guest_spec(fact: dict[str, Any], storages: list[StorageSpec]) -> GuestSpec:
    config = {key: value for key, value in (fact.get("config") or {}).items() if key not in _DERIVED_CONFIG_KEYS}
    spec = GuestSpec(
        _int(fact["vmid"]),
        "lxc" if fact.get("type") == "lxc" else "qemu",
        node=str(fact["node"]),
        status=_GUEST_STATUS.get(str(fact.get("status")), "stopped"),
        config=config,
    )
    name = config.get("name") or config.get("hostname") or fact.get("name")
    if name:
        spec.name = str(name)
    cpus = _int(fact.get("maxcpu") or fact.get("cpus"))
    if cpus > 0:
        spec.cores = cpus
    if _int(fact.get("maxmem")) > 0:
        spec.memory = max(_int(fact["maxmem"]) // MIB, 16)
    if _int(fact.get("maxdisk")) >= GIB:
        spec.disk_gib = max(_int(fact["maxdisk"]) // GIB, 1)
    if fact.get("tags"):
        spec.tags = str(fact["tags"])
    if _int(fact.get("template")):
        spec.template = True
    if fact.get("lock"):
        spec.lock = str(fact["lock"])
    storage = _disk_storage(config)
    if storage is None:
        storage = next((s.storage for s in storages if "images" in s.content), None)
    if storage:
        spec.storage = storage
    return spec


def _guest_specs(spec: ClusterSpec, facts: dict[int, dict[str, Any]], pools: dict[str, dict[str, Any]]) -> None:
    """The guests recorded with a node; a node or pool they name that was not recorded is added to ``spec``."""
    member_of = {vmid: poolid for poolid, pool in pools.items() for vmid in pool["vmids"]}
    for vmid, fact in facts.items():
        fact.setdefault("vmid", vmid)
        if not fact.get("node"):
            continue
        node = str(fact["node"])
        if node and all(known.name != node for known in spec.nodes):
            spec.nodes.append(NodeSpec(node))
        guest = _guest_spec(fact, spec.storages)
        pool = fact.get("pool") or member_of.get(vmid)
        if pool:
            if all(known.poolid != str(pool) for known in spec.pools):
                spec.pools.append(PoolSpec(str(pool)))
            guest.pool = str(pool)
        spec.guests.append(guest)


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


def _known_guests_only(guests: list[GuestSpec], resources: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = {guest.vmid: guest.kind for guest in guests}
    kept = []
    for resource in resources:
        kind, _, vmid = str(resource["sid"]).partition(":")
        if vmid.isdigit() and kinds.get(int(vmid)) == ("qemu" if kind == "vm" else "lxc"):
            kept.append(resource)
    return kept


# ------------------------------------------------------------------------------------------------------ all


def spec_from_answers(answers: Mapping[str, Any], **overrides: Any) -> ClusterSpec:
    """A :class:`~.spec.ClusterSpec` from recorded GET answers (``data`` values keyed by API path; see the module)."""
    settings: dict[str, Any] = {"version": _version(answers)}
    name = _cluster_name(answers)
    if name:
        settings["name"] = name
    given = {key: value for key, value in overrides.items() if value is not None}
    spec = ClusterSpec(settings=settings, overrides=given)
    resources = _resource_rows(answers)
    spec.nodes = _node_specs(_node_facts(answers, resources))
    spec.storages = _storage_specs(_storage_facts(answers, resources), {node.name for node in spec.nodes})
    pools = _pool_members(answers)
    spec.pools = [PoolSpec(poolid, str(pool["comment"] or "")) for poolid, pool in pools.items()]
    guests = _guest_facts(answers, resources)
    _guest_specs(spec, guests, pools)
    storages = {storage.storage for storage in spec.storages}
    for pool_spec in spec.pools:
        pool_spec.storage = [
            storage for storage in pools.get(pool_spec.poolid, {}).get("storage", ()) if storage in storages
        ]
    spec.ha = HASpec(
        resources=_known_guests_only(spec.guests, _ha_resources(answers, guests)),
        groups=[dict(row) for row in _rows(answers, "/cluster/ha/groups")],
        rules=[dict(row) for row in _rows(answers, "/cluster/ha/rules")],
    )
    return spec
