"""The compiled returns check accepts exactly what the validator accepts (a differential test).

``Endpoint.validate_returns`` trusts the compiled check (``schema/compiled_check.py``) when it says "valid" and
asks the validator (``schema/returns.py``) otherwise, so the two must agree on every answer. They are compared on:
a made-up valid answer of every method of 9.1 and 8.4 and seeded mutations of it; every real capture against
both versions, and mutations; the fake's answer to every GET of both versions, and mutations; and values from
hypothesis (subclasses, tuples, ``Decimal``, NaN, huge numbers) against hand-written schemas using every keyword.
When the validator raises, the check must not have said "valid" (validate_returns then raises as before).
"""

from __future__ import annotations

import copy
import enum
import json
import math
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_pvemock.schema.compiled_check import accepts, compile_checker
from pytest_pvemock.schema.registry import get_registry
from pytest_pvemock.schema.returns import compile_validator, describe_errors
from pytest_pvemock.schema.synthesis import Facts, pattern_value, synthesize

VERSIONS = ("9.1", "8.4")
SEED = 20261125
CAPTURES = Path(__file__).resolve().parent.parent / "third_party" / "pve-captures"
PATH_VALUES = {"node": "pve1", "vmid": "100", "poolid": "pool1", "upid": "UPID:pve1:0:0:0:x::root@pam:"}


# -- comparing the two -----------------------------------------------------------------------------------------


def disagreement(checker: Any, validator: Any, value: Any) -> str | None:
    """``None`` when check and validator agree on ``value``, else what went wrong."""
    fast = accepts(checker, value)
    try:
        full = validator.is_valid(value)
    except Exception as error:  # the validator's own failure: the check must have sent the value to it
        return None if not fast else f"validator raised {error!r}, check said valid"
    return None if fast == full else f"check says {'valid' if fast else 'invalid'}, validator {full}"


VERDICTS = {True: 0, False: 0}  # how many samples the validator found valid and invalid (the test's own check)


def compare(schema: dict[str, Any], samples: list[Any], label: str) -> list[str]:
    checker = compile_checker(schema)
    assert checker is not None, f"{label}: schema not compiled"
    validator = compile_validator(schema)
    found = []
    for sample in samples:
        problem = disagreement(checker, validator, sample)
        if problem:
            found.append(f"{label}: {problem}: {json.dumps(sample, default=repr)[:300]}")
        else:
            VERDICTS[accepts(checker, sample)] += 1
    return found


@pytest.fixture
def verdicts():
    """Counts of valid and invalid samples during one test; both must be many, or the comparison proves little."""
    VERDICTS.update({True: 0, False: 0})
    yield VERDICTS


# -- seeded mutations ------------------------------------------------------------------------------------------

INTERESTING: list[Any] = [
    None, True, False, 0, 1, -1, 2, 7, 2**31, -(2**63), 10**400, 0.0, 1.0, 1.5, -0.5, 1e300, math.nan, math.inf,
    "", "0", "1", "-1", "+5", "1.5", ".5", "5.", "1e3", "5\n", " 5", "true", "yes", "abc", "x" * 300, "é",
    "pve1", "pve-1", "-bad", "local", "local-lvm", "qemu/100", "lxc/110", "node/pve1", "storage/pve1/local",
    "/pool/prod", "running", "stopped", "prod;web", "a,b", "1,2,3", "vmbr0", "virtio=BC:24:11:00:00:01,bridge=vmbr0",
    "size=32G", "local:100/vm-100-disk-0.raw,size=32G", "keep-all=1,keep-last=2", "aa:bb:cc:dd:ee:ff",
    "192.168.1.1", "10.0.0.0/24", "fe80::1", "UPID:pve1:00001234:00005678:65000000:qmstart:100:root@pam:",
    [], {}, [1], ["a"], [None], {"a": 1}, {"id": "x"},
]  # fmt: skip


def interesting(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(INTERESTING))  # a copy: later mutations must not change the shared list


