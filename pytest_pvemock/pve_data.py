"""Data taken from Proxmox's sources or real captures, kept under ``third_party/<folder>`` with a SOURCE.md each.

The wheel carries each file as ``pytest_pvemock/_<folder>/<file>`` (``pyproject.toml``, force-include); a checkout
reads it from ``third_party/``. Files are read once, on first use.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def pve_data(folder: str, filename: str) -> Any:
    """The JSON document ``third_party/<folder>/<filename>`` (``folder`` as named there: ``pve-services``)."""
    candidates = (_PACKAGE_DIR / f"_{folder.replace('-', '_')}", _PACKAGE_DIR.parent / "third_party" / folder)
    for directory in candidates:
        path = directory / filename
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"{filename} not found in " + ", ".join(str(directory) for directory in candidates))
