"""Formats of pve-container (``LXC/Config.pm``)."""

from __future__ import annotations

import re

from pytest_pvemock.schema.formats import common
from pytest_pvemock.schema.formats.checks import (
    Checker,
    fail_unless,
    fullmatch,
    ip_version,
    registrar,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-container (LXC/Config.pm) ---


@register("lxc-ip-with-ll-iface")
def _ip_with_ll_iface(value: str) -> None:
    match = re.match(r"^(fe80:[^%]+)%(.*)$", value)
    if match and ip_version(match.group(1)) and fullmatch(r"[a-z][a-z0-9_]{1,20}(?:[:\.]\d+)?", match.group(2), re.I):
        return
    fail_unless(ip_version(value) != 0, "value does not look like a valid IP address")


@register("pve-ct-timezone")
def _ct_timezone(value: str) -> None:
    if value == "host":
        return
    common.FORMATS["timezone"](value)


@register("pve-lxc-mp-string")
def _lxc_mp_string(value: str) -> None:
    bad = re.search(r"/\.\.?/", value) or re.search(r"/\.\.?$", value) or re.match(r"^\.\./", value)
    fail_unless(not bad, f"{value} contains illegal character sequences")


@register("pve-lxc-dev-string")
def _lxc_dev_string(value: str) -> None:
    bad = re.search(r"/\.\.?(?:/|$)", value) or not value.startswith("/dev/")
    fail_unless(not bad, f"{value} is not a valid device path")
