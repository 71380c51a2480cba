"""The JSON Schemas built from PVE's apidoc: complete, compilable, deterministic, and rebuilt byte for byte."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from pytest_pvemock.cli import main
from pytest_pvemock.schema.convert import INDEXED_KEY_LIMITS, indexed_key_pattern
from pytest_pvemock.schema.files import release_index
from pytest_pvemock.schema.formats import is_known_format
from pytest_pvemock.schema.patterns import anchored, perl_to_python
from pytest_pvemock.schema.registry import get_registry, resolve_release

# Every stored schema once (the first release carrying each file): 37 schemas, about 22,000 method schemas.
SCHEMA_RELEASES = sorted(
    {entry["file"]: entry["version"] for entry in reversed(release_index()["releases"])}.values(),
    key=lambda version: resolve_release(version).key,
)


def method_schemas(version: str):
    registry = get_registry(version)
    for template, entry in sorted(registry.paths.items()):
        if not entry["methods"]:
            continue
        body = registry.template_body(template)
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


@pytest.mark.parametrize("version", SCHEMA_RELEASES)
def test_every_method_has_parameter_and_return_schemas(version):
    count = 0
    for _method, _template, schema in method_schemas(version):
        count += 1
        assert schema["parameters"]["type"] == "object"
        for part in ("parameters", "returns"):
            assert schema[part]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert count == resolve_release(version).methods  # INDEX.json's count, re-checked against the shared files


_CHECKED: set[str] = set()  # a converted schema shared by several releases is checked once


@pytest.mark.parametrize("version", SCHEMA_RELEASES)
def test_every_schema_is_valid_2020_12_every_pattern_compiles_every_format_is_known(version):
    for method, template, schema in method_schemas(version):
        for part in ("parameters", "returns"):
            text = json.dumps(schema[part], sort_keys=True)
            if text in _CHECKED:
                continue
            _CHECKED.add(text)
            Draft202012Validator.check_schema(schema[part])
            for node in walk(schema[part]):
                if isinstance(node.get("pattern"), str):
                    re.compile(node["pattern"])
                for pattern in node.get("patternProperties", {}):
                    re.compile(pattern)
                if isinstance(node.get("format"), str):
                    assert is_known_format(node["format"]), (method, template, node["format"])


@pytest.mark.parametrize("version", ["7.4", "8.4", "9.1"])
def test_rebuild_is_byte_identical_and_equals_what_the_registry_builds_in_memory(tmp_path, version):
    release = resolve_release(version).version
    assert main(["schemas", "build", "--pve-version", version, "--out", str(tmp_path / "a")]) == 0
    assert main(["schemas", "build", "--pve-version", release, "--out", str(tmp_path / "b")]) == 0
    first, second = tmp_path / "a" / f"pve-{release}", tmp_path / "b" / f"pve-{release}"
    built = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert built == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in built:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative
    registry = get_registry(version)
    index = json.loads((first / "index.json").read_text(encoding="utf-8"))
    assert index["paths"] == registry.paths
    for template, entry in registry.paths.items():
        if "file" in entry:
            text = (first / entry["file"]).read_text(encoding="utf-8")
            assert json.loads(text) == registry.template_body(template), template


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
