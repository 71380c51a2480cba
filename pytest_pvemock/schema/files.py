"""Where PVE's API schemas live and how one release's schema is read (lazily, once per process).

Proxmox's own schema of every release (the ``apidata.js`` of pve-docs) is stored once, deduplicated, in
``third_party/pve-api/``: ``INDEX.json`` maps each release to its schema file (releases that did not change the API
share one), and ``pve-api-releases.json.xz`` holds every distinct schema as a tree whose method bodies are
referenced by hash, each distinct body stored once (see third_party/pve-api/SOURCE.md). The wheel ships both as
``pytest_pvemock/_pve_api/`` (pyproject's force-include); a source checkout reads ``third_party/pve-api/``.

Nothing here is read at import time: the index on the first version lookup, the pack on the first schema use.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "PACK_FILE_NAME",
    "apidoc_json",
    "apidoc_tree",
    "body_hash",
    "data_dir",
    "dump_compact",
    "load_json",
    "load_pack",
    "release_index",
]

PACK_FILE_NAME = "pve-api-releases.json.xz"
INDEX_FILE_NAME = "INDEX.json"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _candidates() -> list[Path]:
    return [_PACKAGE_DIR / "_pve_api", _PACKAGE_DIR.parent / "third_party" / "pve-api"]


@cache
def data_dir() -> Path:
    """The directory holding ``INDEX.json`` and the schema pack (the wheel's copy first, then the checkout's)."""
    for directory in _candidates():
        if (directory / INDEX_FILE_NAME).is_file() and (directory / PACK_FILE_NAME).is_file():
            return directory
    raise LookupError(f"no PVE API schemas found; looked in {', '.join(str(p) for p in _candidates())}")


@cache
def release_index() -> dict[str, Any]:
    """``INDEX.json``: ``{"releases": [{"version", "commit", "date", "file", "methods", ...}, ...]}``."""
    with (data_dir() / INDEX_FILE_NAME).open(encoding="utf-8") as handle:
        index: dict[str, Any] = json.load(handle)
    return index


@cache
def load_pack() -> dict[str, Any]:
    """The decompressed schema pack: ``{"bodies": {hash: method info}, "schemas": {file: {"sha256", "tree"}}}``."""
    import lzma

    pack: dict[str, Any] = json.loads(lzma.decompress((data_dir() / PACK_FILE_NAME).read_bytes()))
    return pack


def dump_compact(data: Any) -> str:
    """Compact JSON with sorted keys: the form the pack stores and hashes (``apidata.js`` re-serialised)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_hash(info: Any) -> str:
    """The key of one method body in the pack: the first 16 hex digits of the SHA-256 of its compact JSON."""
    return hashlib.sha256(dump_compact(info).encode("utf-8")).hexdigest()[:16]


def _expand(nodes: list[dict[str, Any]], bodies: dict[str, Any]) -> list[dict[str, Any]]:
    expanded = []
    for node in nodes:
        full = dict(node)
        if "info" in node:
            full["info"] = {method: bodies[key] for method, key in node["info"].items()}
        if "children" in node:
            full["children"] = _expand(node["children"], bodies)
        expanded.append(full)
    return expanded


@lru_cache(maxsize=8)
def apidoc_tree(file_name: str) -> list[dict[str, Any]]:
    """The full ``apidata.js`` tree of one stored schema file (``pve-apidoc-8.2.5.json.gz`` in INDEX.json)."""
    pack = load_pack()
    try:
        stored = pack["schemas"][file_name]
    except KeyError:
        raise LookupError(f"schema file {file_name!r} is not in {PACK_FILE_NAME}") from None
    tree: list[dict[str, Any]] = _expand(stored["tree"], pack["bodies"])
    return tree


def apidoc_json(file_name: str) -> str:
    """The schema file's compact JSON, byte for byte as pve-docs' ``apidata.js`` re-serialised (SOURCE.md)."""
    return dump_compact(apidoc_tree(file_name))


@lru_cache(maxsize=2048)
def load_json(path: Path) -> Any:
    """A JSON file, read once (kept for callers that read generated schema files from a directory)."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)
