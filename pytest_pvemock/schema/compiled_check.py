"""A fast yes/no check of an answer against a returns schema, compiled once (the idea of fastjsonschema).

``jsonschema`` walks a schema keyword by keyword for every value and builds error objects lazily; for a
``/cluster/resources`` answer of 1000 guests that is ~150 ms. Here each schema is compiled once into small
closures specialised to the keywords our generated schemas use, and to the exact Python type of the value:
for every schema we precompute, for ``str``, ``int``, ``float``, ``bool``, ``None``, ``dict`` and ``list``, the
answer (always valid, never valid) or the one closure that decides, so that checking an integer against
``{"type": ["integer", "string"], "pattern": ..., "x-pve-type": "integer"}`` is one dictionary lookup.

The check must accept exactly what :data:`~pytest_pvemock.schema.returns.PVEValidator` accepts (tests/
test_schema_compiled_check.py compares the two on captures, the fake's answers and random and mutated bodies):

- every keyword follows the validator's own function (``jsonschema``'s for the standard ones, ``returns.py``'s
  for ``minimum``/``maximum``/``properties``/``x-pve-property-string``), type by type;
- a value of any other type (a subclass, a tuple, a ``Decimal``) is checked by the validator itself, on the
  subschema at hand (our schemas have no ``$ref``, so a subschema means the same on its own);
- a schema using a keyword the validator knows but this module does not is not compiled at all
  (:func:`compile_checker` returns ``None``), and the caller uses the validator. Unknown keywords are
  annotations for both.

Formats and property strings are pure functions of their text, so the texts found valid are remembered (a
bounded set per schema): node names, storage ids and guest configs repeat from one answer to the next.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from pytest_pvemock.schema.formats import FormatError, check_format, is_known_format
from pytest_pvemock.schema.patterns import compile_pattern
from pytest_pvemock.schema.returns import PVEValidator, compile_validator, numeric_value

__all__ = ["Checker", "accepts", "compile_checker"]

Checker = Callable[[object], bool]
Verdict = bool | Checker | None  # for one type: always valid, never valid, check the value, or ask the validator
# A "table" maps each exact type of _TYPES to what a schema (or one keyword) says about values of that type:
# True (always valid), False (never valid) or a Checker that decides.

_TYPES: tuple[type, ...] = (str, int, float, bool, type(None), dict, list)
_SCALARS = (str, int, float, bool, type(None))
_REMEMBERED = 4096  # valid format and property-string texts kept per schema

# The keywords handled here; "then"/"else" belong to "if". Any other keyword of the validator's vocabulary
# makes a schema uncompilable.
_HANDLED = {
    "type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "format", "properties",
    "required", "additionalProperties", "patternProperties", "dependentRequired", "items", "allOf", "anyOf", "if",
    "x-pve-property-string",
}  # fmt: skip


class Unsupported(Exception):
    """The schema uses something this module does not reproduce exactly."""


class _Range:
    """returns.py's minimum/maximum for a JSON number (``int`` or ``float``): ``float(value)`` within bounds.

    Callable like any check; the object and array loops read the bounds themselves, saving a call per number.
    Missing bounds are infinite (no number, not even NaN, compares beyond them, as with no bound at all).
    """

    __slots__ = ("high", "low")

    def __init__(self, low: float = -math.inf, high: float = math.inf) -> None:
        self.low = low
        self.high = high

    def __call__(self, value: Any) -> bool:
        number = float(value)
        return not (number < self.low or number > self.high)


class _Node:
    """One compiled schema: a verdict per exact type, and the validator itself for any other type."""

    __slots__ = ("_generic", "schema", "table")

    def __init__(self, table: dict[type, Any], schema: Any) -> None:
        self.table = table
        self.schema = schema
        self._generic: Checker | None = None

    def generic(self, value: object) -> bool:
        if self._generic is None:
            self._generic = compile_validator(self.schema).is_valid
        return self._generic(value)

    def check(self, value: object) -> bool:
        verdict: Verdict = self.table.get(type(value))
        if verdict is None:
            return self.generic(value)
        if verdict is True or verdict is False:
            return verdict
        return verdict(value)

    def checker(self) -> Checker:
        """The fastest callable for this node (a constant verdict becomes a trivial function)."""
        table = self.table
        generic = self.generic

        def check(value: object) -> bool:
            verdict: Verdict = table.get(type(value))
            if verdict is None:
                return generic(value)
            if verdict is True or verdict is False:
                return verdict
            return verdict(value)

        return check


def compile_checker(schema: Any) -> Checker | None:
    """A function telling whether a value is valid against ``schema``, or ``None`` if it cannot be compiled."""
    try:
        return _Compiler(set(PVEValidator.VALIDATORS)).node(schema).checker()
    except (Unsupported, re.error):
        return None


def accepts(checker: Checker, value: object) -> bool:
    """``checker(value)``, where anything unexpected (an overflowing number, ...) counts as "not valid": the
    caller then asks the validator, which reports or raises exactly as it would have without the checker."""
    try:
        return checker(value)
    except Exception:
        return False


# -- combining verdicts ----------------------------------------------------------------------------------------


def _all_of(verdicts: list[Any]) -> Any:
    if any(v is False for v in verdicts):
        return False
    checks = [v for v in verdicts if v is not True]
    ranges = [v for v in checks if type(v) is _Range]
    if len(ranges) > 1:  # both bounds must hold: the stricter of each
        merged = _Range(max(r.low for r in ranges), min(r.high for r in ranges))
        checks = [v for v in checks if type(v) is not _Range] + [merged]
    if not checks:
        return True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    return lambda value: all(check(value) for check in checks)


def _any_of(verdicts: list[Any]) -> Any:
    if any(v is True for v in verdicts):
        return True
    checks = [v for v in verdicts if v is not False]
    if not checks:
        return False
    if len(checks) == 1:
        return checks[0]
    return lambda value: any(check(value) for check in checks)


def _same_for(types: tuple[type, ...], verdict: Any, otherwise: Any = True) -> dict[type, Any]:
    return {t: (verdict if t in types else otherwise) for t in _TYPES}


# -- the compiler ----------------------------------------------------------------------------------------------


class _Compiler:
    def __init__(self, validator_keywords: set[str]) -> None:
        self.validator_keywords = validator_keywords

    def node(self, schema: Any) -> _Node:
        if schema is True or schema is False:
            return _Node(_same_for(_TYPES, schema), schema)
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        unknown = (set(schema) & self.validator_keywords) - _HANDLED
        if unknown:
            raise Unsupported(f"keywords {sorted(unknown)}")
        tables = [self.keyword(name, schema[name], schema) for name in schema if name in _HANDLED]
        table = {t: _all_of([k[t] for k in tables]) for t in _TYPES}
        return _Node(table, schema)

    def keyword(self, name: str, value: Any, schema: dict[str, Any]) -> dict[type, Any]:
        compile_keyword: Callable[[Any, dict[str, Any]], dict[type, Any]] = getattr(self, "_" + name.replace("-", "_"))
        return compile_keyword(value, schema)

    # -- any type

    def _type(self, types: Any, schema: dict[str, Any]) -> dict[type, Any]:
        names = [types] if isinstance(types, str) else list(types)
        return {t: _any_of([_is_type(t, name) for name in names]) for t in _TYPES}

    def _enum(self, values: Any, schema: dict[str, Any]) -> dict[type, Any]:
        if not isinstance(values, list) or not all(type(v) in _SCALARS for v in values):
            raise Unsupported("enum with non-scalar values")
        texts = frozenset(v for v in values if type(v) is str)
        numbers = frozenset(v for v in values if type(v) in (int, float))  # jsonschema's equal: True != 1
        has_true = any(v is True for v in values)
        has_false = any(v is False for v in values)
        return {
            str: (lambda value: value in texts) if texts else False,
            int: (lambda value: value in numbers) if numbers else False,
            float: (lambda value: value in numbers) if numbers else False,
            bool: _bool_verdict(has_true, has_false),
            type(None): any(v is None for v in values),
            dict: False,
            list: False,
        }

    def _allOf(self, schemas: Any, schema: dict[str, Any]) -> dict[type, Any]:
        nodes = [self.node(s) for s in _listed(schemas)]
        return {t: _all_of([n.table[t] for n in nodes]) for t in _TYPES}

    def _anyOf(self, schemas: Any, schema: dict[str, Any]) -> dict[type, Any]:
        nodes = [self.node(s) for s in _listed(schemas)]
        return {t: _any_of([n.table[t] for n in nodes]) for t in _TYPES}

    def _if(self, if_schema: Any, schema: dict[str, Any]) -> dict[type, Any]:
        condition = self.node(if_schema)
        then = self.node(schema["then"]) if "then" in schema else None
        otherwise = self.node(schema["else"]) if "else" in schema else None
        return {t: _if_verdict(condition.table[t], then, otherwise, t) for t in _TYPES}

    # -- numbers (returns.py's minimum/maximum: also numeric text, never booleans)

    def _minimum(self, minimum: Any, schema: dict[str, Any]) -> dict[type, Any]:
        _check_bound(minimum)
        return _bound(
            _Range(low=minimum),
            lambda value: (number := numeric_value(value)) is None or not number < minimum,
        )

    def _maximum(self, maximum: Any, schema: dict[str, Any]) -> dict[type, Any]:
        _check_bound(maximum)
        return _bound(
            _Range(high=maximum),
            lambda value: (number := numeric_value(value)) is None or not number > maximum,
        )

    # -- strings

    def _pattern(self, pattern: Any, schema: dict[str, Any]) -> dict[type, Any]:
        search = compile_pattern(pattern).search
        return _same_for((str,), search)

    def _minLength(self, limit: Any, schema: dict[str, Any]) -> dict[type, Any]:
        return _same_for((str,), lambda value: not len(value) < limit)

    def _maxLength(self, limit: Any, schema: dict[str, Any]) -> dict[type, Any]:
        return _same_for((str,), lambda value: not len(value) > limit)

    def _format(self, name: Any, schema: dict[str, Any]) -> dict[type, Any]:
        if not isinstance(name, str):
            raise Unsupported(f"format {name!r}")
        if not is_known_format(name):
            return _same_for(_TYPES, True)
        return _same_for((str,), _remembering(lambda text: _format_ok(name, text)))

    def _x_pve_property_string(self, key_schema: Any, schema: dict[str, Any]) -> dict[type, Any]:
        from pytest_pvemock.schema.named_property_formats import VALIDATORS
        from pytest_pvemock.schema.parameters import perl_text
        from pytest_pvemock.schema.property_string import PropertyStringError, parse_property_string

        if not isinstance(key_schema, dict):
            raise Unsupported("x-pve-property-string without an object schema")
        keys = self.node(key_schema)
        extra_check = VALIDATORS.get(key_schema.get("x-pve-validator", ""))

        def valid_text(text: str) -> bool:
            try:
                parsed = parse_property_string(text, key_schema)
            except PropertyStringError:
                return False
            if not keys.check(parsed):
                return False
            return extra_check is None or not extra_check(parsed)

        remembered = _remembering(valid_text)
        # returns.py: perl_text is None for booleans, dicts, lists; numbers are skipped; None reads as "None".
        return {
            str: remembered,
            int: True,
            float: True,
            bool: True,
            type(None): lambda value: remembered(perl_text(value)),
            dict: True,
            list: True,
        }

    # -- objects

    def _required(self, required: Any, schema: dict[str, Any]) -> dict[type, Any]:
        if isinstance(schema.get("properties"), dict):
            return _same_for(_TYPES, True)  # checked at the end of the properties loop, one call less per object
        return _same_for((dict,), _has_keys(required))

    def _dependentRequired(self, dependent: Any, schema: dict[str, Any]) -> dict[type, Any]:
        pairs = [(key, tuple(needed)) for key, needed in dependent.items()]

        def check(value: dict[str, Any]) -> bool:
            return all(all(n in value for n in needed) for key, needed in pairs if key in value)

        return _same_for((dict,), check)

    def _properties(self, properties: Any, schema: dict[str, Any]) -> dict[type, Any]:
        # returns.py's properties: a null value counts as absent (an error only if the key is required),
        # unless the property's type is "null".
        if not isinstance(properties, dict) or not all(isinstance(s, dict) for s in properties.values()):
            raise Unsupported("properties")
        required = schema.get("required", ())
        tables: dict[str, dict[type, Any]] = {}
        generics: dict[str, Checker] = {}
        for key, sub in properties.items():
            node = self.node(sub)
            table = dict(node.table)
            if sub.get("type") != "null":
                table[type(None)] = key not in required
            tables[key] = table
            generics[key] = node.generic
        lookup = tables.get
        has_required = _has_keys(required) if required else None

        def check(value: dict[str, Any]) -> bool:
            # _Node.check inlined: this loop runs for every key of every object of an answer.
            for key, item in value.items():
                table = lookup(key)
                if table is None:
                    continue
                verdict = table.get(type(item))
                if verdict is True:
                    continue
                if type(verdict) is _Range:
                    number = float(item)
                    if number < verdict.low or number > verdict.high:
                        return False
                elif verdict is None:
                    if not generics[key](item):
                        return False
                elif verdict is False or not verdict(item):
                    return False
            return has_required is None or has_required(value)

        return _same_for((dict,), check)

    def _patternProperties(self, patterns: Any, schema: dict[str, Any]) -> dict[type, Any]:
        compiled = [(compile_pattern(pattern).search, self.node(sub).checker()) for pattern, sub in patterns.items()]

        def check(value: dict[str, Any]) -> bool:
            for search, item_check in compiled:
                for key, item in value.items():
                    if search(key) and not item_check(item):
                        return False
            return True

        return _same_for((dict,), check)

    def _additionalProperties(self, additional: Any, schema: dict[str, Any]) -> dict[type, Any]:
        # jsonschema's find_additional_properties: not in "properties", and no match of the joined patterns.
        known = schema.get("properties", {})
        joined = "|".join(schema.get("patternProperties", {}))
        search = compile_pattern(joined).search if joined else None

        def extras(value: dict[str, Any]) -> list[str]:
            return [k for k in value if k not in known and not (search is not None and search(k))]

        if isinstance(additional, dict):
            extra_check = self.node(additional).checker()
            return _same_for((dict,), lambda value: all(extra_check(value[k]) for k in extras(value)))
        if additional:
            return _same_for(_TYPES, True)
        return _same_for((dict,), lambda value: not extras(value))

    # -- arrays

    def _items(self, items: Any, schema: dict[str, Any]) -> dict[type, Any]:
        if "prefixItems" in schema:
            raise Unsupported("prefixItems")
        if items is False:
            return _same_for((list,), lambda value: not value)
        node = self.node(items)
        table, generic = node.table, node.generic

        def check(value: list[Any]) -> bool:
            for item in value:
                verdict = table.get(type(item))
                if verdict is True:
                    continue
                if verdict is None:
                    if not generic(item):
                        return False
                elif verdict is False or not verdict(item):
                    return False
            return True

        return _same_for((list,), check)


def _listed(schemas: Any) -> list[Any]:
    if not isinstance(schemas, list):
        raise Unsupported("allOf/anyOf without a list")
    return schemas


def _is_type(python_type: type, name: str) -> Any:
    """jsonschema's draft 2020-12 type checker, for values whose exact type is ``python_type``."""
    if name == "integer":
        if python_type is float:
            return float.is_integer
        return python_type is int
    if name == "number":
        return python_type in (int, float)
    expected = {
        "string": str,
        "object": dict,
        "array": list,
        "boolean": bool,
        "null": type(None),
    }.get(name)
    if expected is None:
        raise Unsupported(f"type {name!r}")
    return python_type is expected