def all_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += all_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += all_paths(item, (*prefix, index))
    return found


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def schema_keys(schema: Any, found: set[str]) -> set[str]:
    """Property names a schema mentions, and one name matching each ``patternProperties`` pattern."""
    if isinstance(schema, dict):
        for key in schema.get("properties", {}) if isinstance(schema.get("properties"), dict) else ():
            found.add(key)
        for pattern in schema.get("patternProperties", {}) or {}:
            found.add(pattern_value(pattern))
        for item in schema.values():
            schema_keys(item, found)
    elif isinstance(schema, list):
        for item in schema:
            schema_keys(item, found)
    return found


def flipped(value: Any, rng: random.Random) -> Any:
    """A near miss of ``value``: the same thing in another type or spelling."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        as_float = float(value) if abs(value) < 2**1000 else math.inf
        return rng.choice([str(value), as_float, value + 1, -value, bool(value & 1), str(value) + ".0"])
    if isinstance(value, float):
        return rng.choice([str(value), int(value) if math.isfinite(value) else 0, -value, value * 1e6])
    if isinstance(value, str):
        options = [value + "x", value[:-1], value.upper(), " " + value, value + "\n", value + "," + value]
        if "," in value:
            options += [value.split(",", 1)[1], value + ",bogus=1", value.replace("=", "", 1)]
        if "=" in value:
            options += [value.split("=", 1)[1], value.replace("=", "==", 1)]
        if value.lstrip("+-").replace(".", "", 1).isdigit() and len(value) < 300:
            options += [int(float(value)), float(value)]
        return rng.choice(options)
    if isinstance(value, list):
        return rng.choice([tuple(value), {str(i): v for i, v in enumerate(value)}, value[:1]])
    if isinstance(value, dict):
        return rng.choice([list(value.values()), list(value), {k: None for k in value}])
    return interesting(rng)


def mutate(value: Any, rng: random.Random, keys: list[str]) -> Any:
    """``value`` with one to three random changes: replaced, flipped, nulled, dropped or added parts."""
    value = copy.deepcopy(value)
    pool = leaves(value)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(all_paths(value))
        target = value
        for part in path:
            target = target[part]
        operation = rng.choice(["replace", "flip", "flip", "null", "drop", "add", "swap"])
        if operation == "drop" and isinstance(target, (dict, list)) and target:
            if isinstance(target, dict):
                del target[rng.choice(list(target))]
            else:
                del target[rng.randrange(len(target))]
            continue
        if operation == "add" and isinstance(target, dict):
            target[rng.choice(keys or ["extra"])] = copy.deepcopy(rng.choice([*INTERESTING, *pool[:50]]))
            continue
        if operation == "add" and isinstance(target, list):
            target.append(copy.deepcopy(rng.choice(target)) if target and rng.random() < 0.5 else interesting(rng))
            continue
        if operation == "replace":
            new = interesting(rng)
        elif operation == "null":
            new = None
        elif operation == "swap":
            new = rng.choice(pool) if pool else None
        else:
            new = flipped(target, rng)
        if not path:
            value = new
        else:
            parent = value
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = new
    return value


def with_mutations(sample: Any, schema: dict[str, Any], rng: random.Random, count: int) -> list[Any]:
    keys = sorted(schema_keys(schema, set()) | {"unknown-key", "net99", "scsi31", "digest"})
    return [sample, *(mutate(sample, rng, keys) for _ in range(count))]


def shrink(value: Any, limit: int = 40) -> Any:
    """Long lists cut to ``limit`` items, so that mutations stay cheap to validate."""
    if isinstance(value, list):
        return [shrink(item, limit) for item in value[:limit]]
    if isinstance(value, dict):
        return {key: shrink(item, limit) for key, item in value.items()}
    return value


# -- the comparisons -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_returns_schema_compiles(version):
    registry = get_registry(version)
    uncompiled = [
        (method, template)
        for method, template in registry.endpoints()
        if registry.endpoint(method, template).schema.returns_checker() is None
    ]
    assert uncompiled == []


@pytest.mark.parametrize("version", VERSIONS)
def test_made_up_answers_of_every_method_and_their_mutations_agree(version, verdicts):
    registry = get_registry(version)
    rng = random.Random(f"{SEED}-{version}-synthesis")
    found = []
    for method, template in registry.endpoints():
        schema = registry.endpoint(method, template).returns_schema
        samples = with_mutations(synthesize(schema, Facts()), schema, rng, 16)
        found += compare(schema, samples, f"{version} {method} {template}")
    assert found == []
    assert min(verdicts.values()) > 10, verdicts


def capture_cases() -> list[tuple[str, str, str, Any]]:
    cases = []
    for capture in json.loads((CAPTURES / "INDEX.json").read_text(encoding="utf-8")):
        body = json.loads((CAPTURES / capture["file"]).read_text(encoding="utf-8"))
        data = body["data"] if isinstance(body, dict) and "data" in body else body
        path = capture["endpoint"].split(" ")[0].split("?")[0]
        for name, value in PATH_VALUES.items():
            path = path.replace("{" + name + "}", value)
        cases.append((capture["file"], capture["method"], path, data))
    return cases


def test_every_capture_and_its_mutations_agree_in_both_versions(verdicts):
    cases = capture_cases()
    assert len(cases) >= 20
    found, compared = [], 0
    for version in VERSIONS:
        rng = random.Random(f"{SEED}-{version}-captures")
        for name, method, path, data in cases:
            endpoint = get_registry(version).resolve(method, path)
            if endpoint is None:
                continue
            samples = [data, *with_mutations(shrink(data), endpoint.returns_schema, rng, 80)]
            found += compare(endpoint.returns_schema, samples, f"{version} {name}")
            compared += 1
    assert compared >= 40
    assert found == []
    assert min(verdicts.values()) > 10, verdicts


@pytest.mark.parametrize("version", VERSIONS)
def test_the_fakes_answer_to_every_get_and_its_mutations_agree(version, verdicts):
    from support.surface import SurfaceRig, call

    rig = SurfaceRig(version)
    rng = random.Random(f"{SEED}-{version}-fake")
    found, answered = [], 0
    for method, template in rig.registry.endpoints():
        if method != "GET":
            continue
        response, endpoint, _cluster = call(rig, method, template)
        if response.status >= 300:
            continue
        data = response.json()["data"]
        samples = [data, *with_mutations(shrink(data), endpoint.returns_schema, rng, 16)]
        found += compare(endpoint.returns_schema, samples, f"{version} GET {template}")
        answered += 1
    assert answered > 250
    assert found == []
    assert min(verdicts.values()) > 10, verdicts


def test_a_large_answer_agrees_when_valid_and_when_one_row_is_wrong(verdicts):
    from pytest_pvemock import FakeCluster
    from pytest_pvemock.api.app import PveApi
    from pytest_pvemock.api.messages import ApiRequest

    cluster = FakeCluster.default()
    for vmid in range(1000, 1300):
        cluster.add_vm(vmid, node="pve1", name=f"vm{vmid}", status="running" if vmid % 2 else "stopped")
    api = PveApi(cluster)
    ticket = api.auth.signer.ticket("root@pam")
    request = ApiRequest("GET", "/api2/json/cluster/resources", "", {"Cookie": f"PVEAuthCookie={ticket}"})
    rows = api.handle(request).json()["data"]
    endpoint = get_registry("9.1").endpoint("GET", "/cluster/resources")
    rng = random.Random(f"{SEED}-large")
    samples = with_mutations(rows, endpoint.returns_schema, rng, 40)
    assert compare(endpoint.returns_schema, samples, "GET /cluster/resources, 300 guests") == []
    assert min(verdicts.values()) > 10, verdicts


# -- hypothesis: odd Python values against every keyword -------------------------------------------------------


class Color(str, enum.Enum):
    RED = "red"


class Small(enum.IntEnum):
    ONE = 1


class Text(str):
    pass


SCHEMAS: list[dict[str, Any]] = [
    {"type": ["integer", "string"], "pattern": r"^[+-]?\d+$", "minimum": 0, "maximum": 100, "x-pve-type": "integer"},
    {"type": ["number", "string"], "pattern": r"^[+-]?(?:\d+\.\d+|\d+\.|\.\d+|\d+)(?:[eE][+-]?\d+)?$",
     "minimum": 0.5, "x-pve-type": "number"},
    {"enum": [0, 1, "0", "1", False, True], "x-pve-type": "boolean"},
    {"enum": [1, 2.5, "red", None, False]},
    {"type": "string", "format": "pve-node", "minLength": 2, "maxLength": 5},
    {"type": "string", "format": "pve-storage-id-list"},
    {"type": "string", "format": "no-such-format"},
    {"type": ["null", "string"]},
    {"type": "array", "items": {"type": "integer"}},
    {"type": "array", "items": False},
    {"anyOf": [{"type": "string", "pattern": "^a"}, {"type": "integer", "maximum": 3}]},
    {"allOf": [{"pattern": "^a"}, {"pattern": "b$"}]},
    {"type": "string", "x-pve-property-string": {
        "type": "object", "additionalProperties": False, "x-pve-default-key": "model",
        "properties": {"model": {"type": "string", "enum": ["virtio", "e1000"]},
                       "bridge": {"type": "string", "pattern": "^vmbr\\d+$"},
                       "firewall": {"enum": [0, 1, "0", "1", False, True], "x-pve-type": "boolean"},
                       "rate": {"type": ["number", "string"], "minimum": 0, "x-pve-type": "number"}},
        "required": ["model"]}},
    {"x-pve-property-string": {"type": "object", "additionalProperties": False,
                               "properties": {"size": {"type": "string", "pattern": "^\\d+G$"}}}},
    {"x-pve-property-string": {"type": "object", "additionalProperties": False, "x-pve-default-key": "name",
                               "properties": {"name": {"type": "string", "minLength": 3}}}},
    {"type": "object", "required": ["id", "n"], "dependentRequired": {"a": ["b"]},
     "properties": {"id": {"type": "string"}, "n": {"type": ["integer", "string"], "minimum": 1},
                    "z": {"type": "null"}, "a": {}, "b": {"type": "array"}},
     "patternProperties": {"^net(?:[0-9]|1[0-9])$": {"type": "string", "pattern": "^v"}},
     "additionalProperties": False},
    {"type": "object", "additionalProperties": {"type": "integer"}, "properties": {"x": {"type": "string"}}},
    {"type": "object", "properties": {"type": {"type": "string"}, "v": {"type": "string"}},
     "allOf": [{"if": {"properties": {"type": {"enum": ["vxlan"]}}, "required": ["type"]},
                "then": {"required": ["v"]}, "else": {"properties": {"v": {"maxLength": 1}}}}]},
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=150),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1.0, 0.5, 3.0, Decimal("1"), Decimal("-2.5"), Color.RED, Small.ONE, Text("red"), Text("5")]),
    st.text(max_size=12),
    st.sampled_from(["0", "1", "5", "-1", "+7", "2.5", ".5", "1e2", "200", "red", "pve1", "p", "local,nfs-1",
                     "model=virtio,bridge=vmbr0", "virtio,firewall=yes", "e1000,rate=-1", "bridge=vmbr1",
                     "virtio,virtio", "abb", "ab", "b", "vxlan", "v1"]),
)  # fmt: skip
keys = st.sampled_from(["id", "n", "z", "a", "b", "x", "net0", "net19", "net20", "type", "v", "other"])
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(min_value=0, max_value=len(SCHEMAS) - 1), value=values)
def test_odd_values_agree_on_every_keyword(index, value):
    schema = SCHEMAS[index]
    assert compare(schema, [value], f"schema {index}") == []


GRID: list[Any] = [
    *INTERESTING, 0.5, 3.0, Decimal("1"), Color.RED, Small.ONE, Text("red"), Text("5"), (1, 2), [1, "2"], [True],
    "model=virtio,bridge=vmbr0", "virtio,firewall=yes", "virtio,firewall=2", "e1000,rate=-1", "e1000,rate=x",
    "bridge=vmbr1", "virtio,virtio", "model=virtio,model=e1000", "ab", "abb", "b", "p", "v1", "local,nfs-1",
    {"id": "a", "n": 1}, {"id": "a", "n": None}, {"id": None, "n": 1}, {"id": "a", "n": "0"}, {"id": "a", "n": 1.0},
    {"id": "a", "n": 1, "z": None}, {"id": "a", "n": 1, "z": 0}, {"id": "a", "n": 1, "net0": None},
    {"id": "a", "n": 1, "net19": "v"}, {"id": "a", "n": 1, "net0": "x"}, {"id": "a", "n": 1, "net20": "v"},
    {"id": "a", "n": 1, "a": 1}, {"id": "a", "n": 1, "a": None}, {"id": "a", "n": 1, "a": 1, "b": []},
    {"x": "s", "y": 1}, {"x": 1}, {"x": None}, {"y": None}, {"y": "s"}, {"type": "vxlan"},
    {"type": "vxlan", "v": "ab"}, {"type": "x", "v": "ab"}, {"type": "x", "v": "a"}, {"type": None, "v": "ab"},
]  # fmt: skip


@pytest.mark.parametrize("index", range(len(SCHEMAS)))
def test_a_grid_of_tricky_values_agrees_on_every_keyword(index):
    assert compare(SCHEMAS[index], GRID, f"schema {index}") == []


PROPERTY_STRING_CHECKS = ("fleecing", "prune-backups")  # in GET /nodes/{node}/vzdump/defaults
PROPERTY_STRING_TEXTS = [
    "keep-all=1", "keep-all=1,keep-last=2", "keep-last=2", "keep-all=0,keep-daily=1", "keep-all=1,keep-last=0",
    "keep-last=-1", "keep-all=yes,keep-weekly=1.5", "enabled=1", "enabled=1,storage=local", "enabled=0",
    "enabled=yes", "enabled=1,storage=", "1", "bogus=1", "", None, 7,
]  # fmt: skip


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("key", PROPERTY_STRING_CHECKS)
def test_property_strings_with_a_check_of_their_own_agree(version, key):
    schema = get_registry(version).endpoint("GET", "/nodes/{node}/vzdump/defaults").returns_schema
    property_schema = schema["properties"][key]
    assert "x-pve-validator" in property_schema["x-pve-property-string"]
    assert compare(property_schema, PROPERTY_STRING_TEXTS, f"{version} {key}") == []


# -- what users see ----------------------------------------------------------------------------------------------


def test_a_wrong_answer_is_reported_by_the_validator_word_for_word():
    endpoint = get_registry("9.1").endpoint("GET", "/cluster/resources")
    rows = [{"id": "qemu/100", "type": "qemu", "node": "-bad", "maxmem": "lots", "template": 2}]
    assert endpoint.validate_returns(rows) == describe_errors(compile_validator(endpoint.returns_schema), rows)
    assert endpoint.validate_returns(rows) == [
        "/0/maxmem: expected integer (a JSON number or its decimal text); actual 'lots'",
        "/0/node: expected format 'pve-node' (value does not look like a valid node name); actual '-bad'",
        "/0/template: expected boolean (0 or 1, JSON true/false, or the text '0'/'1'); actual 2",
    ]


def test_a_schema_with_a_keyword_the_check_does_not_know_is_left_to_the_validator():
    assert compile_checker({"type": "array", "uniqueItems": True}) is None
    assert compile_checker({"not": {"type": "string"}}) is None
    assert compile_checker({"type": "string", "description": "annotations are fine", "x-pve-type": "x"}) is not None
