"""YAML scenarios: a whole cluster (nodes, storage, pools, guests, users and tokens, HA resources) in one file.

    cluster:  {name: lab, version: "9.1", timezone: Europe/Vienna}
    nodes:    [{name: pve1, cpus: 16, memory_gib: 64, spare_disks: 1}, {name: pve2}]
    storage:  [{storage: local-lvm, type: lvmthin, content: [images, rootdir]}]
    pools:    [{poolid: prod, comment: Production}]
    guests:   [{vmid: 100, type: qemu, node: pve1, name: web01, status: running, pool: prod}]
    users:    [{userid: ci@pve, password: secret, tokens: [{tokenid: deploy, secret: "..."}]}]
    ha:       {resources: [{sid: "vm:100", state: started}], groups: [], rules: [], chaos: {seed: 7, rate: 0.3}}
    setup:    [{POST /cluster/firewall/aliases: {name: mgmt, cidr: 192.168.100.0/24}}]
    ceph:     {osds_per_node: 2, device_class: nvme, pools: [{name: ceph-vm, pg_num: 128}], cephfs: {name: cephfs}}
              (or {initialized: false, spare_disks: 1}: the packages only, for pveceph init)

A file is read into a :class:`~.spec.ClusterSpec` (:func:`scenario_spec`), checked as PVE checks the same values
sent to its API; ``ClusterSpec.build`` makes the cluster. A mistake in a file is reported with the file, the line
and what is wrong (:class:`ScenarioError`), whether it is found while reading or while building.
Built-in scenarios live in ``pytest_pvemock/scenarios/<name>.yaml``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import time
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pytest_pvemock.errors import ParameterError
from pytest_pvemock.model.access.acl import builtin_roles, privileges
from pytest_pvemock.model.builders.spec import (
    DEFAULT_VERSION,
    AccessSpec,
    CephSpec,
    ClusterSpec,
    GuestSpec,
    HASpec,
    NodeSpec,
    PoolSpec,
    ScenarioError,
    SetupRequest,
    SnapshotSpec,
    StorageSpec,
    StoredConfig,
    TokenSpec,
    UserSpec,
    VolumeSpec,
    Where,
    api_path_of_file,
    located,
)
from pytest_pvemock.model.clock import DEFAULT_EPOCH, TASK_MODES
from pytest_pvemock.model.guests import RUN_STATES
from pytest_pvemock.model.ha.chaos import ChaosSettingsError, chaos_settings
from pytest_pvemock.model.node_hardware import ADD_ONS
from pytest_pvemock.model.nodes.node import SUBSCRIPTION_LEVELS, default_ip
from pytest_pvemock.model.tfa import totp_code
from pytest_pvemock.model.time_zone import zone_info
from pytest_pvemock.safe_yaml import check_limits
from pytest_pvemock.schema.parameters import check_parameters
from pytest_pvemock.schema.registry import get_registry, resolve_release, supported_release
from pytest_pvemock.schema.secrets import load_secret_index

__all__ = ["ScenarioError", "builtin_scenarios", "scenario_spec", "scenario_text", "spec_from_text"]

CLUSTER_KEYS = {"name", "version", "host", "port", "task_mode", "seed", "shuffle_keys", "start_time", "timezone"}
NODE_KEYS = {"name", "ip", "cpus", "memory_gib", "disk_gib", "level", "online", "uptime", "devices", "spare_disks"}
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
POOL_KEYS = {"poolid", "comment", "storage"}
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
    "pending",
    "pending_delete",
    "uptime",
    "pid",
    "boots",
}
SNAPSHOT_KEYS = {"name", "description", "vmstate", "config"}
USER_KEYS = {
    "userid",
    "password",
    "password_env",
    "enable",
    "expire",
    "groups",
    "comment",
    "email",
    "firstname",
    "lastname",
    "tokens",
}
TOKEN_KEYS = {"tokenid", "secret", "secret_env", "privsep", "expire", "comment"}
_ENVIRONMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
HA_KEYS = {"resources", "groups", "rules", "shutdown_policy", "chaos"}
CEPH_KEYS = {"nodes", "osds_per_node", "device_class", "pools", "cephfs", "initialized", "spare_disks"}
CEPH_POOL_KEYS = {"name", "pg_num", "size", "min_size", "storage"}
CEPH_FS_KEYS = {"name", "pg_num"}
SETUP_METHODS = ("POST", "PUT", "DELETE")
ACCESS_KEYS = {"groups", "roles", "acl"}
GROUP_KEYS = {"groupid", "comment"}
ROLE_KEYS = {"roleid", "privs"}
ACL_KEYS = {"path", "type", "ugid", "roleid", "propagate"}
TOP_KEYS = {
    "cluster",
    "nodes",
    "storage",
    "pools",
    "guests",
    "users",
    "access",
    "ha",
    "ceph",
    "config",
    "sdn",
    "setup",
    "description",
}
SDN_KEYS = {"running", "nodes", "ipam", "lock"}
SDN_FILE_KEYS = {"interfaces", "frr"}


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


def _where(source: str, mapping: Any) -> Where:
    """Where ``mapping`` (a part of the parsed file) was written."""
    if isinstance(mapping, _Map):
        return Where(source, mapping.line or None, dict(getattr(mapping, "key_lines", {})))
    return Where(source, getattr(mapping, "line", None) or None)


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
    """The names of the scenarios shipped with the package (``default``, ``single-node``, ...)."""
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


def scenario_spec(name_or_path: str | Path = "default", **overrides: Any) -> ClusterSpec:
    """The spec of a built-in scenario or a YAML file; ``overrides`` replace the file's ``cluster:`` settings."""
    source, text = scenario_text(name_or_path)
    return dataclasses.replace(_spec(text, source, overrides), scenario_name=str(name_or_path))


def spec_from_text(text: str, source: str = "<scenario>", **overrides: Any) -> ClusterSpec:
    """The spec of a scenario's YAML ``text`` (``source`` names it in errors)."""
    return _spec(text, source, overrides)


_SPECS: dict[tuple[str, str, str], ClusterSpec] = {}


