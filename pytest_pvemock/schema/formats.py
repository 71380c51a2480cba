"""PVE's named string formats (``format => 'pve-node'`` and friends), with PVE's own error wording.

Each checker mirrors the verifier that PVE registers with ``PVE::JSONSchema::register_format`` (in pve-common,
or in the package that owns the format: qemu-server, pve-storage, pve-access-control, ...). A checker returns
``None`` when the value is valid and raises :class:`FormatError` with the text PVE dies with otherwise.

``<name>-list`` splits the value like ``PVE::Tools::split_list`` (on NUL if present, else on ``,``, ``;`` and
white space; empty lists are allowed) and checks each item; ``<name>-opt`` checks only a true (in Perl's sense)
value. Formats whose definition is a property-string hash (``pve-qm-ide``, ``prune-backups``, ...) are not
here: the schema build inlines their key schemas (see ``named_property_formats.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache

from pytest_pvemock.schema.linear_regex import LinearRegex

__all__ = ["FORMATS", "FormatError", "check_format", "is_known_format", "split_list"]


class FormatError(ValueError):
    """A value that does not match its named format; ``str()`` is PVE's message (without the newline)."""


Checker = Callable[[str], None]
FORMATS: dict[str, Checker] = {}


def register(name: str) -> Callable[[Checker], Checker]:
    def add(checker: Checker) -> Checker:
        FORMATS[name] = checker
        return checker

    return add


def split_list(text: str) -> list[str]:
    """``PVE::Tools::split_list``: NUL-separated if there is a NUL, else separated by ``,``, ``;`` and spaces."""
    if "\0" in text:
        return text.split("\0")
    return [part for part in re.split(r"\s+", re.sub(r"[,;]", " ", text).lstrip()) if part != ""]


def _perl_true(value: str) -> bool:
    return value not in ("", "0")


def is_known_format(name: str) -> bool:
    base, _suffix = _split_format_name(name)
    return name == "regex" or base in FORMATS


def _split_format_name(name: str) -> tuple[str, str]:
    match = re.fullmatch(r"(.*?)(?:-(list|opt))?", name)
    assert match is not None
    return match.group(1), match.group(2) or "none"


def check_format(name: str, value: str) -> None:
    """Check ``value`` against the named format ``name`` (with optional ``-list``/``-opt`` suffix)."""
    if name == "regex":
        return
    base, suffix = _split_format_name(name)
    checker = FORMATS.get(base)
    if checker is None:
        raise FormatError(f"undefined format '{name}'")
    if suffix == "list":
        for item in split_list(value):
            checker(item)
    elif suffix == "opt":
        if _perl_true(value):
            checker(value)
    else:
        checker(value)


def _fullmatch(pattern: str, value: str, flags: int = 0) -> bool:
    # Perl's /^...$/ also accepts a trailing newline before the end, as Python's re.match with '$' does.
    return _anchored_check(pattern, flags).search(value)


@cache
def _anchored_check(pattern: str, flags: int) -> LinearRegex:
    """``^(?:pattern)$`` matched in linear time: format checks see hostile text (see ``linear_regex.py``)."""
    scoped = f"(?i:{pattern})" if flags & re.IGNORECASE else pattern
    if flags & ~re.IGNORECASE:
        raise ValueError(f"unsupported flags {flags!r}")
    return LinearRegex(f"^(?:{scoped})$")


# --- building blocks (pve-common PVE::ParseUtils) ---

IPV4_OCTET = r"(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])"
IPV4_RE = rf"(?:(?:{IPV4_OCTET}\.){{3}}{IPV4_OCTET})"
_H16 = r"(?:[0-9a-fA-F]{1,4})"
_LS32 = rf"(?:(?:{IPV4_RE}|{_H16}:{_H16}))"
IPV6_RE = (
    "(?:"
    rf"(?:(?:(?:{_H16}:){{6}}){_LS32})|"
    rf"(?:(?:::(?:{_H16}:){{5}}){_LS32})|"
    rf"(?:(?:(?:{_H16})?::(?:{_H16}:){{4}}){_LS32})|"
    rf"(?:(?:(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}){_LS32})|"
    rf"(?:(?:(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}){_LS32})|"
    rf"(?:(?:(?:(?:{_H16}:){{0,3}}{_H16})?::(?:{_H16}:){{1}}){_LS32})|"
    rf"(?:(?:(?:(?:{_H16}:){{0,4}}{_H16})?::){_LS32})|"
    rf"(?:(?:(?:(?:{_H16}:){{0,5}}{_H16})?::){_H16})|"
    rf"(?:(?:(?:(?:{_H16}:){{0,6}}{_H16})?::))"
    ")"
)
EMAIL_USER_RE = r"[\w\+\-\~]+(?:\.[\w\+\-\~]+)*"
EMAIL_RE = rf"{EMAIL_USER_RE}@[a-zA-Z0-9\-]+(?:\.[a-zA-Z0-9\-]+)*"
CONFIGID_RE = r"[a-z][a-z0-9_-]+"
DNS_NAME_PART = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)"
PVE_TAG_RE = r"[a-z0-9_][a-z0-9_\-\+\.]*"

