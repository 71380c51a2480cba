"""Plausible values for any PVE schema: what the fake answers where no handler keeps state (pure schema code).

:func:`synthesize` walks one PVE schema (``returns`` or ``parameters``, in the apidoc's own dialect: ``optional``,
``format`` as a name or as a property-string description, Perl ``pattern``s, ``enum``, bounds) and builds a value
that satisfies it. Where the schema names a thing that exists in the cluster (a node, a vmid, a storage, a pool, a
user), the value is taken from :class:`Facts` (``api/synthesis.py`` fills them from a cluster), so a client sees
its own nodes and guests rather than invented ones. Everything is deterministic: the same schema and facts give
the same value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pytest_pvemock.schema.patterns import perl_to_python

try:  # Python 3.11+
    import re._parser as sre_parse  # type: ignore[import-not-found]
    from re import _constants as sre_constants  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants
    import sre_parse

__all__ = [
    "UPID_EXAMPLE",
    "Facts",
    "format_value",
    "pattern_value",
    "property_string",
    "schema_type",
    "synthesize",
    "value_fits",
]

UPID_EXAMPLE = "UPID:pve1:00001234:00005678:65A1B2C3:qmstart:100:root@pam:"


@dataclass
class Facts:
    """Real names from the cluster that synthesised values should use, plus the request's own parameters."""

    nodes: list[str] = field(default_factory=lambda: ["pve1"])
    vmids: list[int] = field(default_factory=lambda: [100])
    storages: list[str] = field(default_factory=lambda: ["local"])
    pools: list[str] = field(default_factory=lambda: ["pool1"])
    userids: list[str] = field(default_factory=lambda: ["root@pam"])
    now: int = 1_700_000_000
    upid: str = UPID_EXAMPLE
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def node(self) -> str:
        return str(self.params.get("node") or (self.nodes[0] if self.nodes else "pve1"))

    @property
    def vmid(self) -> int:
        value = self.params.get("vmid")
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
        return self.vmids[0] if self.vmids else 100

    @property
    def storage(self) -> str:
        return str(self.params.get("storage") or (self.storages[0] if self.storages else "local"))


