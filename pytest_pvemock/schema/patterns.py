"""Perl regular expressions from the PVE schema, rewritten for Python's ``re``.

PVE checks a ``pattern`` with ``$value =~ m/^$pattern$/``: the pattern is implicitly anchored, and it is a Perl
regex. Patterns that PVE builds from ``qr//`` objects arrive stringified as ``(?^:...)`` or ``(?^i:...)``.
The rewrite keeps the meaning:

- ``(?^FLAGS:`` (Perl's "default flags, then FLAGS") becomes Python's scoped group ``(?FLAGS:``;
- ``(?>...)`` (atomic group; Python only has it from 3.11) becomes the classic emulation
  ``(?:(?=(?P<aN>...))(?P=aN))``, which matches the same strings and backtracks the same way on every Python;
- the whole pattern is wrapped as ``^(?:...)$``. Python's ``$`` also matches before a final newline, as Perl's does.

Everything else used in the schema (``\\d``, ``\\w``, ``\\s``, ``{,n}``, ``\\0``, ``\\x00``) means the same in both.

Checking a value never backtracks: :func:`compile_pattern` hands the converted pattern to RE2 through
``linear_regex.py`` (time linear in the text, same strings matched as Python's ``re``). A pattern RE2 cannot take
is matched by ``re`` only when it is listed in :data:`BACKTRACKING_BOUNDED` with the reason its matching time
stays linear; tests/test_schema_patterns_hostile.py checks that every pattern of every shipped schema is one or
the other, and runs adversarial texts through each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from pytest_pvemock.schema.linear_regex import LinearRegex, Untranslatable

__all__ = ["BACKTRACKING_BOUNDED", "CompiledPattern", "anchored", "compile_pattern", "perl_to_python"]

# Converted patterns RE2 cannot take, and why Python's backtracking stays linear on them.
BACKTRACKING_BOUNDED: dict[str, str] = {
    # qemu-server's 'runningcpu' (PVE::QemuServer::CPUConfig, only in the answer of GET .../config): PVE writes
    # the repeated token as an atomic group, which RE2 lacks. The emulation (a lookahead capturing the token, then
    # a back reference consuming it) commits to the first way the token matches: [+-]? then the longest run of
    # [\w\-._=] then ',?'. A lookahead never backtracks into itself, so each repetition has one way to match;
    # the outer '+' can only give repetitions back one by one, each retry an O(1) test of '$'. Every position is
    # scanned by one lookahead: linear in the text.
    "^(?:(?:^((?:(?=(?P<a1>[+-]?[\\w\\-\\._=]+,?))(?P=a1))+)$))$": "atomic group, one way to match each repetition",
}


def perl_to_python(pattern: str) -> str:
    """Rewrite the Perl-only constructs of ``pattern`` (see the module docstring); no anchoring."""
    out: list[str] = []
    atomic_stack: list[str | None] = []  # per open group: the atomic group's name, or None
    atomic_count = 0
    i = 0
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            # a ']' right after '[' or '[^' is a literal member
            if pattern.startswith("^]", i + 1):
                out.append("^]")
                i += 3
                continue
            if pattern.startswith("]", i + 1):
                out.append("]")
                i += 2
                continue
            i += 1
            continue
        if char == "(":
            if pattern.startswith("(?^", i):
                match = re.match(r"\(\?\^([a-z]*)(:|\))", pattern[i:])
                if match is None:
                    raise ValueError(f"unsupported Perl group at {i} in {pattern!r}")
                flags = match.group(1)
                out.append(f"(?{flags}:" if flags else "(?:")
                atomic_stack.append(None)
                i += len(match.group(0))
                continue
            if pattern.startswith("(?>", i):
                atomic_count += 1
                group = f"a{atomic_count}"
                out.append(f"(?:(?=(?P<{group}>")
                atomic_stack.append(group)
                i += 3
                continue
            atomic_stack.append(None)
            out.append(char)
            i += 1
            continue
        if char == ")":
            closing = atomic_stack.pop() if atomic_stack else None
            out.append(f"))(?P={closing}))" if closing else ")")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def anchored(pattern: str) -> str:
    """PVE's implicit ``^...$`` anchoring around a converted pattern."""
    return f"^(?:{perl_to_python(pattern)})$"


class CompiledPattern:
    """A converted pattern ready to check values; :attr:`linear` tells whether RE2 runs it."""

    __slots__ = ("linear", "pattern", "search")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.search: Callable[[str], bool]
        """Whether the text matches somewhere (``re.search``; our patterns are anchored, so: as a whole)."""
        try:
            self.search = LinearRegex(pattern).search
            self.linear = True
        except Untranslatable:
            python_search = re.compile(pattern).search
            self.search = lambda text: python_search(text) is not None
            self.linear = False


@cache
def compile_pattern(pattern: str) -> CompiledPattern:
    """Compile an already converted (anchored) pattern from a generated schema, for linear-time checks."""
    return CompiledPattern(pattern)
