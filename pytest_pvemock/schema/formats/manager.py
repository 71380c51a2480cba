"""Formats of pve-manager."""

from __future__ import annotations

import re

from pytest_pvemock import json_nesting
from pytest_pvemock.schema.formats.checks import (
    DNS_NAME_PART,
    Checker,
    FormatError,
    fail_unless,
    fullmatch,
    registrar,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-manager ---


@register("pve-day-of-week")
def _day_of_week(value: str) -> None:
    fail_unless(fullmatch("mon|tue|wed|thu|fri|sat|sun", value), f"invalid day '{value}'")


@register("pve-command-batch")
def _command_batch(value: str) -> None:
    try:
        commands = json_nesting.loads(value)
    except ValueError as error:
        raise FormatError(f"commands param did not contain valid JSON: {error}") from None
    ok = isinstance(commands, list) and all(
        isinstance(c, dict) and isinstance(c.get("path"), str) and c.get("method") in ("GET", "POST", "PUT", "DELETE")
        and isinstance(c.get("args", {}), dict)
        for c in commands
    )  # fmt: skip
    fail_unless(ok, "commands is not a valid array of commands: Parameter verification failed.")


@register("graphite-path")
def _graphite_path(value: str) -> None:
    ok = fullmatch(rf"(?:{DNS_NAME_PART}\.)*{DNS_NAME_PART}", value)
    fail_unless(ok, "value does not look like a valid graphite path")


@register("pve-acme-domain")
def _acme_domain(value: str) -> None:
    ok = fullmatch(r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+", value, re.I)
    fail_unless(ok, f"value '{value}' does not look like a valid domain name!")


@register("pve-acme-alias")
def _acme_alias(value: str) -> None:
    ok = fullmatch(r"[a-z0-9_][a-z0-9_-]*(?:\.[a-z0-9_][a-z0-9_-]*)+", value, re.I)
    fail_unless(ok, f"value '{value}' does not look like a valid alias name!")