# Values for PVE's named formats (PVE::JSONSchema::register_format and friends), as PVE itself would print them.
def _named_formats(facts: Facts) -> dict[str, Any]:
    node = facts.node
    return {
        "pve-node": node,
        "pve-node-list": ",".join(facts.nodes[:2]) or node,
        "pve-ha-node-list": node,
        "pve-ha-group-node-list": node,
        "pve-configid": "net0",
        "pve-configid-list": "net0",
        "pve-storage-id": facts.storage,
        "pve-storage-id-list": facts.storage,
        "pve-userid": facts.userids[0] if facts.userids else "root@pam",
        "pve-userid-list": facts.userids[0] if facts.userids else "root@pam",
        "pve-tokenid": "root@pam!automation",
        "pve-realm": "pam",
        "pve-poolid": facts.pools[0] if facts.pools else "pool1",
        "pve-groupid": "admins",
        "pve-groupid-list": "admins",
        "pve-roleid": "PVEAuditor",
        "pve-roleid-list": "PVEAuditor",
        "pve-priv-list": "VM.Audit",
        "pve-vmid": facts.vmid,
        "pve-vmid-list": str(facts.vmid),
        "pve-sdn-zone-id": "zone1",
        "pve-sdn-vnet-id": "vnet1",
        "pve-sdn-controller-id": "ctrl1",
        "pve-sdn-ipam-id": "ipam1",
        "pve-sdn-dns-id": "dns1",
        "pve-sdn-fabric-id": "fab1",
        "pve-sdn-prefix-list-id": "plist1",
        "pve-sdn-route-map-id": "rmap1",
        "pve-sdn-subnet-id": "zone1-10.0.0.0-24",
        "pve-sdn-bgp-rt-list": "65000:100",
        "pve-sdn-isis-net": "49.0001.1921.6800.1002.00",
        "pve-sdn-fabric-wireguard-interface": "wg0",
        "pve-vlan-id-or-range-list": "100",
        "pve-iface": "vmbr0",
        "pve-iface-list": "vmbr0",
        "pve-replication-job-id": f"{facts.vmid}-0",
        "pve-ha-resource-id": f"vm:{facts.vmid}",
        "pve-ha-resource-or-vm-id": f"vm:{facts.vmid}",
        "pve-ha-resource-id-list": f"vm:{facts.vmid}",
        "pve-storage-content": "images",
        "pve-storage-content-list": "images,rootdir",
        "pve-storage-server": "192.0.2.20",
        "pve-storage-portal-dns": "192.0.2.20",
        "pve-storage-path": "/mnt/pve/data",
        "pve-storage-vgname": "pve",
        "pve-volume-id": f"{facts.storage}:vm-{facts.vmid}-disk-0",
        "pve-volume-id-or-qm-path": f"{facts.storage}:vm-{facts.vmid}-disk-0",
        "pve-calendar-event": "daily",
        "pve-startup-order": "order=1",
        "pve-tag-list": "prod",
        "pve-cpuset": "0-1",
        "pve-hotplug-features": "network,disk,usb",
        "pve-qm-boot": "order=scsi0",
        "pve-qm-bootdisk": "scsi0",
        "pve-qm-ide": f"{facts.storage}:vm-{facts.vmid}-disk-0",
        "pve-qm-cicustom": "user=local:snippets/user.yaml",
        "pve-vm-cpu-conf": "cputype=host",
        "pve-qm-hostpci": "host=0000:01:00.0",
        "pve-qm-ipconfig": "ip=dhcp",
        "pve-qm-rng": "source=/dev/urandom",
        "pve-qm-smbios1": "uuid=5f3b3c1e-7f4e-4a3c-9d2b-1a2b3c4d5e6f",
        "pve-qm-watchdog": "model=i6300esb",
        "pve-qemu-sev-fmt": "type=std",
        "pve-qemu-tdx-fmt": "type=tdx",
        "pve-ct-timezone": "UTC",
        "pve-fw-conntrack-helper": "ftp",
        "pve-command-batch": "[]",
        "lxc-ip-with-ll-iface-list": "192.0.2.10",
        "mac-prefix": "BC:24:11",
        "pve-acme-alias": "_acme-challenge.example.com",
        "pve-acme-domain": "pve.example.com",
        "pve-acme-domain-list": "pve.example.com",
        "pve-day-of-week-list": "mon",
        "pve-dir-override-list": "iso=templates/iso",
        "pve-fw-dport-spec": "22",
        "pve-fw-sport-spec": "1024",
        "pve-fw-icmp-type-spec": "echo-request",
        "pve-fw-protocol-spec": "tcp",
        "pve-fw-addr-spec": "192.0.2.10",
        "pve-ipv4-config": "dhcp",
        "pve-ipv6-config": "auto",
        "pve-lxc-dev-string": "/dev/null",
        "pve-phys-bits": "host",
        "pve-qm-bootdev-list": "scsi0",
        "pve-storage-path-in-property-string": "/mnt/data",
        "pve-task-status-type-list": "ok",
        "pve-tokenid-list": "root@pam!automation",
        "pve-volume-id-or-absolute-path": f"{facts.storage}:vm-{facts.vmid}-disk-0",
        "pve-bridge-id": "vmbr0",
        "pve-bridge-id-list": "vmbr0",
        "backup-fleecing": "enabled=0",
        "backup-performance": "max-workers=16",
        "prune-backups": "keep-last=3",
        "proxmox-remote": "host=192.0.2.30,apitoken=PVEAPIToken=root@pam!remote=5f3b3c1e-7f4e-4a3c-9d2b-1a2b3c4d5e6f",
        "bridge-pair-list": "vmbr0:vmbr0",
        "storage-pair-list": f"{facts.storage}:{facts.storage}",
        "ip": "192.0.2.10",
        "ipv4": "192.0.2.10",
        "ipv6": "2001:db8::10",
        "ip-list": "192.0.2.10",
        "ipv4mask": "255.255.255.0",
        "address": "192.0.2.10",
        "address-list": "192.0.2.10",
        "CIDR": "192.0.2.0/24",
        "CIDRv4": "192.0.2.0/24",
        "CIDRv6": "2001:db8::/64",
        "FullRangeCIDR": "10.0.0.0/24",
        "IPorCIDR": "192.0.2.10",
        "IPorCIDRorAlias": "192.0.2.10",
        "mac-addr": "BC:24:11:00:00:01",
        "dns-name": "pve.example.com",
        "dns-name-list": "pve.example.com",
        "email": "admin@example.com",
        "email-opt": "admin@example.com",
        "email-list": "admin@example.com",
        "email-or-username": "admin@example.com",
        "email-or-username-list": "admin@example.com",
        "string-list": "example",
        "urlencoded": "example",
        "disk-size": "4G",
        "pem-certificate": PEM_CERTIFICATE,
        "pem-certificate-chain": PEM_CERTIFICATE,
        "pem-string": PEM_CERTIFICATE,
    }


