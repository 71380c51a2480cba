"""The generated schemas: complete, compilable, deterministic, and rebuilt byte for byte."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from pytest_pvemock.cli import main
from pytest_pvemock.schema.convert import INDEXED_KEY_LIMITS, indexed_key_pattern
from pytest_pvemock.schema.formats import is_known_format
from pytest_pvemock.schema.patterns import anchored, perl_to_python

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
METHOD_COUNTS = {"9.1": 667, "8.4": 605}


def method_schemas(version: str):
    directory = SCHEMAS / f"pve-{version}"
    index = json.loads((directory / "index.json").read_text(encoding="utf-8"))
    for template, entry in sorted(index["paths"].items()):
        if not entry["methods"]:
            continue
        body = json.loads((directory / entry["file"]).read_text(encoding="utf-8"))
        assert body["path"] == template
        assert sorted(body["methods"]) == entry["methods"]
        for method, schema in sorted(body["methods"].items()):
            yield method, template, schema


def walk(schema: object):
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from walk(value)


@pytest.mark.parametrize("version", sorted(METHOD_COUNTS))
def test_every_method_has_parameter_and_return_schemas(version):
    count = 0
    for _method, _template, schema in method_schemas(version):
        count += 1
        assert schema["parameters"]["type"] == "object"
        for part in ("parameters", "returns"):
            assert schema[part]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert count == METHOD_COUNTS[version]


@pytest.mark.parametrize("version", sorted(METHOD_COUNTS))
def test_every_schema_is_valid_2020_12_every_pattern_compiles_every_format_is_known(version):
    for method, template, schema in method_schemas(version):
        for part in ("parameters", "returns"):
            Draft202012Validator.check_schema(schema[part])
            for node in walk(schema[part]):
                if isinstance(node.get("pattern"), str):
                    re.compile(node["pattern"])
                for pattern in node.get("patternProperties", {}):
                    re.compile(pattern)
                if isinstance(node.get("format"), str):
                    assert is_known_format(node["format"]), (method, template, node["format"])


def test_rebuild_is_byte_identical(tmp_path):
    assert main(["schemas", "build", "--out", str(tmp_path)]) == 0
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(SCHEMAS)
        for p in SCHEMAS.rglob("*")
        if p.is_file() and p.parent != SCHEMAS and p.relative_to(SCHEMAS).parts[0] != "secrets"  # test_schema_secrets
    )
    assert built == committed
    for relative in built:
        assert (tmp_path / relative).read_bytes() == (SCHEMAS / relative).read_bytes(), relative


@pytest.mark.parametrize(
    ("perl", "python"),
    [
        ("(?^:[a-z]+)", "(?:[a-z]+)"),
        ("(?^i:[a-z]+)", "(?i:[a-z]+)"),
        ("(?^:^((?>[+-]?\\w+,?)+)$)", "(?:^((?:(?=(?P<a1>[+-]?\\w+,?))(?P=a1))+)$)"),
        ("[(?^:]x", "[(?^:]x"),
        ("a\\(?^:b", "a\\(?^:b"),
    ],
)
def test_perl_constructs_are_rewritten(perl, python):
    assert perl_to_python(perl) == python


def test_anchoring_is_implicit_like_pves_match():
    pattern = re.compile(anchored("(?^i:[a-z0-9_][a-z0-9_\\-\\+\\.]*)"))
    assert pattern.match("Web-1")
    assert not pattern.match("-web")
    assert not re.compile(anchored("\\d+")).match("12a")


def test_atomic_group_keeps_perl_semantics():
    pattern = re.compile(anchored("(?^:^((?>[+-]?[\\w\\-\\._=]+,?)+)$)"))
    assert pattern.match("+aes,-pcid,host")
    assert not pattern.match("+aes;-pcid")


@pytest.mark.parametrize(("family", "name"), [(f, n) for f, names in INDEXED_KEY_LIMITS.items() for n in names])
def test_indexed_key_patterns_cover_exactly_the_range(family, name):
    count = INDEXED_KEY_LIMITS[family][name]
    pattern = re.compile(indexed_key_pattern(name, count))
    assert pattern.match(f"{name}0") and pattern.match(f"{name}{count - 1}")
    assert not pattern.match(f"{name}{count}")
    assert not pattern.match(f"{name}01")
