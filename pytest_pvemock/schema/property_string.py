"""Parsing ``key=value,...`` property strings the way ``PVE::JSONSchema::parse_property_string`` does.

The key schemas come from a generated ``x-pve-property-string`` object schema: ``properties`` (aliases carry
``x-pve-alias`` and maybe ``x-pve-key-alias``), and ``x-pve-default-key`` for the one key that may be written
without ``key=``. Booleans are read with ``parse_boolean`` (``1/on/yes/true`` and ``0/off/no/false``, any case);
a value that is not a boolean text stays as written, so the type check reports it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["PropertyStringError", "parse_boolean", "parse_property_string"]


class PropertyStringError(ValueError):
    """The string cannot be split into keys (``str()`` is PVE's message, without the newline)."""


def parse_boolean(text: str) -> int | None:
    if re.match(r"^(?:1|on|yes|true)$", text, re.I):
        return 1
    if re.match(r"^(?:0|off|no|false)$", text, re.I):
        return 0
    return None


def _is_boolean(key_schema: dict[str, Any] | None) -> bool:
    return bool(key_schema and key_schema.get("x-pve-type") == "boolean")


def parse_property_string(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Split ``text`` into a dict of keys, resolving aliases and the default key; values stay text."""
    properties: dict[str, Any] = schema.get("properties", {})
    default_key = schema.get("x-pve-default-key")
    result: dict[str, Any] = {}
    used_default = False
    for part in text.split(","):
        if re.match(r"^\s*$", part):
            continue
        match = re.match(r"^([^=]+)=(.+)$", part)
        if match:
            key = match.group(1)
            value: Any = match.group(2)
            if key in result:
                raise PropertyStringError(f"duplicate key in comma-separated list property: {key}")
            key_schema = properties.get(key)
            alias = key_schema.get("x-pve-alias") if key_schema else None
            if alias and key_schema:
                key_alias = key_schema.get("x-pve-key-alias")
                if key_alias:
                    if key_alias in result:
                        raise PropertyStringError(f"key alias '{key_alias}' is already defined")
                    result[key_alias] = key
                key = alias
                key_schema = properties.get(key)
                if key in result:
                    raise PropertyStringError(f"key '{key}' is already defined (via alias)")
            if key_schema is None:
                raise PropertyStringError(f"invalid key in comma-separated list property: {key}")
            if _is_boolean(key_schema):
                parsed = parse_boolean(value)
                value = value if parsed is None else parsed
            result[key] = value
        elif "=" not in part:
            if used_default:
                raise PropertyStringError(f"duplicate key in comma-separated list property: {default_key}")
            if not default_key:
                raise PropertyStringError("value without key, but schema does not define a default key")
            used_default = True
            if result.get(default_key) not in (None, "", "0", 0):
                raise PropertyStringError(f"duplicate key in comma-separated list property: {default_key}")
            value = part
            if _is_boolean(properties.get(default_key)):
                parsed = parse_boolean(part)
                value = part if parsed is None else parsed
            result[default_key] = value
        else:
            raise PropertyStringError("missing key in comma-separated list property")
    return result
