"""Formats of pve-storage (``PVE/Storage/Plugin.pm``)."""

from __future__ import annotations

import re

from pytest_pvemock.schema.formats.checks import (
    DNS_NAME_PART,
    IPV4_RE,
    IPV6_RE,
    Checker,
    FormatError,
    fail_unless,
    fullmatch,
    ip_version,
    registrar,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-storage (PVE/Storage/Plugin.pm) ---

STORAGE_CONTENT_TYPES = {"images", "rootdir", "vztmpl", "iso", "backup", "snippets", "none", "import"}


@register("pve-storage-path")
def _storage_path(value: str) -> None:
    fail_unless(re.match(r"^/[^;\(\)]+", value) is not None, "value does not look like a valid absolute path")


@register("pve-storage-server")
def _storage_server(value: str) -> None:
    ok = ip_version(value) != 0 or fullmatch(rf"(?:{DNS_NAME_PART}\.)*{DNS_NAME_PART}", value)
    fail_unless(ok, "value does not look like a valid server name or IP address")


@register("pve-storage-vgname")
def _storage_vgname(value: str) -> None:
    ok = fullmatch(r"[a-z0-9][a-z0-9\-\_\.]*[a-z0-9]", value, re.I)
    fail_unless(ok, f"lvm name '{value}' contains illegal characters")


def parse_host_and_port(value: str) -> bool:
    """``PVE::Tools::parse_host_and_port``: host, IPv4 or ``[IPv6]`` with an optional port."""
    return bool(
        re.match(rf"^(?:{IPV4_RE}|[A-Za-z0-9\-.]+)(?::\d+)?$", value)
        or re.match(rf"^\[(?:{IPV6_RE}|{IPV4_RE}|[A-Za-z0-9\-.]+)\](?::\d+)?$", value)
        or re.match(rf"^(?:{IPV6_RE})(?:\.\d+)?$", value)
    )


@register("pve-storage-portal-dns")
def _storage_portal_dns(value: str) -> None:
    fail_unless(parse_host_and_port(value), "value does not look like a valid portal address")


@register("pve-storage-content")
def _storage_content(value: str) -> None:
    fail_unless(value in STORAGE_CONTENT_TYPES, f"invalid content type '{value}'")


@register("pve-storage-options")
def _storage_options(value: str) -> None:
    fail_unless(re.match(r"^\S+$", value) is not None, f"invalid options '{value}'")


@register("pve-volume-id")
def _volume_id(value: str) -> None:
    ok = re.match(r"^[a-z][a-z0-9\-\_\.]*[a-z0-9]:.+$", value, re.I) is not None
    fail_unless(ok, f"unable to parse volume ID '{value}'")


@register("pve-dir-override")
def _dir_override(value: str) -> None:
    # PVE's /^([a-z]+)=([^.]*(?:\.?[^.]+)+)$/ backtracks exponentially in Python's re on 'a=bbb...b.': the
    # yes/no is asked of the linear engine, the groups split at the first '=' (the first group has no '=').
    content_type, _, relative = value.partition("=")
    if (
        fullmatch(r"([a-z]+)=([^.]*(?:\.?[^.]+)+)", value)
        and content_type in STORAGE_CONTENT_TYPES
        and len(relative) < 1023
        and not any(len(part) >= 255 for part in relative.split("/"))
    ):
        return
    raise FormatError(f"invalid override '{value}'")


@register("pve-storage-format")
def _storage_format(value: str) -> None:
    fail_unless(value in {"raw", "qcow2", "vmdk", "subvol"}, f"invalid format '{value}'")