def _spec(text: str, source: str, overrides: dict[str, Any]) -> ClusterSpec:
    """The spec of ``text``, read and checked once per text and overrides: fixtures build clusters often.

    A kept spec is never changed: building copies what the cluster keeps (configs, HA entries).
    """
    key = (source, text, repr(sorted(overrides.items())))
    spec = _SPECS.get(key)
    if spec is None:
        reader = _Reader(source)
        top = reader.mapping(_parse(text, source), "the scenario", TOP_KEYS)
        spec = _read(reader, top, overrides)
        if len(_SPECS) > 1_000:
            _SPECS.clear()
        _SPECS[key] = spec
    return spec


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


@dataclass
class _Known:
    """What the file declared so far, for the checks that look across parts (a guest on a node, in a pool ...)."""

    version: str
    nodes: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> ip
    storages: list[str] = dataclasses.field(default_factory=list)
    pools: set[str] = dataclasses.field(default_factory=set)
    guests: dict[int, str] = dataclasses.field(default_factory=dict)  # vmid -> kind
    users: set[str] = dataclasses.field(default_factory=lambda: {"root@pam"})
    tokens: set[str] = dataclasses.field(default_factory=set)  # user@realm!name
    setup_time: int = 0  # when the API answers the setup requests: the cluster's 'now' (else its start)


def _read(reader: _Reader, top: _Map, overrides: dict[str, Any]) -> ClusterSpec:
    settings = reader.mapping(top.get("cluster", _Map()), "'cluster'", CLUSTER_KEYS | {"now"}, top)
    options = _cluster_settings(reader, settings)
    now = options.pop("now", None)
    if now is not None and (not isinstance(now, int) or isinstance(now, bool) or now < options.get("start_time", 0)):
        raise reader.fail(settings, f"'now' of 'cluster' must be an epoch not before 'start_time', not {now!r}", "now")
    given = {key: value for key, value in overrides.items() if value is not None}
    spec = ClusterSpec(settings=options, overrides=given, where=_where(reader.source, settings or top), now=now)
    known = _Known(_release(reader, options, given))
    start = given.get("start_time", options.get("start_time", DEFAULT_EPOCH))
    known.setup_time = now if now is not None else int(start)
    if "name" in settings:  # pvecm create's clustername (pve-cluster API2/ClusterConfig.pm)
        values = {"clustername": ("name", settings["name"])}
        _check_like_pve(reader, settings, "'cluster'", known.version, "/cluster/config", values)
    nodes = reader.sequence(top.get("nodes"), "nodes", top)
    if not nodes:
        where = top if "nodes" in top else None
        raise reader.fail(
            where, "the scenario has no nodes: a cluster needs at least one (add a 'nodes' list)", "nodes"
        )
    spec.nodes = [_read_node(reader, known, entry) for entry in nodes]
    spec.storages = [
        _read_storage(reader, known, entry) for entry in reader.sequence(top.get("storage"), "storage", top)
    ]
    if "ceph" in top:
        spec.ceph = _read_ceph(reader, known, top["ceph"], top)
    spec.pools = [_read_pool(reader, known, entry, top) for entry in reader.sequence(top.get("pools"), "pools", top)]
    spec.guests = [_read_guest(reader, known, entry) for entry in reader.sequence(top.get("guests"), "guests", top)]
    spec.users = [_read_user(reader, known, entry) for entry in reader.sequence(top.get("users"), "users", top)]
    if "ha" in top:
        spec.ha = _read_ha(reader, known, reader.mapping(top["ha"], "'ha'", HA_KEYS, top))
    requests = [_read_setup(reader, known, entry) for entry in reader.sequence(top.get("setup"), "setup", top)]
    spec.setup = [request for request in requests if request is not None]
    if "access" in top:
        spec.access = _read_access(reader, known, reader.mapping(top["access"], "'access'", ACCESS_KEYS, top))
    if "config" in top:
        config = top["config"]
        if not isinstance(config, _Map):
            raise reader.fail(top, "'config' must be a mapping of API paths (e.g. /cluster/firewall/rules)", "config")
        spec.config = [_read_stored(reader, known, config, str(path)) for path in config]
    if "sdn" in top:
        spec.sdn = _read_sdn(reader, known, top["sdn"], top)
    return spec


def _read_sdn(reader: _Reader, known: _Known, entry: Any, top: _Map) -> dict[str, Any]:
    """``sdn``: the applied SDN state a dump writes (``model/sdn.py`` ``sdn_state_data``): ``running`` (the running
    config, ``version`` first), ``nodes`` (each declared node's generated ``interfaces`` and ``frr`` files, each
    ``{mtime, text}``), ``ipam`` (zone -> subnet -> IP -> mapping) and ``lock`` (the global lock's token)."""
    spec = reader.mapping(entry, "'sdn'", SDN_KEYS, top)
    running = spec.get("running") or _Map()
    if not isinstance(running, dict) or not isinstance(running.get("version", 0), int):
        raise reader.fail(spec, "'running' of 'sdn' must be a mapping with an integer 'version'", "running")
    nodes = spec.get("nodes") or _Map()
    for node, files in nodes.items() if isinstance(nodes, dict) else ():
        if str(node) not in known.nodes:
            raise reader.fail(nodes, f"'sdn' names unknown node '{node}'", str(node))
        for kind, found in reader.mapping(files, f"the files of node '{node}' in 'sdn'", SDN_FILE_KEYS, nodes).items():
            if not isinstance(found, dict) or not isinstance(found.get("mtime"), int) or "text" not in found:
                raise reader.fail(files, f"'{kind}' of node '{node}' in 'sdn' needs 'mtime' and 'text'", kind)
    reader.typed(spec, "lock", "'sdn'", str)
    return dict(_plain(spec))


