"""Property-string formats that the PVE schema names instead of inlining (``format => 'pve-qm-ide'``).

The apidoc dump keeps only the name (and a ``typetext``); PVE registers the key schema elsewhere with
``register_format(NAME, { key => {...}, ... })``. Most of them are also used inline somewhere in the same dump
(``ide[n]`` inlines the hash registered as ``pve-qm-ide``), so the build takes the key schema from there:
``INLINE_TWINS`` says where. The rest are transcribed from their owning package into ``TRANSCRIBED``
(PVE schema syntax, as in the dump).
"""

from __future__ import annotations

from typing import Any

__all__ = ["INLINE_TWINS", "TRANSCRIBED", "named_property_formats"]

# name -> (path, method, parameter) whose inline hash format is the one registered under that name
INLINE_TWINS: dict[str, tuple[str, str, str]] = {}

TRANSCRIBED: dict[str, dict[str, Any]] = {}


def _find_parameter(tree: list[dict[str, Any]], path: str, method: str, name: str) -> dict[str, Any] | None:
    stack = list(tree)
    while stack:
        node = stack.pop()
        if node.get("path") == path:
            info = (node.get("info") or {}).get(method) or {}
            return ((info.get("parameters") or {}).get("properties") or {}).get(name)
        stack.extend(node.get("children") or [])
    return None


def named_property_formats(tree: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """name -> key schemas (PVE syntax) for every named property-string format this tree can resolve."""
    found: dict[str, dict[str, Any]] = dict(TRANSCRIBED)
    for name, (path, method, parameter) in INLINE_TWINS.items():
        schema = _find_parameter(tree, path, method, parameter)
        if schema is not None and isinstance(schema.get("format"), dict):
            found[name] = schema["format"]
    return found
