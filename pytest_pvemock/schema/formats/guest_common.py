"""Formats of pve-guest-common."""

from __future__ import annotations

import re

from pytest_pvemock.schema.formats.checks import (
    Checker,
    fail_unless,
    registrar,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-guest-common ---


@register("pve-storage-path-in-property-string")
def _path_in_property_string(value: str) -> None:
    fail_unless(
        re.match(r"^/[^;,=\(\)]+", value) is not None,
        "Value does not look like a valid absolute path. These symbols are currently not allowed in path: ;,=()",
    )


@register("pve-replication-job-id")
def _replication_job_id(value: str) -> None:
    match = re.match(r"^(\d+)-(\d+)$", value)
    fail_unless(match is not None, f"invalid replication job id '{value}'")
    assert match is not None
    fail_unless(int(match.group(1)) >= 100, f"invalid replication job id '{value}' (guest IDs < 100 are reserved)")
