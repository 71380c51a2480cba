"""YAML files from users (scenarios, cassettes) read within bounds: size, nesting depth, alias expansion.

``yaml.safe_load`` is safe from code execution, not from bombs: nine anchors of nine aliases each (0.5 KB) stand for
387 million values, which anything walking the result (building a cluster, validating a cassette) expands; a
self-referencing alias (``&a [*a]``) makes a structure that contains itself; deep nesting exhausts Python's
recursion in the composer. :func:`check_limits` reads the file's event stream once, iteratively, before anything
is built, and refuses such a file with a :class:`YAMLLimitError`: a ``yaml.MarkedYAMLError`` carrying the line, so
callers report it like any YAML syntax error ("file:line: ..."). After it passes, loading cannot recurse deeper
than :data:`MAX_DEPTH` levels nor expand aliases beyond :data:`MAX_ALIAS_NODES` values.

Bottom layer: imports nothing from the package.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # libyaml parses several times faster
    from yaml import CSafeLoader as FastSafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as FastSafeLoader  # type: ignore[assignment]

__all__ = ["MAX_ALIAS_NODES", "MAX_BYTES", "MAX_DEPTH", "YAMLLimitError", "check_limits", "load"]

MAX_BYTES = 256 * 1024 * 1024  # far above any cassette we record; a file beyond it is not one of ours
MAX_DEPTH = 100  # collections inside collections; PVE answers nest about 8 deep, cassettes add 4
MAX_ALIAS_NODES = 100_000  # values that aliases stand for, in total over the file


class YAMLLimitError(yaml.MarkedYAMLError):
    """The file is over one of this module's limits; ``problem_mark`` says where (``line`` is 0-based)."""


def check_limits(
    text: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_alias_nodes: int = MAX_ALIAS_NODES,
) -> None:
    """Raise :class:`YAMLLimitError` when ``text`` is too large, too deep, recursive, or an alias bomb.

    YAML syntax errors met on the way propagate as the parser raises them (``yaml.YAMLError``).
    """
    if len(text) > max_bytes:
        raise YAMLLimitError(problem=f"the file is larger than {max_bytes} characters")
    sizes: dict[str, int] = {}  # anchor -> how many values it stands for
    stack: list[list[Any]] = []  # per open collection: [anchor or None, values so far]
    open_anchors: list[str] = []
    aliased = 0
    loader = FastSafeLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) >= max_depth:
                    raise YAMLLimitError(problem=f"nested deeper than {max_depth} levels", problem_mark=_mark(event))
                stack.append([event.anchor, 1])
                if event.anchor is not None:
                    open_anchors.append(event.anchor)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size = stack.pop()
                if anchor is not None:
                    open_anchors.remove(anchor)
                    sizes[anchor] = size
                if stack:
                    stack[-1][1] += size
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                if stack:
                    stack[-1][1] += 1
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in open_anchors:
                    raise YAMLLimitError(
                        problem=f"the alias *{event.anchor} refers to a value that contains it (a recursive structure)",
                        problem_mark=_mark(event),
                    )
                size = sizes.get(event.anchor or "", 1)  # an undefined anchor is the composer's error to report
                aliased += size
                if aliased > max_alias_nodes:
                    raise YAMLLimitError(
                        problem=f"aliases expand to more than {max_alias_nodes} values (an alias bomb?)",
                        problem_mark=_mark(event),
                    )
                if stack:
                    stack[-1][1] += size
    finally:
        loader.dispose()


def _mark(event: yaml.Event) -> yaml.Mark | None:
    """The event's start as a plain ``yaml.Mark`` (libyaml hands out its own mark type)."""
    mark = event.start_mark
    if mark is None:
        return None
    return yaml.Mark(str(mark.name), mark.index, mark.line, mark.column, None, None)  # type: ignore[arg-type]


def load(text: str) -> Any:
    """``yaml.safe_load`` after :func:`check_limits` (libyaml when available)."""
    check_limits(text)
    return yaml.load(text, Loader=FastSafeLoader)
