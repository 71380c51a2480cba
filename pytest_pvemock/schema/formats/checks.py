"""What every format module shares: :class:`FormatError`, PVE's building-block patterns and small checks.

The patterns and helpers follow pve-common (``PVE::JSONSchema``, ``PVE::Tools``); each format module
(``common.py``, ``storage.py``, ...) keeps its own ``FORMATS`` table, filled by the decorator :func:`registrar`
gives it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache

from pytest_pvemock.schema.linear_regex import LinearRegex

__all__ = [
    "CONFIGID_RE",
    "DNS_NAME_PART",
    "EMAIL_RE",
    "EMAIL_USER_RE",
    "IPV4_MASKS",
    "IPV4_OCTET",
    "IPV4_RE",
    "IPV6_RE",
    "PVE_TAG_RE",
    "Checker",
    "FormatError",
    "fail_unless",
    "fullmatch",
    "ip_version",
    "is_cidr",
    "parse_id",
    "parse_size",
    "perl_true",
    "registrar",
    "split_list",
    "words",
]


class FormatError(ValueError):
    """A value that does not match its named format; ``str()`` is PVE's message (without the newline)."""


Checker = Callable[[str], None]


def registrar(table: dict[str, Checker]) -> Callable[[str], Callable[[Checker], Checker]]:
    """``register = registrar(FORMATS)``; ``@register("pve-node")`` puts a checker into that module's table."""

    def register(name: str) -> Callable[[Checker], Checker]:
        def add(checker: Checker) -> Checker:
            table[name] = checker
            return checker

        return add

    return register


def split_list(text: str) -> list[str]:
    """``PVE::Tools::split_list``: NUL-separated if there is a NUL, else separated by ``,``, ``;`` and spaces."""
    if "\0" in text:
        return text.split("\0")
    return [part for part in re.split(r"\s+", re.sub(r"[,;]", " ", text).lstrip()) if part != ""]


def perl_true(value: str) -> bool:
    """Whether Perl takes the text for true (anything but ``""`` and ``"0"``)."""
    return value not in ("", "0")


def fullmatch(pattern: str, value: str, flags: int = 0) -> bool:
    """Perl's ``/^(?:pattern)$/``, which also accepts a trailing newline before the end (as Python's ``$`` does)."""
    if len(value) > _KEPT_VALUE_LENGTH:
        return _anchored_check(pattern, flags).search(value)
    key = (pattern, flags, value)
    found = _MATCHES.get(key)
    if found is None:
        if len(_MATCHES) >= _MATCHES_LIMIT:
            _MATCHES.clear()
        found = _MATCHES[key] = _anchored_check(pattern, flags).search(value)
    return found


# Verdicts on short values, kept: every request checks the same node names and ids again (~40 us each through RE2).
_MATCHES: dict[tuple[str, int, str], bool] = {}
_MATCHES_LIMIT = 20_000
_KEPT_VALUE_LENGTH = 128


@cache
def _anchored_check(pattern: str, flags: int) -> LinearRegex:
    """``^(?:pattern)$`` matched in linear time: format checks see hostile text (see ``linear_regex.py``)."""
    scoped = f"(?i:{pattern})" if flags & re.IGNORECASE else pattern
    if flags & ~re.IGNORECASE:
        raise ValueError(f"unsupported flags {flags!r}")
    return LinearRegex(f"^(?:{scoped})$")


def words(text: str) -> frozenset[str]:
    """The white-space separated words of ``text``."""
    return frozenset(text.split())


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


def fail_unless(ok: bool, message: str) -> None:
    """Raise :class:`FormatError` with ``message`` unless ``ok``."""
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
    fail_unless(len(value) >= 2, f"{kind} ID '{value}' cannot be shorter than 2 characters")
    fail_unless(
        fullmatch(r"[a-z][a-z0-9\-\_\.]*[a-z0-9]", value, re.I), f"{kind} ID '{value}' contains illegal characters"
    )


def ip_version(value: str) -> int:
    """4 or 6 for an IPv4 or IPv6 address, else 0."""
    if fullmatch(IPV4_RE, value):
        return 4
    if fullmatch(IPV6_RE, value):
        return 6
    return 0


def is_cidr(value: str, version: int) -> bool:
    """Whether ``value`` is a CIDR of IP ``version`` with a prefix PVE accepts (more than 7 bits)."""
    address, slash, bits = value.rpartition("/")
    if not slash or not bits.isdigit() or not bits.isascii():
        return False
    limit = 32 if version == 4 else 128
    return fullmatch(IPV4_RE if version == 4 else IPV6_RE, address) and 7 < int(bits) <= limit