IPV4_MASKS = {".".join(str((((1 << 32) - (1 << (32 - bits))) >> shift) & 255) for shift in (24, 16, 8, 0)): bits
              for bits in range(0, 33)}  # fmt: skip


def _fail_unless(ok: bool, message: str) -> None:
    if not ok:
        raise FormatError(message)


def parse_size(value: str) -> int | None:
    """``PVE::JSONSchema::parse_size``: ``10``, ``1.5G``, ``512MiB`` -> bytes, else ``None``."""
    match = re.match(r"^(\d+(?:\.\d+)?)([KMGT](?:iB)?)?$", value)
    if match is None:
        return None
    size = float(match.group(1))
    unit = (match.group(2) or "")[:1]
    size *= 1024 ** " KMGT".index(unit) if unit else 1
    if not math.isfinite(size):
        # Perl reads thousands of digits as Inf and carries on; refusing here keeps the answer a 400, not a 500
        return None
    return int(size)


def parse_id(value: str, kind: str) -> None:
    """``PVE::JSONSchema::parse_id``: the common shape of storage, ACME plugin and similar ids."""
    _fail_unless(len(value) >= 2, f"{kind} ID '{value}' cannot be shorter than 2 characters")
    _fail_unless(
        _fullmatch(r"[a-z][a-z0-9\-\_\.]*[a-z0-9]", value, re.I), f"{kind} ID '{value}' contains illegal characters"
    )


def _ip_version(value: str) -> int:
    if _fullmatch(IPV4_RE, value):
        return 4
    if _fullmatch(IPV6_RE, value):
        return 6
    return 0


def is_cidr(value: str, version: int) -> bool:
    address, slash, bits = value.rpartition("/")
    if not slash or not bits.isdigit() or not bits.isascii():
        return False
    limit = 32 if version == 4 else 128
    return _fullmatch(IPV4_RE if version == 4 else IPV6_RE, address) and 7 < int(bits) <= limit


@register("string")
def _string(value: str) -> None:
    return None


@register("urlencoded")
def _urlencoded(value: str) -> None:
    _fail_unless(_fullmatch(r"[-%a-zA-Z0-9_.!~*'()]*", value), f"invalid urlencoded string: {value}")


@register("pve-configid")
def _configid(value: str) -> None:
    _fail_unless(_fullmatch(CONFIGID_RE, value, re.I), f"invalid configuration ID '{value}'")


@register("pve-storage-id")
def _storage_id(value: str) -> None:
    parse_id(value, "storage")


@register("acme-plugin-id")
def _acme_plugin_id(value: str) -> None:
    parse_id(value, "ACME plugin")


@register("pve-bridge-id")
def _bridge_id(value: str) -> None:
    _fail_unless(_fullmatch(r"[-_.\w\d]+", value), f"invalid bridge ID '{value}'")


@register("pve-vmid")
def _vmid(value: str) -> None:
    _fail_unless(_fullmatch(r"[1-9][0-9]{2,8}", value), "value does not look like a valid VM ID")


@register("pve-node")
def _node(value: str) -> None:
    _fail_unless(_fullmatch(DNS_NAME_PART, value), "value does not look like a valid node name")


def _id_pair(value: str, id_format: str) -> None:
    """``parse_idmap`` for one entry of a storage/bridge pair list: ``1``, ``source:target`` or a default id."""
    if value == "1":
        return
    match = re.match(r"^([^:]+):([^:]+)$", value)
    try:
        if match:
            check_format(id_format, match.group(1))
            check_format(id_format, match.group(2))
        else:
            check_format(id_format, value)
    except FormatError as error:
        raise FormatError(f"entry '{value}' contains invalid ID - {error}") from None


@register("storage-pair")
def _storage_pair(value: str) -> None:
    _id_pair(value, "pve-storage-id")


@register("bridge-pair")
def _bridge_pair(value: str) -> None:
    _id_pair(value, "pve-bridge-id")


@register("mac-addr")
def _mac_addr(value: str) -> None:
    _fail_unless(
        _fullmatch(r"[a-f0-9][02468ace](?::[a-f0-9]{2}){5}", value, re.I),
        "value does not look like a valid unicast MAC address",
    )


@register("ipv4")
def _ipv4(value: str) -> None:
    _fail_unless(_fullmatch(IPV4_RE, value), "value does not look like a valid IPv4 address")


@register("ipv6")
def _ipv6(value: str) -> None:
    _fail_unless(_fullmatch(IPV6_RE, value), "value does not look like a valid IPv6 address")


@register("ip")
def _ip(value: str) -> None:
    _fail_unless(_ip_version(value) != 0, "value does not look like a valid IP address")


