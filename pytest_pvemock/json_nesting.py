"""JSON decoding with Perl's JSON::XS nesting limit, so deep input is an error message, never a RecursionError.

PVE decodes request bodies and JSON-valued parameters with ``decode_json``/``from_json`` (JSON::XS), whose
``max_depth`` is 512: deeper text dies with ``json text or perl structure exceeds maximum nesting level (max_depth
set too low?)``. Python's decoder recurses and gives up near 1000 levels with a ``RecursionError``. The depth is
measured first, in linear time and without recursion: strings are blanked out, then brackets counted.

Bottom layer: imports nothing from the package.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

__all__ = ["MAX_DEPTH", "NestingError", "loads"]

MAX_DEPTH = 512  # JSON::XS's default max_depth
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class NestingError(ValueError):
    """Deeper than :data:`MAX_DEPTH`; the message is JSON::XS's, :attr:`offset` where the level opens."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def loads(text: str | bytes) -> Any:
    """``json.loads`` for text of any depth: :class:`NestingError` (a ``ValueError``) beyond JSON::XS's limit."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    offset = _too_deep_at(text)
    if offset is not None:
        before = text[offset : offset + 32]
        raise NestingError(
            "json text or perl structure exceeds maximum nesting level (max_depth set too low?), "
            f'at character offset {offset} (before "{before}")',
            offset,
        )
    return json.loads(text)


def _too_deep_at(text: str) -> int | None:
    """Where the first bracket beyond :data:`MAX_DEPTH` opens, or ``None``."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    blanked = _STRING.sub(lambda match: " " * len(match.group()), text)
    brackets = _NOT_BRACKET.sub("", blanked)
    depths = accumulate(1 if char in "[{" else -1 for char in brackets)
    for index, depth in enumerate(depths):
        if depth > MAX_DEPTH:
            return _position_of_bracket(blanked, index)
    return None


def _position_of_bracket(blanked: str, index: int) -> int:
    """The offset in the text of its ``index``-th bracket (strings blanked, so none counts twice)."""
    seen = -1
    for match in re.finditer(r"[\[\]{}]", blanked):
        seen += 1
        if seen == index:
            return match.start()
    return len(blanked)  # pragma: no cover - index comes from the same text
