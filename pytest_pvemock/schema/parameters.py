"""PVE's parameter verifier (``check_prop``/``check_object`` in pve-common's PVE/JSONSchema.pm), over our schemas.

Given the generated JSON Schema of a method's parameters and the raw values of a request (text from a query
string or form body, or JSON values), it reports what PVE would report, in PVE's words and in PVE's order of
checks (type, format, pattern, maxLength, minLength, maximum, minimum, enum; one message per key), and returns
the values converted to Python: ``integer`` -> ``int``, ``number`` -> ``float``, ``boolean`` -> ``0``/``1``.

Messages keep PVE's exact text, including the trailing newline of messages that come from a ``die`` (format
errors), because that is what the JSON body of a real 400 answer carries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pytest_pvemock.errors import ParameterError
from pytest_pvemock.schema.convert import INTEGER_TEXT, NUMBER_TEXT
from pytest_pvemock.schema.formats import FormatError, check_format, is_known_format
from pytest_pvemock.schema.named_property_formats import VALIDATORS
from pytest_pvemock.schema.patterns import compile_pattern
from pytest_pvemock.schema.property_string import PropertyStringError, parse_property_string

__all__ = ["check_parameters", "perl_text", "property_string_errors"]

_MISSING = object()


def perl_text(value: Any) -> str | None:
    """The text Perl would see for a JSON scalar, or ``None`` for a reference (object, array, boolean)."""
    if isinstance(value, (bool, dict, list, tuple)):
        return None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    return str(value)


def _perl_ref_name(value: Any) -> str:
    if isinstance(value, bool):
        return "JSON::PP::Boolean"
    return "HASH" if isinstance(value, dict) else "ARRAY"


def _number_text(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


class Verifier:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add_error(self, path: str, message: str) -> None:
        path = path or "_root"
        # PVE joins repeated messages with a single-quoted '\n', i.e. a backslash and an n.
        self.errors[path] = f"{self.errors[path]}\\n{message}" if path in self.errors else message

    def check_object(self, path: str, schema: Mapping[str, Any], value: Any) -> Any:
        if not isinstance(value, dict):
            self.add_error(path, "an object is required")
            return value
        value = dict(value)
        properties: Mapping[str, Any] = schema.get("properties", {})
        for key in list(value):
            alias = properties.get(key, {}).get("x-pve-alias")
            if alias is None:
                continue
            if value.get(alias) is not None:
                self.add_error(_join(path, key), f"cannot set both '{key}' and its alias target '{alias}'")
            else:
                value[alias] = value.pop(key)
        required = set(schema.get("required", ()))
        instance_required, alternatives = self._instance_rules(schema, value)
        result: dict[str, Any] = {}
        for key, sub in properties.items():
            if "x-pve-alias" in sub:
                continue
            sub = alternatives.get(key, sub)
            checked = self.check_prop(
                value.get(key), sub, _join(path, key), key in required or key in instance_required
            )
            if key in value:
                result[key] = checked
        additional = schema.get("additionalProperties", True)
        dependent = schema.get("dependentRequired", {})
        for key in value:
            key_path = _join(path, key)
            if key in properties:
                for other in dependent.get(key, ()):
                    if value.get(other) is None:
                        self.add_error(_join(path, other), f"missing property required by '{key_path}'")
                continue
            sub = _pattern_property(schema, key)
            if sub is not None:
                result[key] = self.check_prop(value[key], sub, key_path, False)
            elif additional is False:
                self.add_error(
                    key_path, "property is not defined in schema and the schema does not allow additional properties"
                )
            elif isinstance(additional, dict):
                result[key] = self.check_prop(value[key], additional, key_path, False)
            else:
                result[key] = value[key]
        return result

    @staticmethod
    def _instance_rules(schema: Mapping[str, Any], value: dict[str, Any]) -> tuple[set[str], dict[str, Any]]:
        """The keys required for, and the alternative schemas chosen by, the object's type property."""
        required: set[str] = set()
        alternatives: dict[str, Any] = {}
        for condition in schema.get("allOf", ()):
            condition_if = condition.get("if", {})
            for type_property, rule in condition_if.get("properties", {}).items():
                if value.get(type_property) in rule.get("enum", ()):
                    then = condition.get("then", {})
                    required.update(then.get("required", ()))
                    alternatives.update(then.get("properties", {}))
        return required, alternatives

    def check_prop(self, value: Any, schema: Mapping[str, Any], path: str, required: bool) -> Any:
        if value is None:
            if required and schema.get("type") != "null":
                self.add_error(path, "property is missing and it is not optional")
            return None
        if "anyOf" in schema and "type" not in schema:
            return self._check_any_of(value, schema, path)
        converted = self._check_type(value, schema, path)
        if converted is _MISSING:
            return value
        if isinstance(converted, list):
            items = schema.get("items")
            if items is None:
                return converted
            return [self.check_prop(item, items, f"{path}[{index}]", True) for index, item in enumerate(converted)]
        if isinstance(converted, dict):
            if "properties" in schema or "additionalProperties" in schema:
                return self.check_object(path, schema, converted)
            return converted
        text = perl_text(value)
        if text is None:  # a JSON boolean is a reference in Perl: no string checks apply to it
            return converted
        if not self._check_scalar(text, schema, path):
            return value
        return converted

    def _check_any_of(self, value: Any, schema: Mapping[str, Any], path: str) -> Any:
        alternatives = schema["anyOf"]
        names = []
        for alternative in alternatives:
            trial = Verifier()
            converted = trial.check_prop(value, alternative, path, True)
            if not trial.errors:
                return converted
            names.append(alternative.get("x-pve-type") or alternative.get("type", ""))
        self.add_error(path, f"type check ('{'|'.join(str(n) for n in names)}') failed")
        return value

    def _check_type(self, value: Any, schema: Mapping[str, Any], path: str) -> Any:
        pve_type = schema.get("x-pve-type") or schema.get("type")
        if pve_type is None:
            return value
        if pve_type in ("array", "object"):
            ok = isinstance(value, list if pve_type == "array" else dict)
            if not ok:
                self.add_error(path, f"type check ('{pve_type}') failed")
                return _MISSING
            return value
        if pve_type == "null":
            self.add_error(path, "type check ('null') failed - value is not null")
            return _MISSING
        if pve_type == "boolean" and isinstance(value, bool):
            return int(value)
        text = perl_text(value)
        if text is None:
            self.add_error(path, f"type check ('{pve_type}') failed - got {_perl_ref_name(value)}")
            return _MISSING
        if pve_type == "string":
            return text
        if pve_type == "boolean":
            if text in ("0", "1"):
                return int(text)
        elif pve_type == "integer":
            if re.match(INTEGER_TEXT, text):
                return int(text)
        elif pve_type == "number":
            if re.match(NUMBER_TEXT, text):
                return float(text)
        else:
            return text
        self.add_error(path, f"type check ('{pve_type}') failed - got '{text}'")
        return _MISSING

    def _check_scalar(self, text: str, schema: Mapping[str, Any], path: str) -> bool:
        property_string = schema.get("x-pve-property-string")
        if property_string is not None:
            message = property_string_errors(text, property_string, path)
            if message is not None:
                self.add_error(path, f"invalid format - {message}")
                return False
        elif "format" in schema and is_known_format(schema["format"]):
            try:
                check_format(schema["format"], text)
            except FormatError as error:
                self.add_error(path, f"invalid format - {error}\n")
                return False
        for pattern in _own_patterns(schema):
            if not compile_pattern(pattern).search(text):
                self.add_error(path, "value does not match the regex pattern")
                return False
        if "maxLength" in schema and len(text) > schema["maxLength"]:
            self.add_error(path, f"value may only be {schema['maxLength']} characters long")
            return False
        if "minLength" in schema and len(text) < schema["minLength"]:
            self.add_error(path, f"value must be at least {schema['minLength']} characters long")
            return False
        if re.match(NUMBER_TEXT, text):
            number = float(text)
            if "maximum" in schema and number > schema["maximum"]:
                self.add_error(path, f"value must have a maximum value of {_number_text(schema['maximum'])}")
                return False
            if "minimum" in schema and number < schema["minimum"]:
                self.add_error(path, f"value must have a minimum value of {_number_text(schema['minimum'])}")
                return False
        if "enum" in schema and schema.get("x-pve-type") != "boolean":
            allowed = _enum_texts(schema)
            if text not in allowed:
                self.add_error(path, f"value '{text}' does not have a value in the enumeration '{', '.join(allowed)}'")
                return False
        return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _pattern_property(schema: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    patterns: Mapping[str, Mapping[str, Any]] = schema.get("patternProperties", {})
    for pattern, sub in patterns.items():
        if compile_pattern(pattern).search(key):
            return sub
    return None


def _own_patterns(schema: Mapping[str, Any]) -> list[str]:
    """The schema's own ``pattern``s (the integer/number text patterns are part of the type check)."""
    patterns = [schema["pattern"]] if "pattern" in schema else []
    patterns += [part["pattern"] for part in schema.get("allOf", ()) if "pattern" in part]
    return [p for p in patterns if p not in (INTEGER_TEXT, NUMBER_TEXT)]


def _enum_texts(schema: Mapping[str, Any]) -> list[str]:
    values = schema["enum"]
    if schema.get("x-pve-type") in ("integer", "number"):
        return [v for v in values if isinstance(v, str)]
    return [perl_text(v) or "" for v in values]


def property_string_errors(text: str, schema: Mapping[str, Any], path: str) -> str | None:
    """PVE's ``invalid format - ...`` tail for a property string, or ``None`` when it is valid."""
    try:
        parsed = parse_property_string(text, dict(schema))
    except PropertyStringError as error:
        return f"{error}\n"
    verifier = Verifier()
    checked = verifier.check_object(path, schema, parsed)
    if not verifier.errors:
        validator = VALIDATORS.get(schema.get("x-pve-validator", ""))
        problem = validator(checked) if validator else None
        return None if problem is None else f"{problem}\n"
    details = "".join(f"{key}: {message}\n" for key, message in sorted(verifier.errors.items()))
    return f"format error\n{details}"


def _legacy_formats(schema: Mapping[str, Any], raw: Mapping[str, object]) -> dict[str, object]:
    """What form-encoding cannot say, rewritten before the checks: a single value for an ``array`` parameter becomes
    a one-item list, a repeated key for a ``*-list`` string is joined with commas (pve-common src/PVE/RESTHandler.pm
    ``normalize_legacy_param_formats``, lines 485-508 at f665029e; since pve-common 07f136d, PVE 8.0)."""
    params = dict(raw)
    properties = schema.get("properties") or {}
    for key, value in raw.items():
        prop = properties.get(key)
        if not isinstance(prop, Mapping) or value in (None, "", "0", 0):
            continue
        if isinstance(value, list) and prop.get("type") == "string" and str(prop.get("format", "")).endswith("-list"):
            params[key] = ",".join(str(item) for item in value)
        elif not isinstance(value, list) and prop.get("type") == "array":
            params[key] = [value]
    return params


def check_parameters(schema: Mapping[str, Any], raw: Mapping[str, object]) -> dict[str, object]:
    """Verify ``raw`` against a method's parameter schema; raise :class:`ParameterError` like PVE, else convert."""
    verifier = Verifier()
    result: dict[str, object] = verifier.check_object("", schema, _legacy_formats(schema, raw))
    if verifier.errors:
        raise ParameterError(dict(sorted(verifier.errors.items())))
    return result
