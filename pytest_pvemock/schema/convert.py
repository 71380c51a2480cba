"""PVE::JSONSchema (as dumped in pve-docs' apidata.js) -> JSON Schema draft 2020-12.

Every mapping decision is made here, one function per PVE keyword family; schemas/README.md lists them for
readers of the generated files. The guiding rule: the generated schema accepts what PVE's verifier
(``check_prop`` in pve-common's PVE/JSONSchema.pm) accepts and rejects what it rejects, using standard
keywords where they can say it and a few documented ``x-pve-*`` keywords where they cannot.

Scalars (PVE passes every value as a Perl scalar, so the text of a value is what counts):

- ``integer`` -> ``{"type": ["integer", "string"], "pattern": INTEGER_TEXT}``: a JSON integer or its decimal text
  (``is_integer``: ``^[+-]?\\d+$``). ``number`` likewise with PVE's ``is_number`` text. This holds for parameters
  (form bodies are text) and for answers (PVE's JSON encoder prints a scalar as a string when Perl last used it
  as one: ``"vmid": "106"``, ``"loadavg": ["0.04", ...]``, see third_party/pve-captures/QUIRKS.md).
- ``boolean`` -> ``{"enum": [0, 1, "0", "1", false, true]}``: ``check_type`` accepts exactly ``'0'``/``'1'`` (and
  JSON booleans). ``true``/``yes``/``on`` are accepted only inside property strings (``parse_boolean``), never as
  a top-level value: real PVE answers ``skipsmart=true`` with 400.
- ``x-pve-type`` records PVE's own scalar type (``integer``, ``number``, ``boolean``) for the parameter verifier,
  which converts accepted text to a Python value.
- ``minimum``/``maximum``/``enum``/``default`` given as strings in the PVE schema become numbers; an integer
  ``enum`` lists each value both as number and as text (PVE compares with ``eq``). Standard validators skip
  ``minimum``/``maximum`` for numeric text; ours (``returns.py``) applies them, as PVE does.
- ``pattern`` is anchored and rewritten from Perl (``patterns.py``).
- ``format`` naming a PVE format stays ``"format": "<name>"`` (checked by our format checker, never by the
  standard meaning of ``email``/``ipv4``/``ipv6``). A property string (``format`` is a hash, inline or a named
  hash format) becomes ``"x-pve-property-string": <object schema of its keys>`` with ``x-pve-default-key`` and
  per-key ``x-pve-alias``/``x-pve-key-alias``; the value is parsed like ``parse_property_string`` and the
  resulting object validated (unknown keys rejected, as PVE does in property strings).

Objects:

- ``optional`` (``1``, ``"1"``, missing or ``0``) decides ``required``; aliases and ``null``-typed keys are never
  required.
- ``additionalProperties``: ``0`` -> ``false``; ``1`` or absent -> allowed (PVE's ``check_object`` only rejects
  unknown keys when it is *defined and false*; this is also why answers may carry keys the schema omits); a
  schema -> that schema.
- indexed keys ``net[n]``, ``scsi[n]`` ... -> ``patternProperties`` over the index range PVE allows
  (``INDEXED_KEY_LIMITS``, from qemu-server, pve-container, pve-cluster and pve-manager).
- ``requires: "other"`` -> ``dependentRequired``.
- ``type-property``/``instance-types``/``oneOf`` (SDN fabrics, 9.x): a key that applies to some instance
  types only becomes an ``if``/``then`` in the parent's ``allOf``, keyed on the type property.

Annotations: ``description`` and ``title`` are kept; ``format_description`` is kept as
``x-pve-format-description`` (it names the value in property-string help text). ``typetext``,
``verbose_description``, ``renderer``, ``links``, ``keyAlias`` (used, see above) and the unenforced ``min``/``max``
typos are dropped: they are display-only in PVE.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_pvemock.schema.named_property_formats import VALIDATORS
from pytest_pvemock.schema.patterns import anchored

__all__ = [
    "BOOLEAN_VALUES",
    "INDEXED_KEY_LIMITS",
    "INTEGER_TEXT",
    "NUMBER_TEXT",
    "convert_method_schema",
    "convert_schema",
    "indexed_key_pattern",
]

INTEGER_TEXT = r"^[+-]?\d+$"
NUMBER_TEXT = r"^[+-]?(?:\d+\.\d+|\d+\.|\.\d+|\d+)(?:[eE][+-]?\d+)?$"
BOOLEAN_VALUES: list[Any] = [0, 1, "0", "1", False, True]

# How many of each indexed key PVE allows: keys are name0 .. name{N-1}. Sources (constants in the owning package):
# qemu-server PVE/QemuServer.pm & co: MAX_NETS 32, MAX_SERIAL_PORTS 4, MAX_PARALLEL_PORTS 3, MAX_NUMA 8,
# MAX_UNUSED_DISKS 256, MAX_HOSTPCI_DEVICES 16, MAX_USB_DEVICES 14, MAX_VIRTIOFS 10; Drive.pm: MAX_IDE_DISKS 4,
# MAX_SATA_DISKS 6, MAX_SCSI_DISKS 31, MAX_VIRTIO_DISKS 16; ipconfig[n] follows MAX_NETS.
# pve-container PVE/LXC/Config.pm: MAX_LXC_NETWORKS 32, MAX_MOUNT_POINTS 256, MAX_UNUSED_DISKS = MAX_MOUNT_POINTS,
# MAX_DEVICES 256. pve-cluster Corosync.pm: MAX_LINK_INDEX 7 (link0..link7). pve-manager NodeConfig.pm:
# MAXDOMAINS 5 (acmedomain0..4).
INDEXED_KEY_LIMITS: dict[str, dict[str, int]] = {
    "qemu": {
        "net": 32, "ipconfig": 32, "serial": 4, "parallel": 3, "numa": 8, "unused": 256, "hostpci": 16,
        "usb": 14, "virtiofs": 10, "ide": 4, "sata": 6, "scsi": 31, "virtio": 16,
    },
    "lxc": {"net": 32, "mp": 256, "unused": 256, "dev": 256},
    "cluster": {"link": 8},
    "node": {"acmedomain": 5},
}  # fmt: skip


def _index_alternatives(count: int) -> str:
    """A regex for the decimal numbers 0 .. count-1 without leading zeros."""
    numbers = [str(n) for n in range(count)]
    return "(?:" + "|".join(sorted(numbers, key=lambda n: (-len(n), n))) + ")"


def indexed_key_pattern(name: str, count: int) -> str:
    return f"^{re.escape(name)}{_index_alternatives(count)}$"


def _guest_family(path: str) -> str:
    if "/lxc" in path:
        return "lxc"
    if "/qemu" in path:
        return "qemu"
    if path.startswith("/cluster/config"):
        return "cluster"
    return "node"


def _is_true(value: Any) -> bool:
    """Perl truthiness of a schema flag: undef, 0, "0" and "" are false."""
    return value not in (None, 0, "0", "", False)


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else value
    text = str(value).strip()
    as_float = float(text)
    return int(as_float) if as_float.is_integer() and re.fullmatch(r"[+-]?\d+(?:\.0*)?", text) else as_float


class Converter:
    """Converts the schemas of one API path; ``family`` selects the index limits of ``net[n]`` and friends."""

    def __init__(self, path: str, named_formats: dict[str, dict[str, Any]]) -> None:
        self.path = path
        self.family = _guest_family(path)
        self.named_formats = named_formats

    def convert(self, schema: Any) -> dict[str, Any]:
        if not isinstance(schema, dict):
            return {}
        if "alias" in schema:
            # check_prop returns at once for an alias: the key is remapped to its target and checked there.
            out: dict[str, Any] = {"x-pve-alias": schema["alias"]}
            if "keyAlias" in schema:
                out["x-pve-key-alias"] = schema["keyAlias"]
            self._annotations(schema, out)
            return out
        out = {}
        self._annotations(schema, out)
        pve_type = schema.get("type")
        if isinstance(pve_type, list):
            out["anyOf"] = [self.convert({**schema, "type": t}) for t in pve_type]
            return out
        self._type(pve_type, schema, out)
        if pve_type in (None, "string", "integer", "number", "boolean", "any"):
            self._scalar_checks(pve_type, schema, out)
        if pve_type in (None, "array") and isinstance(schema.get("items"), dict):
            out["items"] = self.convert(schema["items"])
        if pve_type in (None, "object") and (
            isinstance(schema.get("properties"), dict) or _is_true(schema.get("additionalProperties"))
        ):
            self._object(schema, out)
        return out

    @staticmethod
    def _annotations(schema: dict[str, Any], out: dict[str, Any]) -> None:
        for key in ("title", "description"):
            if isinstance(schema.get(key), str):
                out[key] = schema[key]
        if isinstance(schema.get("format_description"), str):
            out["x-pve-format-description"] = schema["format_description"]

    @staticmethod
    def _type(pve_type: Any, schema: dict[str, Any], out: dict[str, Any]) -> None:
        if pve_type == "integer":
            out.update({"type": ["integer", "string"], "x-pve-type": "integer"})
        elif pve_type == "number":
            out.update({"type": ["number", "string"], "x-pve-type": "number"})
        elif pve_type == "boolean":
            out.update({"enum": list(BOOLEAN_VALUES), "x-pve-type": "boolean"})
        elif pve_type in ("string", "object", "array", "null"):
            out["type"] = pve_type
        # "any" and a missing type: check_type accepts everything

    def _scalar_checks(self, pve_type: Any, schema: dict[str, Any], out: dict[str, Any]) -> None:
        patterns = []
        if pve_type == "integer":
            patterns.append(INTEGER_TEXT)
        elif pve_type == "number":
            patterns.append(NUMBER_TEXT)
        if isinstance(schema.get("pattern"), str):
            patterns.append(anchored(schema["pattern"]))
        if len(patterns) == 1:
            out["pattern"] = patterns[0]
        elif patterns:
            out["allOf"] = [{"pattern": p} for p in patterns]
        for key in ("minLength", "maxLength"):
            if key in schema:
                out[key] = int(_number(schema[key]))
        for key in ("minimum", "maximum"):
            if key in schema:
                out[key] = _number(schema[key])
        if isinstance(schema.get("enum"), list) and pve_type != "boolean":
            out["enum"] = self._enum(pve_type, schema["enum"])
        if "default" in schema:
            out["default"] = self._default(pve_type, schema["default"])
        fmt = schema.get("format")
        if isinstance(fmt, dict):
            out["x-pve-property-string"] = self._property_string(fmt)
        elif isinstance(fmt, str):
            if fmt in self.named_formats:
                out["x-pve-format"] = fmt
                out["x-pve-property-string"] = self._property_string(self.named_formats[fmt])
                if fmt in VALIDATORS:
                    out["x-pve-property-string"]["x-pve-validator"] = fmt
            else:
                out["format"] = fmt

    @staticmethod
    def _enum(pve_type: Any, values: list[Any]) -> list[Any]:
        if pve_type in ("integer", "number"):
            out: list[Any] = []
            for value in values:
                number = _number(value)
                out.extend([number, str(value)])
            return out
        return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in values]

    @staticmethod
    def _default(pve_type: Any, value: Any) -> Any:
        try:
            if pve_type in ("integer", "number"):
                return _number(value)
            if pve_type == "boolean":
                return 1 if _is_true(value) else 0
        except (TypeError, ValueError):
            return value
        if pve_type == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return value

    def _property_string(self, fmt: dict[str, Any]) -> dict[str, Any]:
        # parse_property_string defaults additional_properties to 0: unknown keys are errors.
        out = self._object({"properties": fmt, "additionalProperties": 0}, {"type": "object"})
        default_keys = sorted(k for k, v in fmt.items() if isinstance(v, dict) and _is_true(v.get("default_key")))
        if default_keys:
            out["x-pve-default-key"] = default_keys[0]
        return out

    def _object(self, schema: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        pattern_properties: dict[str, Any] = {}
        required: list[str] = []
        dependent: dict[str, list[str]] = {}
        conditions: list[dict[str, Any]] = []
        for key, sub in sorted((schema.get("properties") or {}).items()):
            if not isinstance(sub, dict):
                continue
            converted = self._property(key, sub, conditions)
            match = re.fullmatch(r"(.+)\[n\]", key)
            if match:
                name = match.group(1)
                count = INDEXED_KEY_LIMITS[self.family].get(name)
                if count is None:
                    raise ValueError(f"{self.path}: no index limit known for {key}")
                pattern_properties[indexed_key_pattern(name, count)] = converted
                continue
            properties[key] = converted
            if self._is_required(sub):
                required.append(key)
            requires = sub.get("requires")
            if isinstance(requires, str):
                dependent[key] = [requires]
        out["type"] = "object"
        out["properties"] = properties
        if pattern_properties:
            out["patternProperties"] = pattern_properties
        if required:
            out["required"] = required
        if dependent:
            out["dependentRequired"] = dependent
        if conditions:
            out["allOf"] = conditions
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            out["additionalProperties"] = self.convert(additional)
        elif additional is not None and not _is_true(additional):
            out["additionalProperties"] = False
        return out

    @staticmethod
    def _is_required(sub: dict[str, Any]) -> bool:
        return not (
            _is_true(sub.get("optional"))
            or "alias" in sub
            or sub.get("type") == "null"
            or "instance-types" in sub
            or ("oneOf" in sub and "type-property" in sub)
        )

    def _property(self, key: str, sub: dict[str, Any], conditions: list[dict[str, Any]]) -> dict[str, Any]:
        type_property = sub.get("type-property")
        if type_property and isinstance(sub.get("oneOf"), list):
            # check_prop picks the alternative whose instance-types holds the object's type; without a type,
            # only the outer schema applies.
            for alternative in sub["oneOf"]:
                self._add_condition(conditions, type_property, alternative.get("instance-types", []), key, alternative)
            outer = {k: v for k, v in sub.items() if k not in ("oneOf", "type-property", "items", "properties")}
            return self.convert(outer)
        if type_property and "instance-types" in sub:
            plain = {k: v for k, v in sub.items() if k not in ("instance-types", "type-property")}
            converted = self.convert(plain)
            if not _is_true(sub.get("optional")):
                self._add_condition(conditions, type_property, sub["instance-types"], key, None)
            converted["x-pve-instance-types"] = list(sub["instance-types"])
            return converted
        return self.convert(sub)

    def _add_condition(
        self,
        conditions: list[dict[str, Any]],
        type_property: str,
        instance_types: list[str],
        key: str,
        alternative: dict[str, Any] | None,
    ) -> None:
        then: dict[str, Any] = {}
        if alternative is not None:
            plain = {k: v for k, v in alternative.items() if k != "instance-types"}
            then["properties"] = {key: self.convert(plain)}
            optional = _is_true(alternative.get("optional"))
        else:
            optional = False
        if not optional:
            then["required"] = [key]
        conditions.append(
            {
                "if": {"properties": {type_property: {"enum": list(instance_types)}}, "required": [type_property]},
                "then": then,
            }
        )


def _netmask_or_prefix_length(schema: dict[str, Any]) -> dict[str, Any]:
    relaxed = {k: v for k, v in schema.items() if k != "format"}
    relaxed["anyOf"] = [{"format": "ipv4mask"}, {"pattern": "^(?:[0-9]|[12][0-9]|3[0-2])$"}]
    return relaxed


def _string_or_byte_count(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") != "string":
        return schema
    return {**schema, "type": ["string", "integer"]}


def _without_required(name: str) -> Any:
    def relax(schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, "required": [key for key in schema.get("required", ()) if key != name]}

    return relax


def _placeholder_key_map(schema: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    placeholders = [key for key in properties if key.startswith("{") and key.endswith("}")]
    if len(placeholders) != 1:
        return schema
    relaxed = {k: v for k, v in schema.items() if k not in ("properties", "required")}
    relaxed["additionalProperties"] = properties[placeholders[0]]
    return relaxed


# Where real answers deviate from PVE's own returns schema, with the evidence; applied after conversion.
# GET /nodes/{node}/network: PVE::INotify sets 'netmask' to the prefix length ("24") when the address is written
# in CIDR form in /etc/network/interfaces (capture nodes-node-network__go-proxmox-pve8x: "netmask": "32").
# GET /cluster/resources: up to 7.2-2 the schema typed 'mem' and 'disk' as strings while PVE::API2Tools always put
# byte counts there (JSON numbers, as the 7.x captures show); pve-manager 55fb2ead ("fixup /cluster/resources schema",
# 2022-11-04, in 7.2-3) made them integers. A string-typed one also takes a JSON number.
# GET /cluster/ceph/metadata: the schema documents each map by one placeholder key ("{id}", "{node}") and requires
# it, while PVE fills the maps with "<service>@<host>" and node-name keys (pve-manager PVE/API2/Cluster/Ceph.pm
# lines 272-311, commit 14a22df3): the placeholder's schema applies to every key instead. Its OSD entries are Ceph's
# 'osd metadata' as is, which names the devices 'device_ids' (no 'device_id', which the schema requires).
# GET /nodes/{node}/disks/list: PVE::Diskmanage::get_disks sets 'mounted' only for a mounted disk and leaves
# 'osdid-list' undefined (null) on a disk without OSD (pve-storage 0c56bad8 src/PVE/Diskmanage.pm lines 628, 754; its
# own src/test/disk_tests/*/disklist_expected.json hold "osdid-list" : null), while the schema requires both.
# GET /nodes/{node}/ceph/mon: up to 9.1 the schema typed 'host' boolean and 'direxists' string, while PVE put the
# host name and 1 there; pve-manager e8cbd1e7 ("correct host type lie", 2026-05-12) made them string and boolean.
# GET /nodes/{node}/sdn/zones/{zone}/bridges: 'vlan_filtering' is what `ip -d -j link` prints, the number 0 or 1,
# and null for a vnet the node has not created (pve-network src/PVE/API2/Network/SDN/Nodes/Zone.pm line 253,
# commit ecf98c5d), while the schema types it string.
# GET /cluster/jobs/realm-sync: the list pushes each jobs.cfg section as it is (pve-access-control
# src/PVE/API2/Jobs/RealmSync.pm lines 98-113, commit 5ccd07d9), and SectionConfig stores no default: a job created
# without 'enabled' (optional, default 1, in PVE::Jobs::RealmSync::options) has none, while the schema requires it.
# GET /access/tfa, /access/tfa/{userid}, /access/tfa/{userid}/{id}: proxmox-tfa's TfaInfo skips an empty
# description when it serializes (#[serde(skip_serializing_if = "String::is_empty")]), and the recovery entry has
# none (TfaInfo::recovery), while the schema requires it.
# GET /cluster/sdn/route-maps/entries and .../{route-map-id} with 'pending': PVE::Network::SDN::pending_config
# (pve-network src/PVE/Network/SDN.pm 161-184, commit ecf98c5d) puts every key of an entry not yet applied under
# 'pending' (only 'type' and 'vnet' stay on top), so a new entry has no 'route-map-id', 'order' or 'action'.
RETURNS_DEVIATIONS: dict[tuple[str, str], list[tuple[tuple[str, ...], Any]]] = {
    **{
        ("GET", path): [(("items", "required"), lambda _required: [])]
        for path in ("/cluster/sdn/route-maps/entries", "/cluster/sdn/route-maps/entries/{route-map-id}")
    },
    ("GET", "/access/tfa"): [(("items", "properties", "entries", "items"), _without_required("description"))],
    ("GET", "/access/tfa/{userid}"): [(("items",), _without_required("description"))],
    ("GET", "/access/tfa/{userid}/{id}"): [
        (("required",), lambda required: [k for k in required if k != "description"])
    ],
    ("GET", "/nodes/{node}/sdn/zones/{zone}/bridges"): [
        (("items", "properties", "vlan_filtering"), lambda schema: {"anyOf": [schema, {"enum": [0, 1, None]}]}),
    ],
    ("GET", "/cluster/jobs/realm-sync"): [(("items",), _without_required("enabled"))],
    ("GET", "/nodes/{node}/network"): [(("items", "properties", "netmask"), _netmask_or_prefix_length)],
    ("GET", "/cluster/ceph/metadata"): [
        *((("properties", key), _placeholder_key_map) for key in ("mds", "mgr", "mon", "node")),
        (("properties", "osd", "items"), _without_required("device_id")),
        (("required",), lambda required: [key for key in required if key == "node"]),  # scope=versions: node only
    ],
    ("GET", "/nodes/{node}/disks/list"): [
        (("items",), _without_required("mounted")),
        (("items",), _without_required("osdid-list")),
        (("items", "properties", "osdid-list"), lambda schema: {"anyOf": [schema, {"type": "null"}]}),
    ],
    ("GET", "/nodes/{node}/ceph/mon"): [
        (("items", "properties", "host"), lambda _schema: {"type": "string"}),
        (("items", "properties", "direxists"), lambda _schema: {"enum": [0, 1, "0", "1", False, True]}),
    ],
    ("GET", "/cluster/resources"): [(("items", "properties", key), _string_or_byte_count) for key in ("mem", "disk")],
}


def _apply_deviations(method: str, path: str, returns: dict[str, Any]) -> None:
    for keys, patch in RETURNS_DEVIATIONS.get((method, path), ()):
        parent: Any = returns
        for key in keys[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and keys[-1] in parent:  # older releases may not list the key at all
            parent[keys[-1]] = patch(parent[keys[-1]])


def convert_schema(
    schema: Any, path: str = "", named_formats: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Convert one PVE schema (a method's ``parameters`` or ``returns``) to JSON Schema."""
    return Converter(path, named_formats or {}).convert(schema)


def convert_method_schema(
    path: str, info: dict[str, Any], named_formats: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    converter = Converter(path, named_formats)
    parameters = converter.convert(info.get("parameters") or {"type": "object", "properties": {}})
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    returns = converter.convert(info.get("returns") or {})
    _apply_deviations(str(info.get("method", "")), path, returns)
    return {"parameters": parameters, "returns": returns}
