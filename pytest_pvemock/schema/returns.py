"""Validating answers: a draft 2020-12 validator extended with PVE's lexical rules and keywords.

What the extension adds to the standard vocabulary (the generated schemas only use these on top of it):

- ``format``: PVE's named formats (``formats.py``), replacing the standard meaning of ``email``/``ipv4``/``ipv6``
  and adding ``pve-node``, ``pve-vmid``, ... and their ``-list``/``-opt`` variants. Always asserted.
- ``minimum``/``maximum``: also applied to numeric text, as PVE compares ``"106"`` numerically.
- ``x-pve-property-string``: the value (a string) is parsed like ``parse_property_string`` and the resulting
  object validated against the keyword's object schema.
- ``x-pve-type``, ``x-pve-alias``, ``x-pve-key-alias``, ``x-pve-default-key``, ``x-pve-format``,
  ``x-pve-instance-types``, ``x-pve-format-description``: annotations used by the keywords above and by the
  parameter verifier; they assert nothing on their own.

This validator is the reference and writes the reports; ``compiled_check.py`` compiles the same rules into a fast
yes/no check that runs first (``Endpoint.validate_returns``), so a valid answer never reaches ``jsonschema``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import FormatError as JsonSchemaFormatError
from jsonschema.exceptions import ValidationError

from pytest_pvemock.schema.convert import NUMBER_TEXT
from pytest_pvemock.schema.formats import FormatError, check_format, is_known_format
from pytest_pvemock.schema.named_property_formats import VALIDATORS
from pytest_pvemock.schema.parameters import perl_text
from pytest_pvemock.schema.patterns import compile_pattern
from pytest_pvemock.schema.property_string import PropertyStringError, parse_property_string

__all__ = [
    "PVEFormatChecker",
    "PVEValidator",
    "compile_validator",
    "describe_errors",
    "iter_errors",
    "numeric_value",
]


class PVEFormatChecker(FormatChecker):
    """Checks every PVE format name (including ``-list``/``-opt``); unknown names pass, as in JSON Schema."""

    def __init__(self) -> None:
        super().__init__(formats=())

    def check(self, instance: object, format: str) -> None:
        if not isinstance(instance, str) or not is_known_format(format):
            return
        try:
            check_format(format, instance)
        except FormatError as error:
            raise JsonSchemaFormatError(f"{instance!r} is not a valid {format!r}: {error}", cause=error) from None

    def conforms(self, instance: object, format: str) -> bool:
        try:
            self.check(instance, format)
        except JsonSchemaFormatError:
            return False
        return True


def numeric_value(instance: object) -> float | None:
    """The number ``minimum``/``maximum`` compare: a JSON number or numeric text as a float; ``None`` otherwise."""
    if isinstance(instance, bool):
        return None
    if isinstance(instance, (int, float)):
        return float(instance)
    if isinstance(instance, str) and re.match(NUMBER_TEXT, instance):
        return float(instance)
    return None


def _minimum(validator: Any, minimum: float, instance: object, schema: dict[str, Any]) -> Iterator[ValidationError]:
    value = numeric_value(instance)
    if value is not None and value < minimum:
        yield ValidationError(f"{instance!r} is less than the minimum of {minimum!r}")


def _maximum(validator: Any, maximum: float, instance: object, schema: dict[str, Any]) -> Iterator[ValidationError]:
    value = numeric_value(instance)
    if value is not None and value > maximum:
        yield ValidationError(f"{instance!r} is greater than the maximum of {maximum!r}")


def _pattern(validator: Any, pattern: str, instance: object, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """Standard ``pattern``, matched in linear time (``patterns.compile_pattern``) instead of by ``re.search``."""
    if isinstance(instance, str) and not compile_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _property_string(
    validator: Any, key_schema: dict[str, Any], instance: object, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    text = perl_text(instance)
    if text is None or isinstance(instance, (int, float)):
        return
    try:
        parsed = parse_property_string(text, key_schema)
    except PropertyStringError as error:
        yield ValidationError(str(error))
        return
    failed = False
    for found in validator.descend(parsed, key_schema):
        failed = True
        yield found
    check = VALIDATORS.get(key_schema.get("x-pve-validator", ""))
    problem = None if failed or check is None else check(parsed)
    if problem:
        yield ValidationError(problem)


def _properties(
    validator: Any, properties: dict[str, Any], instance: object, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """Standard ``properties``, except that ``null`` counts as absent (Perl's undef), as in PVE's check_object."""
    if not isinstance(instance, dict):
        return
    required = schema.get("required", ())
    for key, subschema in properties.items():
        if key not in instance:
            continue
        if instance[key] is None and subschema.get("type") != "null":
            if key in required:
                yield ValidationError(f"{key!r} is a required property", validator="required", path=[key])
            continue
        yield from validator.descend(instance[key], subschema, path=key, schema_path=key)


PVEValidator = validators.extend(  # type: ignore[no-untyped-call]  # types-jsonschema leaves extend unannotated
    Draft202012Validator,
    {
        "minimum": _minimum,
        "maximum": _maximum,
        "pattern": _pattern,
        "properties": _properties,
        "x-pve-property-string": _property_string,
    },
)

_FORMAT_CHECKER = PVEFormatChecker()


def compile_validator(schema: dict[str, Any]) -> Any:
    """A validator for one generated schema (no meta-schema check: the build produced it)."""
    return PVEValidator(schema, format_checker=_FORMAT_CHECKER)


def iter_errors(validator: Any, instance: object) -> list[ValidationError]:
    def order(error: ValidationError) -> tuple[list[tuple[int, int | str]], str]:
        path: list[tuple[int, int | str]] = [(0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path]
        return path, error.message

    return sorted(validator.iter_errors(instance), key=order)


def _pointer(parts: Sequence[object]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts) or "/"


def describe_errors(validator: Any, instance: object) -> list[str]:
    """One line per problem: ``<JSON pointer>: expected <what>; actual <value>``."""
    lines = []
    for error in iter_errors(validator, instance):
        path = list(error.absolute_path)
        if error.validator == "required":
            missing = re.match(r"^'(.*)' is a required property$", error.message)
            key = missing.group(1) if missing else "?"
            lines.append(f"{_pointer([*path, key])}: expected a value (required key); actual: missing")
        else:
            lines.append(f"{_pointer(path)}: expected {_expected(error)}; actual {_actual(error.instance)}")
    return lines


def _type_text(schema: dict[str, Any]) -> str | None:
    pve_type = schema.get("x-pve-type")
    if pve_type == "boolean":
        return "boolean (0 or 1, JSON true/false, or the text '0'/'1')"
    if pve_type in ("integer", "number"):
        return f"{pve_type} (a JSON number or its decimal text)"
    return None


def _expected(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    keyword = error.validator
    type_text = _type_text(schema)
    if type_text and keyword in ("type", "enum", "pattern"):
        return type_text
    if keyword == "format":
        detail = f" ({error.cause})" if error.cause else ""
        return f"format {error.validator_value!r}{detail}"
    if keyword == "x-pve-property-string":
        return f"a valid property string ({error.message})"
    if keyword == "additionalProperties":
        return f"no other keys ({error.message})"
    if keyword in ("anyOf", "oneOf") and error.context:
        options = sorted({_expected(sub) for sub in error.context})
        return "one of: " + " | ".join(options)
    if keyword == "type":
        return f"type {error.validator_value!r}"
    if keyword == "enum":
        return f"one of {error.validator_value!r}"
    if keyword == "pattern":
        return f"text matching {error.validator_value!r}"
    if keyword in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
        return f"{keyword} {error.validator_value!r}"
    return error.message


def _actual(instance: object) -> str:
    text = repr(instance)
    return text if len(text) <= 80 else text[:77] + "..."