PEM_CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGVGb3JQdmVNb2NrMAoGCCqGSM49BAMC\n"
    "-----END CERTIFICATE-----\n"
)

# Values by property name, for strings and integers without a format, where the name says what the value is.
_STRING_BY_NAME = {
    "digest": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    "upid": None,  # filled from facts
    "realm": "pam",
    "userid": "root@pam",
    "user": "root@pam",
    "username": "root@pam",
    "tokenid": "automation",
    "roleid": "PVEAuditor",
    "groupid": "admins",
    "group": "admins",
    "bridge": "vmbr0",
    "iface": "vmbr0",
    "mac": "BC:24:11:00:00:01",
    "hwaddr": "BC:24:11:00:00:01",
    "ip": "192.0.2.10",
    "address": "192.0.2.10",
    "cidr": "192.0.2.0/24",
    "comment": "",
    "content": "images",
    "format": "raw",
    "status": "ok",
    "state": "ok",
    "version": "9.1.2",
    "release": "9.1",
    "repoid": "d5e2b1c4",
    "path": "/",
    "volid": None,
    "volume": None,
    "ticket": "PVE:root@pam:65A1B2C3::c2lnbmF0dXJl",
    "CSRFPreventionToken": "65A1B2C3:c2lnbmF0dXJl",
    "fingerprint": ":".join(["AB"] * 32),
    "schedule": "daily",
    "timezone": "UTC",
    "devpath": "/dev/sda",
    "dev": "/dev/sda",
    "device": "/dev/sda",
    "parent": "/dev/sda",
    "vendor": "ATA",
    "model": "QEMU HARDDISK",
    "serial": "QM00001",
    "wwn": "unknown",
    "health": "PASSED",
    "domain": "example.com",
    "search": "example.com",
    "arch": "x86_64",
    "kernel": "6.14.8-2-pve",
    "message": "",
    "msg": "",
    "text": "",
    "description": "",
    "title": "",
    "url": "https://example.com/",
    "email": "admin@example.com",
    "mountpoint": "/mnt/data",
    "filesystem": "ext4",
    "level": "",
    "state_msg": "",
    "type": "example",
    "name": "example",
    "id": "example",
}

_INT_BY_NAME = {
    "uptime": 86400,
    "cpus": 4,
    "maxcpu": 4,
    "mem": 2_147_483_648,
    "maxmem": 8_589_934_592,
    "disk": 10_737_418_240,
    "maxdisk": 34_359_738_368,
    "size": 34_359_738_368,
    "used": 10_737_418_240,
    "avail": 23_622_320_128,
    "total": 34_359_738_368,
    "free": 23_622_320_128,
    "pid": 1234,
    "port": 5900,
    "pos": 0,
    "priority": 1,
    "count": 1,
}

