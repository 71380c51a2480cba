"""What changed in the API between two PVE releases, read from Proxmox's own schema of each (``pvemock schemas diff``).

Compared per ``METHOD /template``: methods added and removed; for a method both have, its parameters (added,
removed, and for one both have: ``type``, ``format``, ``enum``, ``default`` changes, newly required or no longer
required) and its return value (properties added or removed, and ``type``/``format`` changes, at any depth: ``a/b``
descends into an object, ``[]`` into an array's items). Property strings (``format`` given as a hash) compare as
the keys they hold (``memory{current}``). What is compared is PVE's text (``apidata.js``), not the converted JSON
Schemas, so a change reads as a client maintainer knows it from PVE's documentation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pytest_pvemock.schema.files import apidoc_tree
from pytest_pvemock.schema.registry import Release, resolve_release

__all__ = ["MethodChange", "ReleaseDiff", "diff_releases", "format_text"]

_COMPARED = ("type", "format", "enum", "default")


@dataclass
class MethodChange:
    """How one method both releases have changed."""

    parameters_added: list[str] = field(default_factory=list)
    parameters_removed: list[str] = field(default_factory=list)
    parameters_changed: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # name -> what: [old, new]
    newly_required: list[str] = field(default_factory=list)
    no_longer_required: list[str] = field(default_factory=list)
    returns_added: list[str] = field(default_factory=list)
    returns_removed: list[str] = field(default_factory=list)
    returns_changed: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(bool(value) for value in self.__dict__.values())


@dataclass
class ReleaseDiff:
    """The API changes from release ``old`` to release ``new``."""

    old: str
    new: str
    added: list[str] = field(default_factory=list)  # "METHOD /template"
    removed: list[str] = field(default_factory=list)
    changed: dict[str, MethodChange] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A plain JSON document (``--format json``)."""
        return {
            "from": self.old,
            "to": self.new,
            "methods_added": self.added,
            "methods_removed": self.removed,
            "methods_changed": {
                name: {
                    "parameters": {
                        "added": change.parameters_added,
                        "removed": change.parameters_removed,
                        "changed": change.parameters_changed,
                        "newly_required": change.newly_required,
                        "no_longer_required": change.no_longer_required,
                    },
                    "returns": {
                        "added": change.returns_added,
                        "removed": change.returns_removed,
                        "changed": change.returns_changed,
                    },
                }
                for name, change in self.changed.items()
            },
        }


def _methods(release: Release) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    stack = list(apidoc_tree(release.file))
    while stack:
        node = stack.pop()
        for method, info in (node.get("info") or {}).items():
            found[f"{method} {node['path']}"] = info
        stack.extend(node.get("children") or [])
    return found


def _is_optional(schema: dict[str, Any]) -> bool:
    return str(schema.get("optional", 0)) not in ("0", "") or "default" in schema


