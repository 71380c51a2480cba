"""A log file paged as pve-common's ``PVE::Tools::dump_logfile`` pages it (src/PVE/Tools.pm
``dump_logfile_by_filehandle`` lines 751-800, commit f665029e): lines numbered from 1, the first ``start`` skipped,
at most ``limit`` (50 unless given; 0 reads to the end), ``total`` counting every line, and one ``no content`` line
when the file has none. The task log, the firewall logs and the Ceph log all go through it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_pvemock.api.handler import Result


def dump_logfile(lines: Sequence[str], params: Mapping[str, Any]) -> Result:
    """The page of ``lines`` that ``start`` and ``limit`` in ``params`` ask for, with ``total``."""
    if not lines:
        return Result([{"n": 1, "t": "no content"}], extra={"total": 1})
    start = int(params.get("start") or 0)
    given = params.get("limit")
    limit = 50 if given is None else int(given)
    end = len(lines) if limit == 0 else start + limit
    rows = [{"n": number, "t": text} for number, text in enumerate(lines[start:end], start + 1)]
    return Result(rows, extra={"total": len(lines)})