_TIME_NAMES = {"time", "ctime", "mtime", "starttime", "endtime", "expire", "last-run", "next-run", "snaptime"}


def schema_type(schema: Mapping[str, Any]) -> str | None:
    """PVE's own type of a converted schema: ``x-pve-type`` first, then the first JSON type."""
    kind = schema.get("x-pve-type") or schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        if "properties" in schema:
            kind = "object"
        elif "items" in schema:
            kind = "array"
        elif "x-pve-property-string" in schema or "format" in schema or "pattern" in schema:
            kind = "string"
    return kind


def synthesize(schema: Mapping[str, Any] | None, facts: Facts, name: str | None = None) -> Any:
    """A value valid under ``schema`` (one of the generated JSON Schemas); ``name`` is the property it is for."""
    if not schema:
        return None
    for combinator in ("anyOf", "oneOf"):
        alternatives = schema.get(combinator)
        if isinstance(alternatives, list) and alternatives and isinstance(alternatives[0], Mapping):
            merged = {key: value for key, value in schema.items() if key != combinator}
            return synthesize({**merged, **alternatives[0]}, facts, name)
    kind = schema_type(schema)
    if kind == "null":
        return None
    if kind == "object":
        return _object(schema, facts)
    if kind == "array":
        return _array(schema, facts, name)
    if kind == "boolean":
        if "default" in schema and schema["default"] in (0, 1):
            return int(schema["default"])
        return 0 if name and name.startswith(("no", "disable")) else 1
    if "default" in schema and _default_fits(schema, kind):
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "integer":
        return _integer(schema, facts, name)
    if kind == "number":
        return float(_bounded(schema, 1.0 if name != "cpu" else 0.05))
    if kind == "string":
        return _string(schema, facts, name)
    return None  # "any" or unknown: null is what PVE itself returns most often there


def _default_fits(schema: Mapping[str, Any], kind: str | None) -> bool:
    if kind == "string" and ("x-pve-property-string" in schema or "format" in schema):
        return False
    return value_fits(schema["default"], schema)


def value_fits(value: Any, schema: Mapping[str, Any]) -> bool:
    """A quick check of a scalar against one property's type, enum, bounds and pattern (not formats)."""
    kind = schema_type(schema)
    if "enum" in schema and value not in schema["enum"]:
        return False
    if kind in ("integer", "number"):
        numeric = (int,) if kind == "integer" else (int, float)
        if not isinstance(value, numeric) or isinstance(value, bool):
            return False
        low, high = _number(schema.get("minimum")), _number(schema.get("maximum"))
        return (low is None or value >= low) and (high is None or value <= high)
    if kind == "boolean":
        return value in (0, 1) and not isinstance(value, float)
    if kind == "string":
        if not isinstance(value, str):
            return False
        low, high = schema.get("minLength"), schema.get("maxLength")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            return False
        pattern = schema.get("pattern")
        return not pattern or _matches(pattern, value)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _object(schema: Mapping[str, Any], facts: Facts) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    conditional = _conditional_properties(schema)
    result: dict[str, Any] = {}
    for key, sub in properties.items():
        if not isinstance(sub, Mapping) or "x-pve-alias" in sub:
            continue
        if key not in required and (not _worth_showing(sub) or key in conditional or "x-pve-instance-types" in sub):
            continue
        value = synthesize(sub, facts, key)
        if value is None and key in required:
            value = "example"  # PVE counts an undefined value as missing
        result[key] = value
    return result


def _conditional_properties(schema: Mapping[str, Any]) -> set[str]:
    """Keys whose schema depends on an instance type (``allOf`` of ``if``/``then``): left out unless required."""
    found: set[str] = set()
    for clause in schema.get("allOf") or ():
        if isinstance(clause, Mapping):
            found.update((clause.get("then") or {}).get("properties") or {})
    return found