def _has_keys(required: Any) -> Checker:
    """jsonschema's ``required``, for dicts."""
    keys = frozenset(required)
    return lambda value: value.keys() >= keys  # type: ignore[attr-defined]  # only ever given dicts (the dict row)


def _bool_verdict(has_true: bool, has_false: bool) -> Any:
    if has_true and has_false:
        return True
    if not has_true and not has_false:
        return False
    return (lambda value: value is True) if has_true else (lambda value: value is False)


def _if_verdict(condition: Any, then: _Node | None, otherwise: _Node | None, python_type: type) -> Any:
    then_verdict = True if then is None else then.table[python_type]
    else_verdict = True if otherwise is None else otherwise.table[python_type]
    if condition is True:
        return then_verdict
    if condition is False:
        return else_verdict

    def check(value: object) -> bool:
        branch = then_verdict if condition(value) else else_verdict
        return branch if branch is True or branch is False else branch(value)

    return check


def _check_bound(limit: Any) -> None:
    if isinstance(limit, bool) or not isinstance(limit, (int, float)):
        raise Unsupported(f"bound {limit!r}")


def _bound(number_within: Checker, text_within: Checker) -> dict[type, Any]:
    """returns.py's minimum/maximum: numbers and numeric text (via ``numeric_value``), never booleans."""
    return {
        str: text_within,
        int: number_within,
        float: number_within,
        bool: True,
        type(None): True,
        dict: True,
        list: True,
    }


def _format_ok(name: str, text: str) -> bool:
    try:
        check_format(name, text)
    except FormatError:
        return False
    return True


def _remembering(valid: Callable[[str], bool]) -> Checker:
    """``valid`` for texts, remembering up to ``_REMEMBERED`` texts found valid (checks are pure)."""
    known: set[str] = set()

    def check(text: Any) -> bool:
        if text in known:
            return True
        if not valid(text):
            return False
        if len(known) >= _REMEMBERED:
            known.clear()
        known.add(text)
        return True

    return check
