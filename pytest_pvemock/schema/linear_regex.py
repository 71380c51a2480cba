"""Python regular expressions matched in linear time by RE2 (google-re2), with exactly Python's meaning.

Python's ``re`` backtracks: PVE's OCI ``reference`` pattern took 14 s on 27 characters. RE2 never backtracks
(time linear in the text), but its syntax and its character classes differ from Python's. So a pattern is not
handed to RE2 as text: Python's own parser reads it, and the tree is written out again for RE2 with

- every character class (a literal, ``[...]``, ``.``, ``\\d``, ``\\w``, ``\\s``, under ``(?i)``, ``(?a)``, ``(?s)``)
  replaced by the explicit list of code points Python's ``re`` matches with it: computed by Python itself where a
  flag or a category is involved, so case folding and Unicode categories cannot differ between the engines;
- Python's ``$`` (end, or before a final newline) written ``(?:\\n?\\z)``, which is exact where nothing but other
  ``$`` follows it (the only place our patterns have it; anywhere else the pattern is untranslatable);
- counted repetitions above RE2's limit of 1000 split into consecutive pieces (``x{0,4096}`` matches the same
  strings as ``x{0,1000}x{0,1000}x{0,1000}x{0,1000}x{0,96}``).

Greedy, lazy and plain groups all match the same set of strings, which is all a yes/no check needs. Constructs
with no regular equivalent in RE2 (back references, lookaround, atomic groups, possessive repeats, ``\\b``,
multi-line anchors) raise :class:`Untranslatable`; ``patterns.py`` decides what to do with those.

RE2 reads UTF-8, which cannot carry a lone surrogate (JSON's ``"\\ud800"``): such code points are matched as
U+FFFD, and a pattern is only translated when every class treats all surrogates as it treats U+FFFD.
"""

from __future__ import annotations

import importlib
import re
import sys
from array import array
from functools import cache
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints

# Python's own regex parser: re._parser from 3.11, sre_parse before (deprecated, with a warning, since 3.11)
_sre_parse: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_sre: Any = importlib.import_module("re._constants" if sys.version_info >= (3, 11) else "sre_constants")

__all__ = ["LinearRegex", "Untranslatable", "to_re2"]

_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = (0xD800, 0xDFFF)
_RE2_MAX_REPEAT = 1000
_SURROGATE_TEXT = re.compile("[\ud800-\udfff]")

Ranges = tuple[tuple[int, int], ...]


class Untranslatable(ValueError):
    """The pattern uses something RE2 cannot express with Python's meaning."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    options.max_mem = 64 << 20  # classes of thousands of code points repeated 256 times fit comfortably
    return options


class LinearRegex:
    """A compiled pattern whose :meth:`search` answers as ``re.search`` would, in time linear in the text."""

    __slots__ = ("_regexp", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            self._regexp = re2.compile(to_re2(pattern).encode(), _options())
        except re2.error as error:
            raise Untranslatable(f"RE2 refuses the translation of {pattern!r}: {error}") from None

    def search(self, text: str) -> bool:
        """Whether ``re.search(pattern, text)`` finds a match."""
        try:
            data = text.encode()
        except UnicodeEncodeError:  # lone surrogates: matched as U+FFFD (see the module docstring)
            data = _SURROGATE_TEXT.sub("\ufffd", text).encode()
        return self._regexp.search(data) is not None


def to_re2(pattern: str) -> str:
    """RE2 syntax matching exactly the strings Python's ``re`` matches with ``pattern`` (anywhere, as ``search``)."""
    try:
        tree = _sre_parse.parse(pattern)
    except re.error as error:
        raise Untranslatable(f"not a Python pattern: {error}") from None
    return _sequence(list(tree), tree.state.flags, tail=True)


def _sequence(items: list[tuple[Any, Any]], flags: int, tail: bool) -> str:
    out = []
    for index, (op, av) in enumerate(items):
        item_tail = tail and all(_is_end(later, flags) for later in items[index + 1 :])
        out.append(_item(op, av, flags, item_tail))
    return "".join(out)


def _is_end(item: tuple[Any, Any], flags: int) -> bool:
    op, av = item
    return bool(op is _sre.AT and av is _sre.AT_END and not flags & re.MULTILINE)


def _item(op: Any, av: Any, flags: int, tail: bool) -> str:
    if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
        return _class(_code_points(op, av, flags))
    if op is _sre.AT:
        return _anchor(av, flags, tail)
    if op is _sre.BRANCH:
        return "(?:" + "|".join(_sequence(list(branch), flags, tail) for branch in av[1]) + ")"
    if op is _sre.SUBPATTERN:
        _group, add_flags, del_flags, body = av
        return "(?:" + _sequence(list(body), (flags | add_flags) & ~del_flags, tail) + ")"
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
        low, high, body = av
        return _repeat(_sequence(list(body), flags, tail=False), low, None if high is _sre.MAXREPEAT else high)
    raise Untranslatable(f"{op} has no RE2 equivalent")


def _anchor(at: Any, flags: int, tail: bool) -> str:
    if at in (_sre.AT_BEGINNING, _sre.AT_END) and flags & re.MULTILINE:
        raise Untranslatable("multi-line anchors")
    if at in (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING):
        return r"\A"
    if at is _sre.AT_END_STRING:
        return r"\z"
    if at is _sre.AT_END:
        if not tail:
            raise Untranslatable("'$' followed by more than other '$'")
        return r"(?:\n?\z)"
    raise Untranslatable(f"anchor {at}")