def _worth_showing(schema: Mapping[str, Any]) -> bool:
    """Optional properties shown in answers: the simple scalars a client is likely to read."""
    return schema_type(schema) not in ("object", "array", None) and "x-pve-property-string" not in schema


def _array(schema: Mapping[str, Any], facts: Facts, name: str | None) -> list[Any]:
    items = schema.get("items")
    if not isinstance(items, Mapping) or not items:
        return []
    return [synthesize(items, facts, name)]


def _bounded(schema: Mapping[str, Any], wanted: float) -> float:
    low, high = _number(schema.get("minimum")), _number(schema.get("maximum"))
    if low is not None and wanted < low:
        wanted = low
    if high is not None and wanted > high:
        wanted = high
    return wanted


def _number(value: Any) -> float | None:
    """A bound as a number: the apidoc sometimes writes them as strings (``"minimum": "0"``)."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _integer(schema: Mapping[str, Any], facts: Facts, name: str | None) -> int:
    wanted: float
    if schema.get("format") == "pve-vmid" or name in ("vmid", "newid"):
        wanted = facts.vmid
    elif name in _TIME_NAMES:
        wanted = facts.now
    elif name in _INT_BY_NAME:
        wanted = _INT_BY_NAME[name]
    else:
        wanted = _number(schema.get("minimum")) or 1
    return int(_bounded(schema, wanted))


def _string(schema: Mapping[str, Any], facts: Facts, name: str | None) -> str:
    fmt = schema.get("format")
    if name == "target" and fmt in (None, "pve-node"):
        value = next((node for node in facts.nodes if node != facts.node), facts.node)  # migrations go elsewhere
    elif isinstance(schema.get("x-pve-property-string"), Mapping):
        value = property_string(schema["x-pve-property-string"], facts, schema.get("x-pve-default-key"))
    elif isinstance(fmt, str):
        value = str(_named_formats(facts).get(fmt, "example"))
    elif name is not None and name in ("node", "nodename", "hostname"):
        value = facts.node
    elif name in ("storage", "storeid", "sid") and "pattern" not in schema:
        value = facts.storage
    elif name in ("vmid",):
        value = str(facts.vmid)
    elif name in ("upid",):
        value = facts.upid
    elif name in ("volid", "volume"):
        value = f"{facts.storage}:vm-{facts.vmid}-disk-0"
    elif name in ("poolid", "pool"):
        value = facts.pools[0] if facts.pools else "pool1"
    elif name in _STRING_BY_NAME and _STRING_BY_NAME[name] is not None:
        value = str(_STRING_BY_NAME[name])
    else:
        value = "example"
    pattern = schema.get("pattern")
    if pattern and not _matches(pattern, value):
        value = pattern_value(pattern)
    return _fit_length(value, schema)


def _fit_length(value: str, schema: Mapping[str, Any]) -> str:
    low, high = schema.get("minLength"), schema.get("maxLength")
    if high is not None and len(value) > high:
        value = value[: int(high)]
    if low is not None and len(value) < low:
        value = value + "x" * (int(low) - len(value))
    return value


def property_string(fmt: Mapping[str, Any], facts: Facts, default_key: str | None = None) -> str:
    """A property string (``key=value,...``) with the required keys of ``fmt``, or its first key if none is."""
    properties = {k: v for k, v in (fmt.get("properties") or {}).items() if isinstance(v, Mapping)}
    real = [k for k, v in properties.items() if "x-pve-alias" not in v]
    keys = [k for k in real if k in set(fmt.get("required") or ())] or real[:1]
    if default_key in real and default_key not in keys and keys == real[:1]:
        keys = [default_key]
    parts: list[str] = []
    for key in keys:
        value = synthesize(properties[key], facts, key)
        if isinstance(value, list):
            value = ";".join(str(v) for v in value)
        text = str(value)
        parts.append(text if key == default_key else f"{key}={text}")
    if default_key in keys:
        parts.sort(key=lambda part: "=" in part)  # the default key's bare value goes first
    return ",".join(parts)


def format_value(fmt: str, facts: Facts | None = None) -> Any:
    """The value used for PVE's named format ``fmt`` (``"example"`` for a format this module does not know)."""
    return _named_formats(facts or Facts()).get(fmt, "example")


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(f"^(?:{perl_to_python(pattern)})$")
    except (re.error, ValueError):
        return None


