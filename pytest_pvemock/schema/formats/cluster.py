"""Formats of pve-cluster (``DataCenterConfig.pm``)."""

from __future__ import annotations

import re

from pytest_pvemock.schema.formats.checks import (
    Checker,
    fail_unless,
    fullmatch,
    registrar,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-cluster (DataCenterConfig.pm) ---


@register("mac-prefix")
def _mac_prefix(value: str) -> None:
    ok = fullmatch(r"[a-f0-9][02468ace](?::[a-f0-9]{2}){0,2}(?::[a-f0-9]?)?", value, re.I)
    fail_unless(ok, "value is not a valid unicast MAC address prefix")