def _read_setup(reader: _Reader, known: _Known, entry: Any) -> SetupRequest | None:
    """``{"POST /cluster/firewall/aliases": {name: mgmt, cidr: ...}}``: a write of the release's API, its parameters
    checked as PVE checks them (what the handler refuses is reported on this line when the cluster first answers).
    ``since: "8.1"`` beside it marks a write only that release and later ones have: an older cluster skips it, as
    its admin could not have made it."""
    since = entry.get("since") if isinstance(entry, _Map) and len(entry) == 2 else None
    if since is not None:
        if not re.fullmatch(r"\d+(\.\d+){0,2}", str(since)):
            raise reader.fail(entry, f"setup request 'since: {since}' must be a PVE release such as 8.1", "since")
        if not resolve_release(known.version).at_least(str(since)):
            return None
        trimmed = _Map({key: value for key, value in entry.items() if key != "since"})
        trimmed.line, trimmed.key_lines = entry.line, entry.key_lines
        entry = trimmed
    if not isinstance(entry, _Map) or len(entry) != 1:
        raise reader.fail(entry, "a setup request must be one 'METHOD /path: {parameters}' mapping (and 'since')")
    request, params = next(iter(entry.items()))
    method, _, path = str(request).partition(" ")
    method, path = method.upper(), "/" + path.strip().strip("/")
    if method not in SETUP_METHODS:
        raise reader.fail(entry, f"setup request '{request}': the method must be one of {', '.join(SETUP_METHODS)}")
    params = params if params is not None else _Map()
    if not isinstance(params, _Map):
        raise reader.fail(entry, f"the parameters of setup request '{request}' must be a mapping", str(request))
    endpoint = get_registry(known.version).resolve(method, path)
    if endpoint is None:
        raise reader.fail(entry, f"setup request '{request}': PVE {known.version} has no method {method} {path}")
    properties = endpoint.parameters_schema.get("properties") or {}
    raw = {
        name: [str(item) for item in _as_list(value)]
        if (properties.get(name) or {}).get("type") == "array"
        else _parameter_text(_plain(value))
        for name, value in params.items()
    }
    raw.update(_new_secrets(method, path, raw, endpoint.parameters_schema, known.setup_time))
    try:
        endpoint.check_parameters({**raw, **endpoint.params})
    except ParameterError as error:
        problems = "; ".join(f"{name}: {text.strip()}" for name, text in sorted((error.errors or {}).items()))
        raise reader.fail(entry, f"setup request '{request}': {problems or error.message.strip()}") from None
    return SetupRequest(method, path, raw, _where(reader.source, entry))


def _new_secrets(
    method: str, path: str, given: dict[str, Any], schema: dict[str, Any], setup_time: int
) -> dict[str, str]:
    """A new value for each secret the method requires and the request lacks (a dump never writes one: a Gotify
    target's token), as a loaded API token gets a new secret: the target exists and nobody knows its secret. A TOTP
    factor without its ``totp`` URI gets a new one, and the code of that URI when the setup is answered."""
    secret = load_secret_index().secret_parameters(method, path)
    required = set(schema.get("required") or ())
    missing = sorted(name for name in required & secret if name not in given)
    new = {name: hashlib.sha256(f"{method} {path} {name}".encode()).hexdigest()[:32] for name in missing}
    if method == "POST" and path.startswith("/access/tfa/") and given.get("type") == "totp" and "totp" not in given:
        key = hashlib.sha256(f"{method} {path} totp".encode()).digest()[:20]
        new["totp"] = f"otpauth://totp/{path.rsplit('/', 1)[1]}?secret={base64.b32encode(key).decode()}"
        new["value"] = totp_code(key, setup_time)
    return new


def _release(reader: _Reader, options: dict[str, Any], given: dict[str, Any]) -> str:
    """The release the cluster will answer as, for the checks of the file's values."""
    if "version" not in given:
        return str(options.get("version", DEFAULT_VERSION))
    try:
        return supported_release(given["version"])
    except (TypeError, ValueError) as error:
        passed = ", ".join(f"{key}={value!r}" for key, value in given.items())
        raise ValueError(f"{reader.source} built with {passed}: {error}") from None


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
        where = _where(reader.source, settings)
        options["version"] = located(where, lambda: supported_release(settings["version"]), "version")
    if "task_mode" in settings and settings["task_mode"] not in TASK_MODES:
        modes = ", ".join(TASK_MODES)
        raise reader.fail(
            settings, f"'task_mode' of {what} must be one of {modes}, not {settings['task_mode']!r}", "task_mode"
        )
    if "timezone" in settings:
        located(_where(reader.source, settings), partial(zone_info, settings["timezone"]), "timezone")
    return options


_PASSED_CHECKS: set[tuple[str, str, bool, str]] = set()


def _check_like_pve(
    reader: _Reader,
    where: _Map,
    what: str,
    version: str,
    template: str,
    values: dict[str, tuple[str, Any]],
    *,
    all_keys: bool = False,
    method: str = "POST",
) -> None:
    """Check scenario values as PVE checks the parameters of ``POST template``, so a value PVE (and the fake's
    answers) would refuse fails at load, on its line, with PVE's message (an enum names the allowed values).

    ``values``: parameter -> (scenario key, value). Only the parameters named are checked, none is required;
    with ``all_keys`` a name PVE's method does not define is refused too (otherwise it is left to the caller).
    """
    # fixtures build the same scenario for every test: a set of values PVE accepted once is not checked again
    passed_key = (version, f"{method} {template}", all_keys, repr(sorted(values.items())))
    if passed_key in _PASSED_CHECKS:
        return
    try:
        schema = get_registry(version).endpoint(method, template).parameters_schema
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
    raw = {
        name: value if properties.get(name, {}).get("type") == "array" and isinstance(value, list) else
        _parameter_text(value)
        for name, (_key, value) in values.items()
        if value is not None
    }  # fmt: skip
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