def _matches(pattern: str, value: str) -> bool:
    compiled = _compiled(pattern)
    return compiled is None or compiled.match(value) is not None


@lru_cache(maxsize=4096)
def pattern_value(pattern: str) -> str:
    """A short string that PVE's ``pattern`` (a Perl regex, implicitly anchored) accepts."""
    try:
        parsed = sre_parse.parse(perl_to_python(pattern))
    except (re.error, ValueError):
        return "example"
    return _emit(parsed)


def _emit(parsed: Any) -> str:
    return "".join(_emit_item(op, arg) for op, arg in parsed)


_C = sre_constants


def _emit_item(op: Any, arg: Any) -> str:
    if op is _C.LITERAL:
        return chr(arg)
    if op is _C.NOT_LITERAL:
        return "a" if arg != ord("a") else "b"
    if op is _C.ANY:
        return "a"
    if op is _C.IN:
        return _emit_class(arg)
    if op is _C.BRANCH:
        return _emit(arg[1][0])
    if op is _C.SUBPATTERN:
        return _emit(arg[-1])
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT) or op is getattr(_C, "POSSESSIVE_REPEAT", None):
        low, _high, sub = arg
        return _emit(sub) * int(low)
    if op is getattr(_C, "ATOMIC_GROUP", None):
        return _emit(arg)
    if op is _C.GROUPREF:
        return ""
    if op is _C.ASSERT:
        return _emit(arg[1]) if arg[0] == 1 else ""
    return ""


def _emit_class(items: list[tuple[Any, Any]]) -> str:
    negate = any(op is _C.NEGATE for op, _ in items)
    if negate:
        excluded = {chr(arg) for op, arg in items if op is _C.LITERAL}
        for candidate in "axb0":
            if candidate not in excluded and not _in_class(candidate, items):
                return candidate
        return "z"
    for op, arg in items:
        if op is _C.LITERAL:
            return chr(arg)
        if op is _C.RANGE:
            low, high = arg
            for preferred in (ord("a"), ord("0"), ord("A")):
                if low <= preferred <= high:
                    return chr(preferred)
            return chr(low)
        if op is _C.CATEGORY:
            return _category_char(arg)
    return "a"


def _in_class(char: str, items: list[tuple[Any, Any]]) -> bool:
    for op, arg in items:
        if op is _C.RANGE and arg[0] <= ord(char) <= arg[1]:
            return True
        if op is _C.CATEGORY and re.match(_category_regex(arg), char):
            return True
    return False


def _category_char(category: Any) -> str:
    return {
        _C.CATEGORY_DIGIT: "0",
        _C.CATEGORY_NOT_DIGIT: "a",
        _C.CATEGORY_SPACE: " ",
        _C.CATEGORY_NOT_SPACE: "a",
        _C.CATEGORY_WORD: "a",
        _C.CATEGORY_NOT_WORD: "-",
    }.get(category, "a")


def _category_regex(category: Any) -> str:
    return {
        _C.CATEGORY_DIGIT: r"\d",
        _C.CATEGORY_NOT_DIGIT: r"\D",
        _C.CATEGORY_SPACE: r"\s",
        _C.CATEGORY_NOT_SPACE: r"\S",
        _C.CATEGORY_WORD: r"\w",
        _C.CATEGORY_NOT_WORD: r"\W",
    }.get(category, ".")
