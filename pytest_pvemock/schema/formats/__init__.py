"""PVE's named string formats (``format => 'pve-node'`` and friends), with PVE's own error wording.

Each checker mirrors the verifier that PVE registers with ``PVE::JSONSchema::register_format`` (in pve-common,
or in the package that owns the format: qemu-server, pve-storage, pve-access-control, ...). A checker returns
``None`` when the value is valid and raises :class:`FormatError` with the text PVE dies with otherwise.

``<name>-list`` splits the value like ``PVE::Tools::split_list`` (on NUL if present, else on ``,``, ``;`` and
white space; empty lists are allowed) and checks each item; ``<name>-opt`` checks only a true (in Perl's sense)
value. Formats whose definition is a property-string hash (``pve-qm-ide``, ``prune-backups``, ...) are not
here: the schema build inlines their key schemas (see ``named_property_formats.py``).

One module per PVE package that registers formats (``common``, ``storage``, ``qemu``, ``access``, ``cluster``,
``container``, ``firewall``, ``guest_common``, ``ha``, ``manager``, ``network``), each with its own ``FORMATS``
table; this package merges them. Shared helpers live in ``checks.py``.
"""

from __future__ import annotations

import re

from pytest_pvemock.schema.formats import (
    access,
    cluster,
    common,
    container,
    firewall,
    guest_common,
    ha,
    manager,
    network,
    qemu,
    storage,
)
from pytest_pvemock.schema.formats.checks import Checker, FormatError, perl_true, split_list

__all__ = ["FORMATS", "FormatError", "check_format", "is_known_format", "split_list"]

_PACKAGES = (common, storage, qemu, access, cluster, container, firewall, guest_common, ha, manager, network)
#: Every named format PVE registers: name -> checker (``None`` when valid, :class:`FormatError` otherwise).
FORMATS: dict[str, Checker] = {name: checker for package in _PACKAGES for name, checker in package.FORMATS.items()}


def is_known_format(name: str) -> bool:
    """Whether ``name`` (with an optional ``-list``/``-opt`` suffix) is a format PVE registers."""
    base, _suffix = _split_format_name(name)
    return name == "regex" or base in FORMATS


def _split_format_name(name: str) -> tuple[str, str]:
    # '-alist' (a NUL-separated list) is checked like '-list': pve-common before a26f385 (2023-06-06, PVE 8.0)
    # matched m/^(.*?)(?:-a?(list|opt))?$/ in check_format; schemas up to 8.0.0 use 'string-alist'.
    match = re.fullmatch(r"(.*?)(?:-a?(list|opt))?", name)
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
        if perl_true(value):
            checker(value)
    else:
        checker(value)
