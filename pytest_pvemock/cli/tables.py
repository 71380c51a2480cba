"""Plain-text output for the CLI: aligned tables, headings, and PVE's figures in human units.

No dependency and no terminal tricks: the text reads the same in a pipe, a CI log or a terminal. Headings
are bold only when the stream is a terminal and ``NO_COLOR`` is not set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any, TextIO

GIB = 1024**3


def wants_colour(stream: TextIO) -> bool:
    """Bold headings only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def heading(text: str, colour: bool = False) -> str:
    line = f"== {text} =="
    return f"\033[1m{line}\033[0m" if colour else line


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = (), indent: str = "  ") -> str:
    """Columns as wide as their widest cell; the columns numbered in ``right`` are right-aligned."""
    cells = [
        [str(header) for header in headers],
        *[["-" if cell is None else str(cell) for cell in row] for row in rows],
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = []
    for row in cells:
        parts = [
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(indent + "  ".join(parts).rstrip())
    return "\n".join(lines)


def gib(number: float) -> str:
    return f"{number / GIB:.1f}"


def used_of(used: float | None, total: float | None) -> str:
    """``15.2 / 63.7 GiB (24%)``; ``-`` without figures."""
    if not total:
        return "-"
    used = used or 0
    return f"{gib(used)} / {gib(total)} GiB ({used * 100 / total:.0f}%)"


def cpu_share(cpu: float | None, cpus: int | None) -> str:
    """``4.2% of 16`` as PVE's GUI writes a usage fraction and a CPU count."""
    if cpu is None:
        return "-"
    text = f"{float(cpu) * 100:.1f}%"
    return f"{text} of {cpus}" if cpus else text


def duration(seconds: int | None) -> str:
    """``53d 04:13:41``, ``04:13:41``, or ``-`` for nothing."""
    if not seconds:
        return "-"
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def utc(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