def _repeat(body: str, low: int, high: int | None) -> str:
    item = f"(?:{body})"
    parts = []
    while low > _RE2_MAX_REPEAT:
        parts.append(f"{item}{{{_RE2_MAX_REPEAT}}}")
        low -= _RE2_MAX_REPEAT
        high = None if high is None else high - _RE2_MAX_REPEAT
    if high is None:
        parts.append(f"{item}{{{low},}}")
        return "".join(parts)
    if low:
        parts.append(f"{item}{{{low}}}")
    optional = high - low
    while optional > 0:
        step = min(optional, _RE2_MAX_REPEAT)
        parts.append(f"{item}{{0,{step}}}")
        optional -= step
    return "".join(parts)


# -- character classes as code points


def _code_points(op: Any, av: Any, flags: int) -> Ranges:
    if flags & re.LOCALE:
        raise Untranslatable("locale-dependent classes")
    if flags & re.IGNORECASE:
        # case folding is Python's: ask Python which code points the class matches
        return _scan(_leaf_source(op, av, flags))
    if op is _sre.LITERAL:
        return ((av, av),)
    if op is _sre.NOT_LITERAL:
        return _complement(((av, av),))
    if op is _sre.ANY:
        return ((0, _MAX_CODE_POINT),) if flags & re.DOTALL else _complement(((10, 10),))
    members: list[tuple[int, int]] = []
    negate = False
    for item_op, item_av in av:
        if item_op is _sre.NEGATE:
            negate = True
        elif item_op is _sre.LITERAL:
            members.append((item_av, item_av))
        elif item_op is _sre.RANGE:
            members.append(item_av)
        elif item_op is _sre.CATEGORY:
            members.extend(_scan(_CATEGORIES[item_av] if not flags & re.ASCII else f"(?a:{_CATEGORIES[item_av]})"))
        else:
            raise Untranslatable(f"class member {item_op}")
    merged = _merge(members)
    return _complement(merged) if negate else merged


def _leaf_source(op: Any, av: Any, flags: int) -> str:
    """One-character Python pattern for a leaf of the tree, with the flags that change what it matches."""
    if op is _sre.LITERAL:
        body = _escape(av)
    elif op is _sre.NOT_LITERAL:
        body = f"[^{_escape(av)}]"
    elif op is _sre.ANY:
        body = "."
    else:
        members: list[str] = []
        for item_op, item_av in av:
            if item_op is _sre.NEGATE:
                members.insert(0, "^")
            elif item_op is _sre.LITERAL:
                members.append(_escape(item_av))
            elif item_op is _sre.RANGE:
                members.append(f"{_escape(item_av[0])}-{_escape(item_av[1])}")
            elif item_op is _sre.CATEGORY:
                members.append(_CATEGORIES[item_av])
            else:
                raise Untranslatable(f"class member {item_op}")
        body = "[" + "".join(members) + "]"
    letters = "i" + ("a" if flags & re.ASCII else "") + ("s" if flags & re.DOTALL else "")
    return f"(?{letters}:{body})"


def _escape(code_point: int) -> str:
    return f"\\U{code_point:08x}"


_CATEGORIES = {
    _sre.CATEGORY_DIGIT: r"\d",
    _sre.CATEGORY_NOT_DIGIT: r"\D",
    _sre.CATEGORY_SPACE: r"\s",
    _sre.CATEGORY_NOT_SPACE: r"\S",
    _sre.CATEGORY_WORD: r"\w",
    _sre.CATEGORY_NOT_WORD: r"\W",
}


@cache
def _every_code_point() -> str:
    return array("I", range(_MAX_CODE_POINT + 1)).tobytes().decode(f"utf-32-{sys.byteorder[0]}e", "surrogatepass")


@cache
def _scan(source: str) -> Ranges:
    """The code points Python's ``re`` matches with a one-character pattern, asked of ``re`` itself."""
    every = _every_code_point()
    compiled = re.compile(source)
    unmatched = compiled.sub("", every)
    if len(unmatched) < len(every) // 2:
        return _complement(_merge((ord(char), ord(char)) for char in unmatched))
    return _merge((match.start(), match.start()) for match in compiled.finditer(every))


def _merge(ranges: Any) -> Ranges:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return tuple(merged)


def _complement(ranges: Ranges) -> Ranges:
    out = []
    start = 0
    for low, high in ranges:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= _MAX_CODE_POINT:
        out.append((start, _MAX_CODE_POINT))
    return tuple(out)


def _class(ranges: Ranges) -> str:
    _check_surrogates(ranges)
    parts = []
    for low, high in ranges:
        # RE2 has no surrogates (UTF-8 cannot carry them): cut them out of the ranges
        pieces = [(low, high)]
        if low <= _SURROGATES[1] and high >= _SURROGATES[0]:
            pieces = [(low, _SURROGATES[0] - 1), (_SURROGATES[1] + 1, high)]
        for piece_low, piece_high in pieces:
            if piece_low > piece_high:
                continue
            parts.append(f"\\x{{{piece_low:x}}}" + (f"-\\x{{{piece_high:x}}}" if piece_high != piece_low else ""))
    if not parts:
        return r"[^\x{0}-\x{10ffff}]"
    return "[" + "".join(parts) + "]"


def _check_surrogates(ranges: Ranges) -> None:
    """Every surrogate must be in the class exactly when U+FFFD is (texts carry them as U+FFFD)."""
    low, high = _SURROGATES
    replacement = any(start <= 0xFFFD <= end for start, end in ranges)
    covered = any(start <= low and high <= end for start, end in ranges)
    touched = any(start <= high and end >= low for start, end in ranges)
    if (covered, touched) != (replacement, replacement):
        raise Untranslatable("a class treats surrogates and U+FFFD differently")
