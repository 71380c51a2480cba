"""YAML scenarios: a whole cluster (nodes, storage, pools, guests, users and tokens, HA resources) in one file.

    cluster:  {name: lab, version: "9.1", timezone: Europe/Vienna}
    nodes:    [{name: pve1, cpus: 16, memory_gib: 64}, {name: pve2}]
    storage:  [{storage: local-lvm, type: lvmthin, content: [images, rootdir]}]
    pools:    [{poolid: prod, comment: Production}]
    guests:   [{vmid: 100, type: qemu, node: pve1, name: web01, status: running, pool: prod}]
    users:    [{userid: ci@pve, password: secret, tokens: [{tokenid: deploy, secret: "..."}]}]
    ha:       {resources: [{sid: "vm:100", state: started}], groups: [], rules: [], chaos: {seed: 7, rate: 0.3}}

A mistake in a file is reported with the file, the line and what is wrong (:class:`ScenarioError`).
Built-in scenarios live in ``pytest_pvemock/scenarios/<name>.yaml``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.clock import TASK_MODES
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.guests import RUN_STATES, Guest
from pytest_pvemock.model.ha.chaos import ChaosSettingsError, chaos_settings
from pytest_pvemock.model.nodes.node import SUBSCRIPTION_LEVELS
from pytest_pvemock.model.time_zone import zone_info
from pytest_pvemock.safe_yaml import check_limits
from pytest_pvemock.schema.registry import supported_release

CLUSTER_KEYS = {"name", "version", "host", "port", "task_mode", "seed", "shuffle_keys", "start_time", "timezone"}
NODE_KEYS = {"name", "ip", "cpus", "memory_gib", "disk_gib", "level", "online"}
STORAGE_KEYS = {
    "storage",
    "type",
    "content",
    "shared",
    "nodes",
    "size_gib",
    "used_fraction",
    "path",
    "enabled",
    "volumes",
}
VOLUME_KEYS = {"name", "content", "size", "format"}
POOL_KEYS = {"poolid", "comment"}
GUEST_KEYS = {
    "vmid",
    "type",
    "node",
    "name",
    "status",
    "cores",
    "sockets",
    "memory",
    "swap",
    "disk_gib",
    "storage",
    "tags",
    "template",
    "pool",
    "lock",
    "config",
    "snapshots",
}
SNAPSHOT_KEYS = {"name", "description", "vmstate"}
USER_KEYS = {"userid", "password", "enable", "expire", "groups", "comment", "email", "firstname", "lastname", "tokens"}
TOKEN_KEYS = {"tokenid", "secret", "privsep", "expire", "comment"}
HA_KEYS = {"resources", "groups", "rules", "shutdown_policy", "chaos"}
TOP_KEYS = {"cluster", "nodes", "storage", "pools", "guests", "users", "ha", "description"}


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded: says which file, which line and what is wrong."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


class _Map(dict[str, Any]):
    """A mapping from YAML that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _List(list[Any]):
    line: int = 0


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = _Map()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            result[key] = _construct(loader, value_node)
            result.key_lines[str(key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        items = _List(_construct(loader, item) for item in node.value)
        items.line = node.start_mark.line + 1
        return items
    return loader.construct_object(node, deep=True)


@dataclass
class _Reader:
    source: str

    def fail(self, where: Any, problem: str, key: str | None = None) -> ScenarioError:
        line = getattr(where, "line", None)
        if key is not None and isinstance(where, _Map):
            line = where.key_lines.get(key, line)
        return ScenarioError(self.source, line, problem)

    def mapping(self, value: Any, what: str, allowed: set[str], parent: Any = None) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(value if hasattr(value, "line") else parent, f"{what} must be a mapping")
        for key in value:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(value, f"unknown key '{key}' in {what} (known keys: {known})", key)
        return value

    def sequence(self, value: Any, what: str, parent: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(parent, f"'{what}' must be a list", what)
        return value

    def require(self, mapping: _Map, key: str, what: str, kind: type | tuple[type, ...] = str) -> Any:
        if key not in mapping:
            raise self.fail(mapping, f"{what} needs '{key}'")
        return self.typed(mapping, key, what, kind)

    def typed(self, mapping: _Map, key: str, what: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = mapping.get(key, default)
        if (key in mapping and not isinstance(value, kind)) or (isinstance(value, bool) and kind is int):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise self.fail(mapping, f"'{key}' of {what} must be {names}, not {value!r}", key)
        return value


def builtin_scenarios() -> list[str]:
    folder = resources.files("pytest_pvemock") / "scenarios"
    return sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def scenario_text(name_or_path: str | Path) -> tuple[str, str]:
    """(source name, YAML text) of a built-in scenario or a file (a file is read again when it changes)."""
    if isinstance(name_or_path, str) and name_or_path in _BUILTIN_TEXTS:
        return _BUILTIN_TEXTS[name_or_path]
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        try:
            return str(candidate), _file_text(candidate)
        except OSError as error:
            raise ScenarioError(str(candidate), None, f"cannot read the scenario file: {error.strerror}") from None
    resource = resources.files("pytest_pvemock") / "scenarios" / f"{name_or_path}.yaml"
    if not resource.is_file():
        known = ", ".join(builtin_scenarios())
        raise ScenarioError(str(name_or_path), None, f"no such built-in scenario (built-in: {known})")
    found = f"scenarios/{name_or_path}.yaml", resource.read_text(encoding="utf-8")
    _BUILTIN_TEXTS[str(name_or_path)] = found
    return found


_BUILTIN_TEXTS: dict[str, tuple[str, str]] = {}
_FILE_TEXTS: dict[str, tuple[tuple[int, int, int], str]] = {}


_SETTLED_NS = 2_000_000_000


def _file_text(path: Path) -> str:
    """The text of a scenario file, kept while its modification time, size and inode stay the same.

    A file changed in the last two seconds is read afresh every time: file systems stamp times coarsely (a clock
    tick, or a whole second), so a rewrite of the same size that soon could keep the same stamp.
    """
    status = path.stat()
    stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
    key = str(path)
    cached = _FILE_TEXTS.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    text = path.read_text(encoding="utf-8")
    if time.time_ns() - status.st_mtime_ns > _SETTLED_NS:
        _FILE_TEXTS[key] = (stamp, text)
    return text


def load_scenario(name_or_path: str | Path = "default", **overrides: Any) -> FakeCluster:
    """Build a :class:`FakeCluster` from a scenario; ``overrides`` replace the file's ``cluster:`` settings."""
    source, text = scenario_text(name_or_path)
    cluster = build_from_text(text, source, **overrides)
    cluster.scenario_name = str(name_or_path)
    return cluster


def build_from_text(text: str, source: str = "<scenario>", **overrides: Any) -> FakeCluster:
    reader = _Reader(source)
    top = reader.mapping(_parsed(text, source), "the scenario", TOP_KEYS)
    return _build(reader, top, overrides)


_PARSED: dict[tuple[str, str], Any] = {}


def _parsed(text: str, source: str) -> Any:
    """The YAML tree of ``text`` (with line marks), parsed once per text: fixtures build clusters often."""
    key = (source, text)
    tree = _PARSED.get(key)
    if tree is None:
        tree = _PARSED[key] = _parse(text, source)
    return tree


def _parse(text: str, source: str) -> Any:
    try:
        check_limits(text)  # alias bombs, recursive aliases, deep nesting: refused before anything is built
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = _construct(loader, root) if root is not None else _Map()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(source, line, f"invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(source, None, f"invalid YAML: {error}") from None
    return data


def _build(reader: _Reader, top: _Map, overrides: dict[str, Any]) -> FakeCluster:
    settings = reader.mapping(top.get("cluster", _Map()), "'cluster'", CLUSTER_KEYS, top)
    options = _cluster_settings(reader, settings)
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        cluster = FakeCluster(**{**options, **given})
    except (TypeError, ValueError) as error:
        if not given:
            raise reader.fail(settings or top, str(error)) from None
        # the file's own settings were checked above: what the caller passed is the caller's fault
        passed = ", ".join(f"{key}={value!r}" for key, value in given.items())
        raise ValueError(f"{reader.source} built with {passed}: {error}") from None
    if "name" in settings:  # pvecm create's clustername (pve-cluster API2/ClusterConfig.pm)
        values = {"clustername": ("name", settings["name"])}
        _check_like_pve(reader, settings, "'cluster'", cluster, "/cluster/config", values)
    nodes = reader.sequence(top.get("nodes"), "nodes", top)
    if not nodes:
        where = top if "nodes" in top else None
        raise reader.fail(
            where, "the scenario has no nodes: a cluster needs at least one (add a 'nodes' list)", "nodes"
        )
    for entry in nodes:
        _add_node(reader, cluster, entry)
    for entry in reader.sequence(top.get("storage"), "storage", top):
        _add_storage(reader, cluster, entry)
    for entry in reader.sequence(top.get("pools"), "pools", top):
        pool = reader.mapping(entry, "a pool", POOL_KEYS, top)
        values = {key: (key, pool[key]) for key in POOL_KEYS if key in pool}
        _check_like_pve(reader, pool, f"pool '{pool.get('poolid')}'", cluster, "/pools", values)
        _attempt(
            reader,
            pool,
            lambda p=pool: cluster.add_pool(reader.require(p, "poolid", "a pool"), str(p.get("comment", ""))),
        )
    for entry in reader.sequence(top.get("guests"), "guests", top):
        _add_guest(reader, cluster, entry)
    for entry in reader.sequence(top.get("users"), "users", top):
        _add_user(reader, cluster, entry)
    if "ha" in top:
        ha = reader.mapping(top["ha"], "'ha'", HA_KEYS, top)
        # plain copies: the parsed tree is shared by every cluster built from the same text
        for resource in reader.sequence(ha.get("resources"), "resources", ha):
            _check_ha_resource(reader, cluster, resource)
        for kind, template in (("groups", "/cluster/ha/groups"), ("rules", "/cluster/ha/rules")):
            for item in reader.sequence(ha.get(kind), kind, ha):
                if not isinstance(item, _Map):
                    raise reader.fail(item if hasattr(item, "line") else ha, f"an HA {kind[:-1]} must be a mapping")
                values = {str(key): (str(key), value) for key, value in item.items()}
                what = f"HA {kind[:-1]} '{item.get(kind[:-1])}'"
                _check_like_pve(reader, item, what, cluster, template, values, all_keys=True)
        groups = {str(group.get("group")) for group in reader.sequence(ha.get("groups"), "groups", ha)}
        for resource in reader.sequence(ha.get("resources"), "resources", ha):
            if "group" in resource and str(resource["group"]) not in groups:  # pve-ha-manager API2/HA/Resources.pm
                raise reader.fail(
                    resource, f"HA group '{resource['group']}' does not exist (add it under 'groups')", "group"
                )
        if "shutdown_policy" in ha:
            _attempt(
                reader,
                ha,
                lambda: setattr(cluster.ha, "shutdown_policy", str(ha["shutdown_policy"])),
                "shutdown_policy",
            )
        cluster.ha.load(
            [_plain(item) for item in reader.sequence(ha.get("resources"), "resources", ha)],
            [_plain(item) for item in reader.sequence(ha.get("groups"), "groups", ha)],
            [_plain(item) for item in reader.sequence(ha.get("rules"), "rules", ha)],
        )
        if "chaos" in ha:
            _enable_chaos(reader, cluster, ha)
    return cluster


_LAST_TICKET_TIME = 0xFFFFFFFF - 10 * 365 * 86_400  # room for ten years of clock.advance()


def _cluster_settings(reader: _Reader, settings: _Map) -> dict[str, Any]:
    """The ``cluster:`` settings as ``FakeCluster`` takes them; a bad value is blamed on its line."""
    what = "'cluster'"
    for key in ("name", "host"):
        if key in settings and (not isinstance(settings[key], str) or not settings[key]):
            raise reader.fail(settings, f"'{key}' of {what} must be a non-empty string, not {settings[key]!r}", key)
    port = reader.typed(settings, "port", what, int)
    if port is not None and not 0 < port < 65536:
        raise reader.fail(settings, f"'port' of {what} must be between 1 and 65535, not {port}", "port")
    start_time = reader.typed(settings, "start_time", what, int)
    if start_time is not None and not 0 <= start_time < _LAST_TICKET_TIME:
        # PVE writes a ticket's time as 8 hex digits (PVE::Ticket): later times make tickets it cannot read
        problem = f"'start_time' of {what} must be an epoch between 0 and {_LAST_TICKET_TIME - 1}, not {start_time}"
        raise reader.fail(settings, problem, "start_time")
    reader.typed(settings, "shuffle_keys", what, bool)
    if "seed" in settings and (isinstance(settings["seed"], bool) or not isinstance(settings["seed"], (int, str))):
        raise reader.fail(
            settings, f"'seed' of {what} must be an integer or a string, not {settings['seed']!r}", "seed"
        )
    options = dict(settings)
    if "version" in settings:
        options["version"] = _attempt(reader, settings, lambda: supported_release(settings["version"]), "version")
    if "task_mode" in settings and settings["task_mode"] not in TASK_MODES:
        modes = ", ".join(TASK_MODES)
        raise reader.fail(
            settings, f"'task_mode' of {what} must be one of {modes}, not {settings['task_mode']!r}", "task_mode"
        )
    if "timezone" in settings:
        _attempt(reader, settings, lambda: zone_info(settings["timezone"]), "timezone")
    return options


_PASSED_CHECKS: set[tuple[str, str, bool, str]] = set()


def _check_like_pve(
    reader: _Reader,
    where: _Map,
    what: str,
    cluster: FakeCluster,
    template: str,
    values: dict[str, tuple[str, Any]],
    *,
    all_keys: bool = False,
) -> None:
    """Check scenario values as PVE checks the parameters of ``POST template``, so a value PVE (and the fake's
    answers) would refuse fails at load, on its line, with PVE's message (an enum names the allowed values).

    ``values``: parameter -> (scenario key, value). Only the parameters named are checked, none is required;
    with ``all_keys`` a name PVE's method does not define is refused too (otherwise it is left to the caller).
    """
    from pytest_pvemock.schema.parameters import check_parameters
    from pytest_pvemock.schema.registry import get_registry

    # fixtures build the same scenario for every test: a set of values PVE accepted once is not checked again
    passed_key = (cluster.version, template, all_keys, repr(sorted(values.items())))
    if passed_key in _PASSED_CHECKS:
        return
    try:
        schema = get_registry(cluster.version).endpoint("POST", template).parameters_schema
    except KeyError:
        return
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    if not all_keys:
        values = {
            name: entry
            for name, entry in values.items()
            if name in properties or any(re.search(pattern, name) for pattern in patterns)
        }
    narrowed = {key: value for key, value in schema.items() if key not in ("required", "dependentRequired", "allOf")}
    narrowed["properties"] = {name: properties[name] for name in values if name in properties}
    narrowed["allOf"] = [
        {**rule, "then": {k: v for k, v in rule.get("then", {}).items() if k != "required"}}
        for rule in schema.get("allOf", ())
    ]
    raw = {name: _parameter_text(value) for name, (_key, value) in values.items() if value is not None}
    try:
        check_parameters(narrowed, raw)
    except ParameterError as error:
        name, message = next(iter((error.errors or {}).items()))
        key = values[name][0] if name in values else name
        text = "; ".join(line for line in message.strip().splitlines() if line)
        raise reader.fail(where, f"'{key}' of {what}: {text}", key) from None
    if len(_PASSED_CHECKS) > 20_000:
        _PASSED_CHECKS.clear()
    _PASSED_CHECKS.add(passed_key)


def _parameter_text(value: Any) -> Any:
    """A scenario value as a client would send it: lists joined as PVE's list formats take them."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return int(value)
    return value


def _enable_chaos(reader: _Reader, cluster: FakeCluster, ha: _Map) -> None:
    """``ha: {chaos: 7}`` or ``ha: {chaos: {seed: 7, rate: 0.3, max_down: 1}}``: seeded HA faults from the start."""
    spec = ha["chaos"]
    try:
        settings = chaos_settings(_plain(spec))
    except ChaosSettingsError as error:
        if isinstance(spec, _Map) and error.key is not None:
            raise reader.fail(spec, f"'ha: chaos': {error}", error.key) from None
        raise reader.fail(ha, f"'ha: chaos': {error}", "chaos") from None
    cluster.ha.enable_chaos(**settings)


def _plain(value: Any) -> Any:
    """``value`` as plain, unshared dicts and lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _attempt(reader: _Reader, where: _Map, action: Any, key: str | None = None) -> Any:
    try:
        return action()
    except ScenarioError:
        raise
    except (PVEError, ValueError, KeyError, TypeError) as error:
        message = error.message if isinstance(error, PVEError) else str(error).strip("'\"")
        raise reader.fail(where, message, key) from None


def _add_node(reader: _Reader, cluster: FakeCluster, entry: Any) -> None:
    node = reader.mapping(entry, "a node", NODE_KEYS)
    name = reader.require(node, "name", "a node")
    values = {"node": ("name", name), "new_node_ip": ("ip", node.get("ip"))}
    _check_like_pve(reader, node, f"node '{name}'", cluster, "/cluster/config/nodes/{node}", values)
    options = {key: value for key, value in node.items() if key != "name"}
    if reader.typed(node, "cpus", f"node '{name}'", int) is not None and node["cpus"] < 1:
        raise reader.fail(node, f"'cpus' of node '{name}' must be at least 1, not {node['cpus']!r}", "cpus")
    for key, least in (("memory_gib", 1), ("disk_gib", 4)):  # the seeded figures subtract up to 0.4 / 2 GiB
        if reader.typed(node, key, f"node '{name}'", (int, float)) is not None and node[key] < least:
            raise reader.fail(node, f"'{key}' of node '{name}' must be at least {least}, not {node[key]!r}", key)
    taken = {other.ip: other.name for other in cluster.nodes}
    if node.get("ip") in taken:
        raise reader.fail(node, f"node '{name}' has the ip of node '{taken[node['ip']]}' ({node['ip']})", "ip")
    reader.typed(node, "online", f"node '{name}'", bool)
    if node.get("level", "") not in SUBSCRIPTION_LEVELS:
        levels = ", ".join(level or "'' (none)" for level in SUBSCRIPTION_LEVELS)
        raise reader.fail(node, f"'level' of node '{name}' must be one of {levels}, not {node['level']!r}", "level")
    _attempt(reader, node, lambda: cluster.add_node(name, **options))


def _add_storage(reader: _Reader, cluster: FakeCluster, entry: Any) -> None:
    spec = reader.mapping(entry, "a storage", STORAGE_KEYS)
    storage_id = reader.require(spec, "storage", "a storage")
    content = spec.get("content", ["images", "rootdir"])
    if isinstance(content, str):
        content = [part for part in content.split(",") if part]
    nodes = spec.get("nodes")
    if isinstance(nodes, str):
        nodes = [part for part in nodes.split(",") if part]
    what = f"storage '{storage_id}'"
    values = {
        key: (key, spec.get(key)) for key in ("storage", "type", "content", "shared", "nodes", "path") if key in spec
    }
    _check_like_pve(reader, spec, what, cluster, "/storage", values)
    for key in ("shared", "enabled"):
        reader.typed(spec, key, what, bool)
    for key in ("size_gib", "used_fraction"):
        reader.typed(spec, key, what, (int, float))
    if "size_gib" in spec and spec["size_gib"] <= 0:
        raise reader.fail(spec, f"'size_gib' of {what} must be more than 0, not {spec['size_gib']!r}", "size_gib")
    if "used_fraction" in spec and not 0 <= spec["used_fraction"] <= 1:
        problem = f"'used_fraction' of {what} must be between 0 and 1, not {spec['used_fraction']!r}"
        raise reader.fail(spec, problem, "used_fraction")
    for name in nodes or ():
        if cluster.find_node(name) is None:
            raise reader.fail(spec, f"storage '{storage_id}' names unknown node '{name}'", "nodes")
    _attempt(
        reader,
        spec,
        lambda: cluster.add_storage(
            storage_id,
            plugintype=str(spec.get("type", "dir")),
            content=content,
            shared=bool(spec.get("shared", False)),
            nodes=nodes,
            size_gib=float(spec.get("size_gib", 100)),
            used_fraction=float(spec.get("used_fraction", 0.2)),
            path=spec.get("path"),
            enabled=bool(spec.get("enabled", True)),
        ),
    )
    for item in reader.sequence(spec.get("volumes"), "volumes", spec):
        volume = reader.mapping(item, "a volume", VOLUME_KEYS)
        name = reader.require(volume, "name", "a volume")
        if "content" in volume:  # one of the storage content types (pve-storage's valid_content_types)
            values = {"content": ("content", volume["content"])}
            _check_like_pve(reader, volume, f"volume '{name}'", cluster, "/storage", values)
        size = reader.typed(volume, "size", f"volume '{name}'", int, 0)
        if size < 0:
            raise reader.fail(volume, f"'size' of volume '{name}' must be bytes (0 or more), not {size}", "size")
        _attempt(
            reader,
            volume,
            lambda v=volume, n=name, s=size: cluster.add_volume(
                storage_id, n, str(v.get("content", "iso")), s, str(v.get("format", "raw"))
            ),
        )


def _add_guest(reader: _Reader, cluster: FakeCluster, entry: Any) -> None:
    spec = reader.mapping(entry, "a guest", GUEST_KEYS)
    vmid = reader.require(spec, "vmid", "a guest", int)
    what = f"guest {vmid}"
    kind = spec.get("type", "qemu")
    if kind not in ("qemu", "lxc"):
        raise reader.fail(spec, f"'type' of {what} must be qemu or lxc, not {kind!r}", "type")
    node = spec.get("node")
    if node is not None and cluster.find_node(node) is None:
        known = ", ".join(node.name for node in cluster.nodes)
        raise reader.fail(spec, f"{what} is on unknown node '{node}' (nodes: {known})", "node")
    for key in ("cores", "sockets", "memory", "swap", "disk_gib"):
        reader.typed(spec, key, what, int)
    reader.typed(spec, "template", what, bool)
    if "disk_gib" in spec and spec["disk_gib"] < 1:
        raise reader.fail(spec, f"'disk_gib' of {what} must be at least 1, not {spec['disk_gib']!r}", "disk_gib")
    if "storage" in spec and cluster.storage(str(spec["storage"])) is None:
        known = ", ".join(storage.storage for storage in cluster.storages) or "none"
        problem = f"{what} has its disk on unknown storage '{spec['storage']}' (storage: {known})"
        raise reader.fail(spec, problem, "storage")
    status = spec.get("status", "stopped")
    if status not in RUN_STATES:
        raise reader.fail(spec, f"'status' of {what} must be one of {', '.join(RUN_STATES)}, not {status!r}", "status")
    template = "/nodes/{node}/qemu" if kind == "qemu" else "/nodes/{node}/lxc"
    values = {
        ("hostname" if key == "name" and kind == "lxc" else key): (key, spec[key])
        for key in ("vmid", "name", "cores", "sockets", "memory", "swap", "tags", "template", "pool", "lock")
        if key in spec
    }
    _check_like_pve(reader, spec, what, cluster, template, values)
    pool = spec.get("pool")
    if pool is not None and cluster.pool(pool) is None:
        raise reader.fail(spec, f"{what} is in unknown pool '{pool}' (add it under 'pools')", "pool")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise reader.fail(spec, f"'config' of {what} must be a mapping", "config")
    if isinstance(config, _Map):
        values = {str(key): (str(key), value) for key, value in config.items()}
        _check_like_pve(reader, config, f"the config of {what}", cluster, template, values)
    options: dict[str, Any] = {
        key: spec[key]
        for key in ("name", "status", "cores", "memory", "disk_gib", "storage", "tags", "template", "pool", "lock")
        if key in spec
    }
    if "name" in options:
        options["name"] = str(options["name"])
    if kind == "qemu":
        if "swap" in spec:
            raise reader.fail(spec, f"'swap' is for containers; {what} is a qemu VM", "swap")
        if "sockets" in spec:
            options["sockets"] = spec["sockets"]
        add: Callable[..., Guest] = cluster.add_vm
    else:
        if "sockets" in spec:
            raise reader.fail(spec, f"'sockets' is for VMs; {what} is an lxc container", "sockets")
        if "swap" in spec:
            options["swap"] = spec["swap"]
        add = cluster.add_container
    guest = _attempt(reader, spec, lambda: add(vmid=vmid, node=node, config=_plain(config), **options))
    for item in reader.sequence(spec.get("snapshots"), "snapshots", spec):
        snap = reader.mapping(item, "a snapshot", SNAPSHOT_KEYS)
        name = reader.require(snap, "name", "a snapshot")
        values = {"snapname" if key == "name" else key: (key, value) for key, value in snap.items()}
        snapshots = f"{template}/{{vmid}}/snapshot"
        _check_like_pve(reader, snap, f"snapshot '{name}' of {what}", cluster, snapshots, values, all_keys=True)
        guest._take_snapshot(str(name), str(snap.get("description", "")), bool(snap.get("vmstate", False)))


def _add_user(reader: _Reader, cluster: FakeCluster, entry: Any) -> None:
    spec = reader.mapping(entry, "a user", USER_KEYS)
    userid = reader.require(spec, "userid", "a user")
    # the password is left out: PVE wants 8 characters to create a user, but a scenario may log in with any
    values = {key: (key, value) for key, value in spec.items() if key not in ("tokens", "password")}
    _check_like_pve(reader, spec, f"user '{userid}'", cluster, "/access/users", values)
    options = {key: value for key, value in spec.items() if key not in ("userid", "tokens")}
    if userid == "root@pam":
        user = cluster.access.users["root@pam"]
        for key, value in options.items():
            setattr(user, key, value)
    else:
        _attempt(reader, spec, lambda: cluster.access.add_user(userid, **options))
    for item in reader.sequence(spec.get("tokens"), "tokens", spec):
        token = reader.mapping(item, "a token", TOKEN_KEYS)
        tokenid = reader.require(token, "tokenid", "a token")
        reader.typed(token, "secret", f"token '{tokenid}' of user '{userid}'", str)
        values = {key: (key, value) for key, value in token.items() if key != "secret"}
        template = "/access/users/{userid}/token/{tokenid}"
        _check_like_pve(reader, token, f"token '{tokenid}' of user '{userid}'", cluster, template, values)
        token_options = {key: value for key, value in token.items() if key != "tokenid"}
        _attempt(reader, token, lambda t=tokenid, o=token_options: cluster.access.add_token(userid, t, **o))


def _check_ha_resource(reader: _Reader, cluster: FakeCluster, entry: Any) -> None:
    if not isinstance(entry, _Map) or "sid" not in entry:
        raise reader.fail(entry if hasattr(entry, "line") else None, "an HA resource needs 'sid' (e.g. vm:100)")
    sid = str(entry["sid"])
    kind, _, vmid = sid.partition(":")
    if kind not in ("vm", "ct") or not vmid.isdigit():
        raise reader.fail(entry, f"HA resource id '{sid}' must look like vm:100 or ct:101", "sid")
    guest = cluster.find_guest(int(vmid))
    if guest is None or guest.kind != ("qemu" if kind == "vm" else "lxc"):
        raise reader.fail(entry, f"HA resource '{sid}' names no such guest", "sid")
    values = {str(key): (str(key), value) for key, value in entry.items()}
    _check_like_pve(reader, entry, f"HA resource '{sid}'", cluster, "/cluster/ha/resources", values, all_keys=True)
