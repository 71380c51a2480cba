"""Perl regular expressions from the PVE schema, rewritten for Python's ``re``.

PVE checks a ``pattern`` with ``$value =~ m/^$pattern$/``: the pattern is implicitly anchored, and it is a Perl
regex. Patterns that PVE builds from ``qr//`` objects arrive stringified as ``(?^:...)`` or ``(?^i:...)``.
The rewrite keeps the meaning:

- ``(?^FLAGS:`` (Perl's "default flags, then FLAGS") becomes Python's scoped group ``(?FLAGS:``;
- ``(?>...)`` (atomic group; Python only has it from 3.11) becomes the classic emulation
  ``(?:(?=(?P<aN>...))(?P=aN))``, which matches the same strings and backtracks the same way on every Python;
- the whole pattern is wrapped as ``^(?:...)$``. Python's ``$`` also matches before a final newline, as Perl's does.

Everything else used in the schema (``\\d``, ``\\w``, ``\\s``, ``{,n}``, ``\\0``, ``\\x00``) means the same in both.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["anchored", "compile_pattern", "perl_to_python"]


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
                name = f"a{atomic_count}"
                out.append(f"(?:(?=(?P<{name}>")
                atomic_stack.append(name)
                i += 3
                continue
            atomic_stack.append(None)
            out.append(char)
            i += 1
            continue
        if char == ")":
            name = atomic_stack.pop() if atomic_stack else None
            out.append(f"))(?P={name}))" if name else ")")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def anchored(pattern: str) -> str:
    """PVE's implicit ``^...$`` anchoring around a converted pattern."""
    return f"^(?:{perl_to_python(pattern)})$"


@cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile an already converted (anchored) pattern from a generated schema."""
    return re.compile(pattern)