def _chaos(reader: _Reader, ha: _Map) -> dict[str, Any]:
    """``ha: {chaos: 7}`` or ``ha: {chaos: {seed: 7, rate: 0.3, max_down: 1}}``: seeded HA faults from the start."""
    spec = ha["chaos"]
    try:
        return chaos_settings(_plain(spec))
    except ChaosSettingsError as error:
        if isinstance(spec, _Map) and error.key is not None:
            raise reader.fail(spec, f"'ha: chaos': {error}", error.key) from None
        raise reader.fail(ha, f"'ha: chaos': {error}", "chaos") from None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _plain(value: Any) -> Any:
    """``value`` as plain, unshared dicts and lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _read_node(reader: _Reader, known: _Known, entry: Any) -> NodeSpec:
    node = reader.mapping(entry, "a node", NODE_KEYS)
    name = reader.require(node, "name", "a node")
    values = {"node": ("name", name), "new_node_ip": ("ip", node.get("ip"))}
    _check_like_pve(reader, node, f"node '{name}'", known.version, "/cluster/config/nodes/{node}", values)
    if reader.typed(node, "cpus", f"node '{name}'", int) is not None and node["cpus"] < 1:
        raise reader.fail(node, f"'cpus' of node '{name}' must be at least 1, not {node['cpus']!r}", "cpus")
    for key, least in (("memory_gib", 1), ("disk_gib", 4)):  # the seeded figures subtract up to 0.4 / 2 GiB
        if reader.typed(node, key, f"node '{name}'", (int, float)) is not None and node[key] < least:
            raise reader.fail(node, f"'{key}' of node '{name}' must be at least {least}, not {node[key]!r}", key)
    taken = {ip: other for other, ip in known.nodes.items()}
    if node.get("ip") in taken:
        raise reader.fail(node, f"node '{name}' has the ip of node '{taken[node['ip']]}' ({node['ip']})", "ip")
    reader.typed(node, "online", f"node '{name}'", bool)
    spare_disks = reader.typed(node, "spare_disks", f"node '{name}'", int)
    if spare_disks is not None and not 0 <= spare_disks <= 24:
        raise reader.fail(node, f"'spare_disks' of node '{name}' must be between 0 and 24, not {spare_disks}",
                          "spare_disks")  # fmt: skip
    if node.get("level", "") not in SUBSCRIPTION_LEVELS:
        levels = ", ".join(level or "'' (none)" for level in SUBSCRIPTION_LEVELS)
        raise reader.fail(node, f"'level' of node '{name}' must be one of {levels}, not {node['level']!r}", "level")
    if name not in known.nodes:  # a second node of the same name is refused when the cluster is built
        known.nodes[name] = node.get("ip") or default_ip(len(known.nodes) + 1)
    devices = reader.typed(node, "devices", f"node '{name}'", list)
    for device in devices or ():
        if device not in ADD_ONS:
            known_names = ", ".join(sorted(ADD_ONS))
            raise reader.fail(node, f"node '{name}' names unknown device {device!r} (known: {known_names})", "devices")
    return NodeSpec(
        name,
        ip=node.get("ip"),
        cpus=node.get("cpus"),
        memory_gib=node.get("memory_gib"),
        disk_gib=node.get("disk_gib"),
        level=node.get("level"),
        online=node.get("online"),
        uptime=_runtime_figure(reader, node, "uptime", f"node '{name}'"),
        devices=[str(device) for device in devices] if devices else None,
        spare_disks=spare_disks,
        where=_where(reader.source, node),
    )


def _runtime_figure(reader: _Reader, spec: _Map, key: str, what: str) -> int | None:
    """``uptime``, ``pid`` or ``boots``: a whole number (``pid`` and ``boots`` at least 1)."""
    value = reader.typed(spec, key, what, int)
    if value is not None and value < (0 if key == "uptime" else 1):
        raise reader.fail(spec, f"'{key}' of {what} must be at least {0 if key == 'uptime' else 1}, not {value}", key)
    return value  # type: ignore[no-any-return]


def _read_storage(reader: _Reader, known: _Known, entry: Any) -> StorageSpec:
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
    _check_like_pve(reader, spec, what, known.version, "/storage", values)
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
        if name not in known.nodes:
            raise reader.fail(spec, f"storage '{storage_id}' names unknown node '{name}'", "nodes")
    volumes = []
    for item in reader.sequence(spec.get("volumes"), "volumes", spec):
        volume = reader.mapping(item, "a volume", VOLUME_KEYS)
        name = reader.require(volume, "name", "a volume")
        if "content" in volume:  # one of the storage content types (pve-storage's valid_content_types)
            values = {"content": ("content", volume["content"])}
            _check_like_pve(reader, volume, f"volume '{name}'", known.version, "/storage", values)
        size = reader.typed(volume, "size", f"volume '{name}'", int, 0)
        if size < 0:
            raise reader.fail(volume, f"'size' of volume '{name}' must be bytes (0 or more), not {size}", "size")
        where = _where(reader.source, volume)
        content_type, fmt = str(volume.get("content", "iso")), str(volume.get("format", "raw"))
        volumes.append(VolumeSpec(name, content_type, size, fmt, where=where))
    known.storages.append(str(storage_id))
    return StorageSpec(
        storage_id,
        plugintype=str(spec.get("type", "dir")),
        content=content,
        shared=bool(spec.get("shared", False)),
        nodes=nodes,
        size_gib=float(spec.get("size_gib", 100)),
        used_fraction=float(spec.get("used_fraction", 0.2)),
        path=spec.get("path"),
        enabled=bool(spec.get("enabled", True)),
        volumes=volumes,
        where=_where(reader.source, spec),
    )


def _read_ceph(reader: _Reader, known: _Known, entry: Any, top: _Map) -> CephSpec:
    """``ceph: {}`` or with ``nodes``, ``osds_per_node``, ``device_class``, ``pools`` and ``cephfs``: Ceph set up as
    pveceph does, each pool with its RBD storage (a storage of that name declared under ``storage`` is used)."""
    spec = reader.mapping(entry if entry is not None else _Map(), "'ceph'", CEPH_KEYS, top)
    what = "'ceph'"
    nodes = reader.sequence(spec.get("nodes"), "nodes", spec) or None
    for name in nodes or ():
        if str(name) not in known.nodes:
            raise reader.fail(spec, f"{what} names unknown node '{name}' (nodes: {', '.join(known.nodes)})", "nodes")
    osds = reader.typed(spec, "osds_per_node", what, int, 2)
    if not 0 <= osds <= 24:
        raise reader.fail(spec, f"'osds_per_node' of {what} must be between 0 and 24, not {osds}", "osds_per_node")
    device_class = reader.typed(spec, "device_class", what, str, "nvme")
    initialized = reader.typed(spec, "initialized", what, bool, True)
    spare_disks = reader.typed(spec, "spare_disks", what, int, 0)
    if not 0 <= spare_disks <= 24:
        raise reader.fail(spec, f"'spare_disks' of {what} must be between 0 and 24, not {spare_disks}", "spare_disks")
    if not initialized:
        for key in ("osds_per_node", "pools", "cephfs"):
            if key in spec:
                raise reader.fail(spec, f"{what} with 'initialized: false' is only installed: it has no '{key}'", key)
    pools = None
    if "pools" in spec:
        pools = []
        for item in reader.sequence(spec.get("pools"), "pools", spec):
            pool = reader.mapping(item, "a ceph pool", CEPH_POOL_KEYS, spec)
            name = reader.require(pool, "name", "a ceph pool")
            for key in ("pg_num", "size", "min_size"):
                reader.typed(pool, key, f"ceph pool '{name}'", int)
            reader.typed(pool, "storage", f"ceph pool '{name}'", bool)
            # the checks of pveceph pool create (pve-manager PVE/API2/Ceph/Pool.pm, commit 14a22df3)
            values = {key: (key, pool[key]) for key in ("name", "pg_num", "size", "min_size") if key in pool}
            _check_like_pve(reader, pool, f"ceph pool '{name}'", known.version, "/nodes/{node}/ceph/pool", values)
            if pool.get("storage", True) and str(name) not in known.storages:
                known.storages.append(str(name))
            pools.append(_plain(pool))
    elif initialized and "ceph-vm" not in known.storages:
        known.storages.append("ceph-vm")
    cephfs = None
    if "cephfs" in spec:
        fs = reader.mapping(spec["cephfs"] if spec["cephfs"] is not None else _Map(), "'cephfs'", CEPH_FS_KEYS, spec)
        reader.typed(fs, "name", "'cephfs'", str)
        reader.typed(fs, "pg_num", "'cephfs'", int)
        cephfs = _plain(fs)
        if str(fs.get("name", "cephfs")) not in known.storages:
            known.storages.append(str(fs.get("name", "cephfs")))
    return CephSpec(
        nodes=[str(name) for name in nodes] if nodes else None,
        osds_per_node=osds,
        device_class=device_class,
        pools=pools,
        cephfs=cephfs,
        initialized=initialized,
        spare_disks=spare_disks,
        where=_where(reader.source, spec),
    )


def _read_pool(reader: _Reader, known: _Known, entry: Any, top: _Map) -> PoolSpec:
    pool = reader.mapping(entry, "a pool", POOL_KEYS, top)
    values = {key: (key, pool[key]) for key in POOL_KEYS if key in pool}
    _check_like_pve(reader, pool, f"pool '{pool.get('poolid')}'", known.version, "/pools", values)
    poolid = reader.require(pool, "poolid", "a pool")
    known.pools.add(poolid)
    storage = [str(name) for name in reader.sequence(pool.get("storage"), "storage", pool)]
    for name in storage:
        if name not in known.storages:
            raise reader.fail(pool, f"pool '{poolid}' names unknown storage '{name}'", "storage")
    return PoolSpec(poolid, str(pool.get("comment", "")), storage, where=_where(reader.source, pool))


def _read_guest(reader: _Reader, known: _Known, entry: Any) -> GuestSpec:
    spec = reader.mapping(entry, "a guest", GUEST_KEYS)
    vmid = reader.require(spec, "vmid", "a guest", int)
    what = f"guest {vmid}"
    kind = spec.get("type", "qemu")
    if kind not in ("qemu", "lxc"):
        raise reader.fail(spec, f"'type' of {what} must be qemu or lxc, not {kind!r}", "type")
    node = spec.get("node")
    if node is not None and node not in known.nodes:
        raise reader.fail(spec, f"{what} is on unknown node '{node}' (nodes: {', '.join(known.nodes)})", "node")
    for key in ("cores", "sockets", "memory", "swap", "disk_gib"):
        reader.typed(spec, key, what, int)
    reader.typed(spec, "template", what, bool)
    if "disk_gib" in spec and spec["disk_gib"] < 1:
        raise reader.fail(spec, f"'disk_gib' of {what} must be at least 1, not {spec['disk_gib']!r}", "disk_gib")
    if "storage" in spec and str(spec["storage"]) not in known.storages:
        names = ", ".join(known.storages) or "none"
        problem = f"{what} has its disk on unknown storage '{spec['storage']}' (storage: {names})"
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
    _check_like_pve(reader, spec, what, known.version, template, values)
    pool = spec.get("pool")
    if pool is not None and pool not in known.pools:
        raise reader.fail(spec, f"{what} is in unknown pool '{pool}' (add it under 'pools')", "pool")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise reader.fail(spec, f"'config' of {what} must be a mapping", "config")
    if isinstance(config, _Map):
        values = {str(key): (str(key), value) for key, value in config.items()}
        _check_like_pve(reader, config, f"the config of {what}", known.version, template, values)
    pending = spec.get("pending") or {}
    if not isinstance(pending, dict):
        raise reader.fail(spec, f"'pending' of {what} must be a mapping", "pending")
    if isinstance(pending, _Map):
        values = {str(key): (str(key), value) for key, value in pending.items()}
        _check_like_pve(reader, pending, f"the pending changes of {what}", known.version, template, values)
    pending_delete = [str(key) for key in reader.sequence(spec.get("pending_delete"), "pending_delete", spec)]
    runtime = {key: _runtime_figure(reader, spec, key, what) for key in ("uptime", "pid", "boots")}
    for key, value in runtime.items():
        if value is not None and status == "stopped":
            raise reader.fail(spec, f"'{key}' is for a running guest; {what} is stopped", key)
    if kind == "qemu" and "swap" in spec:
        raise reader.fail(spec, f"'swap' is for containers; {what} is a qemu VM", "swap")
    if kind == "lxc" and "sockets" in spec:
        raise reader.fail(spec, f"'sockets' is for VMs; {what} is an lxc container", "sockets")
    snapshots = []
    for item in reader.sequence(spec.get("snapshots"), "snapshots", spec):
        snap = reader.mapping(item, "a snapshot", SNAPSHOT_KEYS)
        name = reader.require(snap, "name", "a snapshot")
        values = {"snapname" if key == "name" else key: (key, value) for key, value in snap.items() if key != "config"}
        path = f"{template}/{{vmid}}/snapshot"
        _check_like_pve(reader, snap, f"snapshot '{name}' of {what}", known.version, path, values, all_keys=True)
        saved = snap.get("config") or {}
        if not isinstance(saved, dict):
            raise reader.fail(snap, f"'config' of snapshot '{name}' of {what} must be a mapping", "config")
        snapshots.append(SnapshotSpec(str(name), str(snap.get("description", "")), bool(snap.get("vmstate", False)),
                                      _plain(saved)))  # fmt: skip
    known.guests.setdefault(vmid, kind)
    return GuestSpec(
        vmid,
        kind,
        node=node,
        name=str(spec["name"]) if "name" in spec else None,
        status=spec.get("status"),
        cores=spec.get("cores"),
        sockets=spec.get("sockets"),
        memory=spec.get("memory"),
        swap=spec.get("swap"),
        disk_gib=spec.get("disk_gib"),
        storage=spec.get("storage"),
        tags=spec.get("tags"),
        template=spec.get("template"),
        pool=pool,
        lock=spec.get("lock"),
        config=_plain(config),
        snapshots=snapshots,
        pending=_plain(pending),
        pending_delete=pending_delete,
        uptime=runtime["uptime"],
        pid=runtime["pid"],
        boots=runtime["boots"],
        where=_where(reader.source, spec),
    )


def _read_user(reader: _Reader, known: _Known, entry: Any) -> UserSpec:
    spec = reader.mapping(entry, "a user", USER_KEYS)
    userid = reader.require(spec, "userid", "a user")
    # the password is left out: PVE wants 8 characters to create a user, but a scenario may log in with any
    values = {key: (key, value) for key, value in spec.items() if key not in ("tokens", "password", "password_env")}
    _environment_reference(reader, spec, "password", f"user '{userid}'")
    _check_like_pve(reader, spec, f"user '{userid}'", known.version, "/access/users", values)
    tokens = []
    for item in reader.sequence(spec.get("tokens"), "tokens", spec):
        token = reader.mapping(item, "a token", TOKEN_KEYS)
        tokenid = reader.require(token, "tokenid", "a token")
        reader.typed(token, "secret", f"token '{tokenid}' of user '{userid}'", str)
        _environment_reference(reader, token, "secret", f"token '{tokenid}' of user '{userid}'")
        values = {key: (key, value) for key, value in token.items() if key not in ("secret", "secret_env")}
        template = "/access/users/{userid}/token/{tokenid}"
        _check_like_pve(reader, token, f"token '{tokenid}' of user '{userid}'", known.version, template, values)
        options = {key: token[key] for key in ("secret", "secret_env", "privsep", "expire", "comment") if key in token}
        known.tokens.add(f"{userid}!{tokenid}")
        tokens.append(TokenSpec(tokenid, **options, where=_where(reader.source, token)))
    options = {key: _plain(value) for key, value in spec.items() if key not in ("userid", "tokens")}
    known.users.add(str(userid))
    return UserSpec(userid, **options, tokens=tokens, where=_where(reader.source, spec))


def _read_ha(reader: _Reader, known: _Known, ha: _Map) -> HASpec:
    for resource in reader.sequence(ha.get("resources"), "resources", ha):
        _check_ha_resource(reader, known, resource)
    for kind, template in (("groups", "/cluster/ha/groups"), ("rules", "/cluster/ha/rules")):
        for item in reader.sequence(ha.get(kind), kind, ha):
            if not isinstance(item, _Map):
                raise reader.fail(item if hasattr(item, "line") else ha, f"an HA {kind[:-1]} must be a mapping")
            values = {str(key): (str(key), value) for key, value in item.items()}
            what = f"HA {kind[:-1]} '{item.get(kind[:-1])}'"
            _check_like_pve(reader, item, what, known.version, template, values, all_keys=True)
    groups = {str(group.get("group")) for group in reader.sequence(ha.get("groups"), "groups", ha)}
    for resource in reader.sequence(ha.get("resources"), "resources", ha):
        if "group" in resource and str(resource["group"]) not in groups:  # pve-ha-manager API2/HA/Resources.pm
            raise reader.fail(
                resource, f"HA group '{resource['group']}' does not exist (add it under 'groups')", "group"
            )
    # plain copies: the parsed tree is not the cluster's
    return HASpec(
        resources=[_plain(item) for item in reader.sequence(ha.get("resources"), "resources", ha)],
        groups=[_plain(item) for item in reader.sequence(ha.get("groups"), "groups", ha)],
        rules=[_plain(item) for item in reader.sequence(ha.get("rules"), "rules", ha)],
        shutdown_policy=str(ha["shutdown_policy"]) if "shutdown_policy" in ha else None,
        chaos=_chaos(reader, ha) if "chaos" in ha else None,
        where=_where(reader.source, ha),
    )


def _environment_reference(reader: _Reader, spec: _Map, key: str, what: str) -> None:
    """``<key>_env: NAME``: the secret is read from the environment variable NAME when the cluster is built."""
    env = f"{key}_env"
    if env not in spec:
        return
    if key in spec:
        raise reader.fail(spec, f"{what} has both '{key}' and '{env}': give one", env)
    name = spec[env]
    if not isinstance(name, str) or not _ENVIRONMENT_NAME.fullmatch(name):
        raise reader.fail(spec, f"'{env}' of {what} must name an environment variable (e.g. CI_TOKEN_SECRET)", env)


def _read_access(reader: _Reader, known: _Known, access: _Map) -> AccessSpec:
    """``access:`` groups, roles and ACL entries, checked as PVE checks them when a client creates them."""
    groups = []
    for item in reader.sequence(access.get("groups"), "groups", access):
        group = reader.mapping(item, "a group", GROUP_KEYS, access)
        groupid = reader.require(group, "groupid", "a group")
        values = {key: (key, value) for key, value in group.items()}
        _check_like_pve(reader, group, f"group '{groupid}'", known.version, "/access/groups", values)
        groups.append(_plain(group))
    names = {str(group["groupid"]) for group in groups}
    roles = []
    for item in reader.sequence(access.get("roles"), "roles", access):
        role = reader.mapping(item, "a role", ROLE_KEYS, access)
        roleid = reader.require(role, "roleid", "a role")
        what = f"role '{roleid}'"
        if roleid in builtin_roles(known.version) or roleid.lower().startswith(
            "pve"
        ):  # pve-access-control API2/Role.pm 96-101
            raise reader.fail(role, f"{what} is one of PVE's built-in roles (or in its 'PVE' namespace)", "roleid")
        privs = role.get("privs") or []
        privs = str(privs).split(",") if not isinstance(privs, list) else privs
        for priv in privs:
            if str(priv).strip() not in privileges(known.version):
                raise reader.fail(role, f"'privs' of {what}: invalid privilege '{priv}'", "privs")
        roles.append({"roleid": roleid, "privs": [str(priv).strip() for priv in privs]})
    known_roles = set(builtin_roles(known.version)) | {role["roleid"] for role in roles}
    acl = []
    for item in reader.sequence(access.get("acl"), "acl", access):
        entry = reader.mapping(item, "an ACL entry", ACL_KEYS, access)
        path = reader.require(entry, "path", "an ACL entry")
        roleid = reader.require(entry, "roleid", "an ACL entry")
        ugid = reader.require(entry, "ugid", "an ACL entry")
        kind = entry.get("type", "user")
        what = f"the ACL entry of '{ugid}' on '{path}'"
        if kind not in ("user", "group", "token"):
            raise reader.fail(entry, f"'type' of {what} must be user, group or token, not {kind!r}", "type")
        declared = {"user": known.users, "group": names, "token": known.tokens}[kind]
        if ugid not in declared:  # pve-access-control API2/ACL.pm update_acl: "user '...' does not exist"
            raise reader.fail(entry, f"{kind} '{ugid}' does not exist (declare it under 'users' or 'access')", "ugid")
        if roleid not in known_roles:
            raise reader.fail(entry, f"role '{roleid}' does not exist", "roleid")
        values = {"path": ("path", path), "propagate": ("propagate", entry.get("propagate"))}
        _check_like_pve(reader, entry, what, known.version, "/access/acl", values, method="PUT")
        acl.append({**_plain(entry), "type": kind})
    return AccessSpec(groups, roles, acl, where=_where(reader.source, access))


_GUEST_KINDS = {"qemu": "qemu", "lxc": "lxc"}


def _read_stored(reader: _Reader, known: _Known, config: _Map, path: str) -> StoredConfig:
    """One ``config:`` entry: the concrete API path of a collection and what a client wrote there (a list of
    firewall rules, a mapping of records by id, or a mapping of options), checked as PVE checks the writes. A
    collection the fake keeps as a pmxcfs file (``/etc/pve/priv/acme/plugins.cfg``) is written under the file's name.
    """
    value = config[path]
    where = _where(reader.source, config)
    what = f"'config: {path}'"
    registry = get_registry(known.version)
    if path.startswith("/etc/pve/"):
        if isinstance(value, list):
            return StoredConfig(path, "rules", _plain(value), where=where)
        if not isinstance(value, _Map):
            raise reader.fail(config, f"{what} must be a list or a mapping", path)
        if value and not all(isinstance(record, dict) for record in value.values()):
            return StoredConfig(path, "options", _plain(value), where=where)
        api = api_path_of_file(path)
        if api is not None:
            _check_records(reader, known, api, value, what)
        return StoredConfig(path, "records", _plain(value), where=where)
    found = registry.match(path) if path.startswith("/") else None
    if found is None or "GET" not in registry.methods_for(found[0]):
        raise reader.fail(config, f"'config': no such API path '{path}' (e.g. /cluster/firewall/rules)", path)
    template, params = found
    if "node" in params and params["node"] not in known.nodes:
        raise reader.fail(config, f"'config': {path} names unknown node '{params['node']}'", path)
    if "vmid" in params:
        kind = template.split("/")[3]
        if known.guests.get(int(params["vmid"])) != kind if params["vmid"].isdigit() else True:
            raise reader.fail(config, f"'config': {path} names no such {kind} guest", path)
    rules = f"{template}/{{pos}}" in registry.templates()
    _check_parent(reader, config, path, template)
    answer = registry.endpoint("GET", template).returns_schema.get("type")
    if rules:
        if not isinstance(value, list):
            raise reader.fail(config, f"{what} holds firewall rules: a list of rules", path)
        for rule in value:
            if not isinstance(rule, _Map):
                raise reader.fail(config, f"a rule of {what} must be a mapping", path)
            values = {str(key): (str(key), item) for key, item in rule.items()}
            _check_like_pve(reader, rule, f"a rule of {what}", known.version, template, values)
        return StoredConfig(path, "rules", _plain(value), where=where)
    if not isinstance(value, _Map):
        holds = "records by id" if answer == "array" else "options"
        raise reader.fail(config, f"{what} holds {holds}: a mapping", path)
    if answer != "array":
        values = {str(key): (str(key), item) for key, item in value.items()}
        _check_like_pve(reader, value, what, known.version, template, values, method="PUT")
        return StoredConfig(path, "options", _plain(value), where=where)
    _check_records(reader, known, template, value, what)
    return StoredConfig(path, "records", _plain(value), where=where)


_DECLARED_ELSEWHERE = re.compile(r"^/nodes(/[^/]+/(qemu|lxc))?$")  # nodes and guests: checked above
# Lists whose records another list declares: a fabric's nodes belong to a fabric of /cluster/sdn/fabrics/fabric
# (pve-network src/PVE/API2/Network/SDN/Fabrics/FabricNode.pm: 'fabric_id' names the fabric).
_DECLARED_BY = {"/cluster/sdn/fabrics/node": "/cluster/sdn/fabrics/fabric"}


def _check_parent(reader: _Reader, config: _Map, path: str, template: str) -> None:
    """A collection inside a record of another (a vnet's subnets, an IP set's entries, a security group's rules)
    needs that record under ``config``, as PVE refuses to read or write it otherwise ("sdn 'vnet1' does not
    exist", "no such IP set")."""
    parts, names = path.split("/"), template.split("/")
    for index in range(len(names) - 1, 1, -1):
        if not names[index].startswith("{"):
            continue
        base, key = "/".join(parts[:index]), parts[index]
        if _DECLARED_ELSEWHERE.match(base):
            continue
        parent = config.get(_DECLARED_BY.get(base, base))
        if not isinstance(parent, dict) or key not in parent:
            raise reader.fail(config, f"'config': {path} belongs to '{key}', which '{base}' does not declare", path)


_VALUE_RULES = ("format", "pattern", "anyOf", "oneOf")


def _listed_differently(registry: Any, template: str, create: str | None) -> set[str]:
    """The settings a record holds as the list answers them, in a form its create does not take (a node's
    interface ``netmask: "24"``, which ``POST .../network`` wants as 255.255.255.0): not checked as a create."""
    if create is None:
        return set()
    items = registry.endpoint("GET", template).returns_schema.get("items") or {}
    listed = items.get("properties") or {}
    taken = registry.endpoint("POST", create).parameters_schema.get("properties") or {}
    return {
        name
        for name, schema in listed.items()
        if name in taken
        and any(rule in schema for rule in _VALUE_RULES)  # the list has a form of its own for it
        and any(schema.get(rule) != taken[name].get(rule) for rule in _VALUE_RULES)
    }


def _check_records(reader: _Reader, known: _Known, template: str, records: _Map, what: str) -> None:
    """Each record as PVE checks a client's create of it (``POST`` on the list, or on the item where PVE creates
    there), its id as the item's path parameter."""
    registry = get_registry(known.version)
    item = next((child for child in registry.children(template) if child.count("/") == template.count("/") + 1), None)
    key_name = item.rsplit("{", 1)[1].rstrip("}") if item and item.endswith("}") else None
    create = template if "POST" in registry.methods_for(template) else item
    listed = _listed_differently(registry, template, create)
    for key, record in records.items():
        if not isinstance(record, _Map):
            raise reader.fail(records, f"record '{key}' of {what} must be a mapping", str(key))
        values = {str(name): (str(name), value) for name, value in record.items() if str(name) not in listed}
        if key_name is not None:
            values[key_name] = (str(key), key)
        if create is not None:
            _check_like_pve(reader, record, f"record '{key}' of {what}", known.version, create, values)


def _check_ha_resource(reader: _Reader, known: _Known, entry: Any) -> None:
    if not isinstance(entry, _Map) or "sid" not in entry:
        raise reader.fail(entry if hasattr(entry, "line") else None, "an HA resource needs 'sid' (e.g. vm:100)")
    sid = str(entry["sid"])
    kind, _, vmid = sid.partition(":")
    if kind not in ("vm", "ct") or not vmid.isdigit():
        raise reader.fail(entry, f"HA resource id '{sid}' must look like vm:100 or ct:101", "sid")
    if known.guests.get(int(vmid)) != ("qemu" if kind == "vm" else "lxc"):
        raise reader.fail(entry, f"HA resource '{sid}' names no such guest", "sid")
    values = {str(key): (str(key), value) for key, value in entry.items()}
    _check_like_pve(
        reader, entry, f"HA resource '{sid}'", known.version, "/cluster/ha/resources", values, all_keys=True
    )


def scenario_data(spec: ClusterSpec) -> dict[str, Any]:
    """``spec`` as a scenario file holds it: ``yaml.safe_dump`` writes it, :func:`spec_from_text` reads it back."""
    data: dict[str, Any] = {}
    settings = {key: value for key, value in {**spec.settings, **spec.overrides}.items() if key in CLUSTER_KEYS}
    if spec.now is not None:
        settings["now"] = spec.now
    if settings:
        data["cluster"] = settings
    data["nodes"] = [
        _present(name=node.name, ip=node.ip, cpus=node.cpus, memory_gib=node.memory_gib, disk_gib=node.disk_gib,
                 level=node.level, online=node.online, uptime=node.uptime, devices=node.devices,
                 spare_disks=node.spare_disks or None)
        for node in spec.nodes
    ]  # fmt: skip
    if spec.storages:
        data["storage"] = [_storage_data(storage) for storage in spec.storages]
    if spec.pools:
        data["pools"] = [
            _present(poolid=pool.poolid, comment=pool.comment or None, storage=list(pool.storage) or None)
            for pool in spec.pools
        ]
    if spec.guests:
        data["guests"] = [_guest_data(guest) for guest in spec.guests]
    if spec.users:
        data["users"] = [_user_data(user) for user in spec.users]
    if spec.ceph is not None:
        ceph = spec.ceph
        data["ceph"] = _present(
            nodes=list(ceph.nodes) if ceph.nodes else None,
            osds_per_node=ceph.osds_per_node,
            device_class=ceph.device_class,
            pools=[dict(pool) for pool in ceph.pools] if ceph.pools is not None else None,
            cephfs=dict(ceph.cephfs) if ceph.cephfs is not None else None,
        )
    if spec.ha is not None:
        ha = spec.ha
        data["ha"] = _present(
            resources=[dict(entry) for entry in ha.resources] or None,
            groups=[dict(entry) for entry in ha.groups] or None,
            rules=[dict(entry) for entry in ha.rules] or None,
            shutdown_policy=ha.shutdown_policy,
            chaos=dict(ha.chaos) if ha.chaos is not None else None,
        )
    if spec.access is not None:
        access = spec.access
        data["access"] = _present(
            groups=[dict(group) for group in access.groups] or None,
            roles=[dict(role) for role in access.roles] or None,
            acl=[dict(entry) for entry in access.acl] or None,
        )
    if spec.config:
        data["config"] = {stored.path: _plain(stored.content) for stored in sorted(spec.config, key=_by_path)}
    if spec.sdn:
        data["sdn"] = _plain(spec.sdn)
    if spec.setup:
        data["setup"] = [{f"{request.method} {request.path}": dict(request.params)} for request in spec.setup]
    return data


def _by_path(stored: StoredConfig) -> str:
    return stored.path


def _present(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _storage_data(storage: StorageSpec) -> dict[str, Any]:
    volumes = [
        {"name": volume.name, "content": volume.content, "size": volume.size, "format": volume.format}
        for volume in storage.volumes
    ]
    return _present(
        storage=storage.storage,
        type=storage.plugintype,
        content=list(storage.content),
        shared=storage.shared,
        nodes=list(storage.nodes) if storage.nodes else None,
        size_gib=storage.size_gib,
        used_fraction=storage.used_fraction,
        path=storage.path,
        enabled=storage.enabled,
        volumes=volumes or None,
    )


def _guest_data(guest: GuestSpec) -> dict[str, Any]:
    snapshots = [
        _present(
            name=snap.name,
            description=snap.description or None,
            vmstate=snap.vmstate or None,
            config=dict(snap.config) or None,
        )
        for snap in guest.snapshots
    ]
    return _present(
        vmid=guest.vmid,
        type=guest.kind,
        node=guest.node,
        name=guest.name,
        status=guest.status,
        cores=guest.cores,
        sockets=guest.sockets if guest.kind == "qemu" else None,
        memory=guest.memory,
        swap=guest.swap if guest.kind == "lxc" else None,
        disk_gib=guest.disk_gib,
        storage=guest.storage,
        tags=guest.tags,
        template=guest.template,
        pool=guest.pool,
        lock=guest.lock,
        config=dict(guest.config) or None,
        snapshots=snapshots or None,
        pending=dict(guest.pending) or None,
        pending_delete=list(guest.pending_delete) or None,
        uptime=guest.uptime,
        pid=guest.pid,
        boots=guest.boots,
    )


def _user_data(user: UserSpec) -> dict[str, Any]:
    tokens = [
        _present(tokenid=token.tokenid, secret=token.secret, secret_env=token.secret_env, privsep=token.privsep,
                 expire=token.expire, comment=token.comment)
        for token in user.tokens
    ]  # fmt: skip
    return _present(userid=user.userid, **user.options(), password_env=user.password_env, tokens=tokens or None)
