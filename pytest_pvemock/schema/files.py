"""Where the generated schemas live and how one file is read (lazily, cached).

The wheel ships ``schemas/`` as ``pytest_pvemock/_schemas`` (pyproject's force-include); an editable install or a
source checkout reads the repository's top-level ``schemas/``. The first that has the version wins.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = ["SUPPORTED_VERSIONS", "load_json", "schema_dir", "version_dir_name"]

SUPPORTED_VERSIONS = ("9.1", "8.4")
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def version_dir_name(pve_version: str) -> str:
    return f"pve-{pve_version}"


def _candidates() -> list[Path]:
    return [_PACKAGE_DIR / "_schemas", _PACKAGE_DIR.parent / "schemas"]


@cache
def schema_dir(pve_version: str) -> Path:
    """The directory holding ``index.json`` for ``pve_version``; ``LookupError`` names what is supported."""
    for base in _candidates():
        directory = base / version_dir_name(pve_version)
        if (directory / "index.json").is_file():
            return directory
    supported = ", ".join(SUPPORTED_VERSIONS)
    raise LookupError(f"no schemas for PVE {pve_version!r} (supported: {supported}); looked in {_candidates()}")


@lru_cache(maxsize=2048)
def load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)
