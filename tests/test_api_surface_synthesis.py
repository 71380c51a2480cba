"""The values the fake makes up satisfy PVE's own checks: every pattern, every format, every returns schema."""

from __future__ import annotations

import re

import pytest

from pytest_pvemock.schema.formats import FormatError, check_format
from pytest_pvemock.schema.registry import get_registry
from pytest_pvemock.schema.synthesis import Facts, format_value, pattern_value, synthesize

VERSIONS = ("9.1", "8.4")


def walk(schema, found):
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            found["patterns"].add(schema["pattern"])
        if isinstance(schema.get("format"), str):
            found["formats"].add(schema["format"])
        for value in schema.values():
            walk(value, found)
    elif isinstance(schema, list):
        for value in schema:
            walk(value, found)


@pytest.fixture(scope="module")
def used():
    found = {"patterns": set(), "formats": set()}
    for version in VERSIONS:
        registry = get_registry(version)
        for method, template in registry.endpoints():
            endpoint = registry.endpoint(method, template)
            walk(endpoint.parameters_schema, found)
            walk(endpoint.returns_schema, found)
    return found


def test_every_pattern_gets_a_matching_value(used):
    assert len(used["patterns"]) > 50
    wrong = [(p, pattern_value(p)) for p in sorted(used["patterns"]) if not re.match(p, pattern_value(p))]
    assert wrong == []


def test_every_checked_format_gets_a_value_pve_accepts(used):
    facts = Facts(nodes=["pve1", "pve2"])
    wrong = []
    for name in sorted(used["formats"]):
        try:
            check_format(name, str(format_value(name, facts)))
        except FormatError as error:
            if "undefined format" not in str(error):  # property-string formats are checked key by key instead
                wrong.append((name, format_value(name, facts), str(error)))
    assert wrong == []


@pytest.mark.parametrize("version", VERSIONS)
def test_every_returns_schema_accepts_its_synthesised_value(version):
    registry = get_registry(version)
    wrong = []
    for method, template in registry.endpoints():
        endpoint = registry.endpoint(method, template)
        problems = endpoint.validate_returns(synthesize(endpoint.returns_schema, Facts()))
        if problems:
            wrong.append((method, template, problems[:2]))
    assert wrong == []