def _properties(schema: Any, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every named place in a schema (object properties, array items, property-string keys), with its schema."""
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("format"), dict):  # a property string: its keys
        for key, sub in sorted(schema["format"].items()):
            if isinstance(sub, dict):
                yield f"{prefix}{{{key}}}", sub
    for name, sub in sorted((schema.get("properties") or {}).items()):
        if isinstance(sub, dict):
            place = f"{prefix}/{name}" if prefix else name
            yield place, sub
            yield from _properties(sub, place)
    items = schema.get("items")
    if isinstance(items, dict):
        place = f"{prefix}/[]" if prefix else "[]"
        yield place, items
        yield from _properties(items, place)


def _shape(schema: dict[str, Any]) -> dict[str, Any]:
    """What is compared of one place: type, format (a hash format compares by its keys, elsewhere), enum, default."""
    shape: dict[str, Any] = {}
    for key in _COMPARED:
        if key not in schema:
            continue
        value = schema[key]
        if key == "format" and isinstance(value, dict):
            value = "(property string)"
        if key == "enum" and isinstance(value, list):
            value = sorted(str(item) for item in value)
        if key == "default":
            value = str(value)
        shape[key] = value
    return shape


def _changes(old: dict[str, Any], new: dict[str, Any], keys: tuple[str, ...]) -> dict[str, list[Any]]:
    old_shape, new_shape = _shape(old), _shape(new)
    return {key: [old_shape.get(key), new_shape.get(key)] for key in keys if old_shape.get(key) != new_shape.get(key)}


def _method_change(old: dict[str, Any], new: dict[str, Any]) -> MethodChange:
    change = MethodChange()
    old_params = dict(_properties(old.get("parameters") or {}))
    new_params = dict(_properties(new.get("parameters") or {}))
    change.parameters_added = sorted(set(new_params) - set(old_params))
    change.parameters_removed = sorted(set(old_params) - set(new_params))
    for name in sorted(set(old_params) & set(new_params)):
        differs = _changes(old_params[name], new_params[name], _COMPARED)
        if differs:
            change.parameters_changed[name] = differs
        if "/" not in name and "{" not in name:
            was, now = _is_optional(old_params[name]), _is_optional(new_params[name])
            if was and not now:
                change.newly_required.append(name)
            elif now and not was:
                change.no_longer_required.append(name)
    old_returns = {"": old.get("returns") or {}, **dict(_properties(old.get("returns") or {}))}
    new_returns = {"": new.get("returns") or {}, **dict(_properties(new.get("returns") or {}))}
    change.returns_added = sorted(set(new_returns) - set(old_returns))
    change.returns_removed = sorted(set(old_returns) - set(new_returns))
    for place in sorted(set(old_returns) & set(new_returns)):
        differs = _changes(old_returns[place], new_returns[place], ("type", "format"))
        if differs:
            change.returns_changed[place or "(the answer)"] = differs
    return change


def diff_releases(old: str, new: str) -> ReleaseDiff:
    """The API changes from ``old`` to ``new`` (each a release, minor, major or ``latest``: ``resolve_release``)."""
    old_release, new_release = resolve_release(old), resolve_release(new)
    result = ReleaseDiff(old_release.version, new_release.version)
    old_methods, new_methods = _methods(old_release), _methods(new_release)
    key = _sort_key
    result.added = sorted(set(new_methods) - set(old_methods), key=key)
    result.removed = sorted(set(old_methods) - set(new_methods), key=key)
    for name in sorted(set(old_methods) & set(new_methods), key=key):
        if old_methods[name] == new_methods[name]:
            continue
        change = _method_change(old_methods[name], new_methods[name])
        if change:
            result.changed[name] = change
    return result


def _sort_key(name: str) -> tuple[str, str]:
    method, _, path = name.partition(" ")
    return path, method


def _value(value: Any) -> str:
    return "(none)" if value is None else value if isinstance(value, str) else json.dumps(value)


def format_text(diff: ReleaseDiff) -> str:
    """The diff as a client maintainer reads it, one line per change."""
    lines = [
        f"PVE {diff.old} -> {diff.new}: {len(diff.added)} method(s) added, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed"
    ]
    if diff.added:
        lines += ["", "Methods added:", *(f"  + {name}" for name in diff.added)]
    if diff.removed:
        lines += ["", "Methods removed (501 on the new release):", *(f"  - {name}" for name in diff.removed)]
    if diff.changed:
        lines += ["", "Methods changed:"]
    for name, change in diff.changed.items():
        lines.append(f"  {name}")
        lines += [f"    parameter {p}: added" for p in change.parameters_added]
        lines += [f"    parameter {p}: removed" for p in change.parameters_removed]
        for parameter, differs in change.parameters_changed.items():
            text = "; ".join(f"{what} {_value(old)} -> {_value(new)}" for what, (old, new) in differs.items())
            lines.append(f"    parameter {parameter}: {text}")
        lines += [f"    parameter {p}: now required" for p in change.newly_required]
        lines += [f"    parameter {p}: now optional" for p in change.no_longer_required]
        lines += [f"    returns {p}: added" for p in change.returns_added]
        lines += [f"    returns {p}: removed" for p in change.returns_removed]
        for place, differs in change.returns_changed.items():
            text = "; ".join(f"{what} {_value(old)} -> {_value(new)}" for what, (old, new) in differs.items())
            lines.append(f"    returns {place}: {text}")
    return "\n".join(lines)