@register("ldap-simple-attr")
def _ldap_simple_attr(value: str) -> None:
    _fail_unless(_fullmatch(r"[a-zA-Z0-9]+", value), f"value '{value}' does not look like a simple ldap attribute name")


@register("ipv4mask")
def _ipv4mask(value: str) -> None:
    _fail_unless(value in IPV4_MASKS, "value does not look like a valid IP netmask")


@register("CIDRv6")
def _cidrv6(value: str) -> None:
    _fail_unless(is_cidr(value, 6), "value does not look like a valid IPv6 CIDR network")


@register("CIDRv4")
def _cidrv4(value: str) -> None:
    _fail_unless(is_cidr(value, 4), "value does not look like a valid IPv4 CIDR network")


@register("CIDR")
def _cidr(value: str) -> None:
    _fail_unless(is_cidr(value, 4) or is_cidr(value, 6), "value does not look like a valid CIDR network")


@register("pve-ipv4-config")
def _ipv4_config(value: str) -> None:
    ok = _fullmatch("dhcp|manual", value) or is_cidr(value, 4)
    _fail_unless(ok, "value does not look like a valid ipv4 network configuration")


@register("pve-ipv6-config")
def _ipv6_config(value: str) -> None:
    ok = _fullmatch("auto|dhcp|manual", value) or is_cidr(value, 6)
    _fail_unless(ok, "value does not look like a valid ipv6 network configuration")


@register("email")
def _email(value: str) -> None:
    _fail_unless(_fullmatch(EMAIL_RE, value), "value does not look like a valid email address")


@register("email-or-username")
def _email_or_username(value: str) -> None:
    ok = _fullmatch(EMAIL_RE, value) or _fullmatch(EMAIL_USER_RE, value)
    _fail_unless(ok, "value does not look like a valid email address or user name")


@register("dns-name")
def _dns_name(value: str) -> None:
    ok = _fullmatch(rf"(?:{DNS_NAME_PART}\.)*{DNS_NAME_PART}", value)
    _fail_unless(ok, "value does not look like a valid DNS name")


@register("timezone")
def _timezone(value: str) -> None:
    # PVE reads /usr/share/zoneinfo/zone.tab; a fake cannot rely on the host's copy, so any Area/City shape passes.
    _fail_unless(
        value == "UTC" or _fullmatch(r"[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+", value), f"invalid time zone '{value}'"
    )


@register("pve-iface")
def _iface(value: str) -> None:
    _fail_unless(
        _fullmatch(r"[a-z][a-z0-9_]{1,20}(?:[:\.]\d+)?", value, re.I), f"invalid network interface name '{value}'"
    )


@register("pve-vlan-id-or-range")
def _vlan_id_or_range(value: str) -> None:
    match = re.match(r"^(\d+)(?:-(\d+))?$", value)
    _fail_unless(match is not None, f"invalid VLAN configuration '{value}'")
    assert match is not None
    start, end = match.group(1), match.group(2)
    for tag in (start, end):
        if tag and not 2 <= int(tag) <= 4094:
            raise FormatError(f"invalid VLAN tag '{tag}'")
    if end and _perl_true(end) and int(start) >= int(end):
        raise FormatError(f"VLAN range must go from lower to higher tag '{value}'")


@register("address")
def _address(value: str) -> None:
    ok = _ip_version(value) != 0 or _fullmatch(rf"(?:{DNS_NAME_PART}\.)*{DNS_NAME_PART}", value)
    _fail_unless(ok, f"value does not look like a valid address: {value}")


@register("disk-size")
def _disk_size(value: str) -> None:
    _fail_unless(parse_size(value) is not None, f"value does not look like a valid disk size: {value}")


@register("pve-startup-order")
def _startup_order(value: str) -> None:
    parts = [part for part in value.split(",") if not re.match(r"^\s*$", part)] if _perl_true(value) else None
    ok = parts is not None and all(re.match(r"^(?:(?:order=)?\d+|up=\d+|down=\d+)$", part) for part in parts)
    _fail_unless(ok, "unable to parse startup options")


@register("pve-tag")
def _tag(value: str) -> None:
    _fail_unless(_fullmatch(PVE_TAG_RE, value, re.I), "invalid characters in tag")


@register("pve-tfa-secret")
def _tfa_secret(value: str) -> None:
    ok = (
        _fullmatch(r"v2-0x[0-9a-fA-F]{16,128}", value)
        or _fullmatch(r"v2-[A-Z2-7=]{16,128}", value)
        or _fullmatch(r"[A-Z2-7=]{16}|[A-Fa-f0-9]{40}", value)
    )
    _fail_unless(ok, "unable to decode TFA secret")


@register("pve-task-status-type")
def _task_status_type(value: str) -> None:
    _fail_unless(_fullmatch("ok|error|warning|unknown", value, re.I), f"invalid status '{value}'")


# Formats owned by other PVE packages register themselves into FORMATS.
from pytest_pvemock.schema import package_formats  # noqa: E402, F401
