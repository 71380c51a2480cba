"""What each storage type of a release takes: pve-storage's plugins as ``third_party/pve-storage`` records them.

A definition in ``storage.cfg`` is checked against its plugin's ``options`` (which properties the type takes, which
are required and which are fixed once created) and ``plugindata`` (the content types it may hold and the default
when none is given, its image formats, the properties kept in ``/etc/pve/priv``); ``@SHARED_STORAGE`` names the
types every node reaches. ``scripts/extract_storage_plugins.py`` reads them from pve-storage, one major at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pytest_pvemock.pve_data import pve_data


@dataclass(frozen=True)
class StorageType:
    """One storage plugin of a release line (``nfs`` on 9.x)."""

    name: str
    #: option -> (optional, fixed): a required option is neither optional nor has a default.
    options: dict[str, tuple[bool, bool]]
    content: frozenset[str]
    default_content: tuple[str, ...]
    formats: tuple[str, ...]
    default_format: str | None
    sensitive: frozenset[str]
    shared: bool

    def required(self) -> list[str]:
        return sorted(option for option, (optional, _) in self.options.items() if not optional)

    def fixed(self, option: str) -> bool:
        return option in self.options and self.options[option][1]


@cache
def storage_types(major: int) -> dict[str, StorageType]:
    """Every storage type of release line ``major`` (7, 8 or 9; a later major reads as the newest known)."""
    majors: dict[str, Any] = pve_data("pve-storage", "plugins.json")["majors"]
    known = sorted(int(key) for key in majors)
    chosen = max([known[0], *(value for value in known if value <= major)])
    return {name: _storage_type(name, definition) for name, definition in majors[str(chosen)].items()}


def _storage_type(name: str, definition: dict[str, Any]) -> StorageType:
    return StorageType(
        name=name,
        options={
            option: (bool(flags.get("optional")), bool(flags.get("fixed")))
            for option, flags in definition["options"].items()
        },
        content=frozenset(definition["content"]),
        default_content=tuple(definition["default-content"]),
        formats=tuple(definition.get("formats", ())),
        default_format=definition.get("default-format"),
        sensitive=frozenset(definition["sensitive"]),
        shared=bool(definition["shared"]),
    )
