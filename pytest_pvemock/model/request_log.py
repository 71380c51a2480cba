"""The log of PVE API requests a cluster answered (``cluster.requests``), every secret masked before it is kept.

Every transport (the in-process patches, pvesh, the HTTPS server) answers through the API app, which records each
request here: when (cluster time), method, path, parameters, status and duration. A parameter PVE's schema marks
as secret (``schema/secrets.py``: passwords, keys, tokens, also inside property strings) is kept as
``PVEMOCK-SCRUBBED``, so the log can be printed, served (``GET /pvemock-api/requests``) and written anywhere.

In the spirit of ``responses``: ``cluster.requests.calls("POST", "/nodes/{node}/qemu/{vmid}/status/start")``,
``cluster.requests.assert_called("GET", "/cluster/resources")``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pytest_pvemock.cassette.filters import masked_parameters

#: Requests a log keeps (the oldest are dropped: a long-running server must not grow).
REQUESTS_KEPT = 1000
_API_PREFIX = re.compile(r"^/api2/+[a-z][a-z0-9]*")
_PARAM = re.compile(r"\\\{[^/]+?\\\}")


@dataclass(frozen=True)
class LoggedRequest:
    """One answered request; ``path`` as sent (``/api2/json/nodes``), ``api_path`` without the prefix."""

    time: int  # cluster time when it was answered
    method: str
    path: str
    parameters: tuple[tuple[str, str], ...]
    status: int
    duration_ms: float

    @property
    def api_path(self) -> str:
        """The path without ``/api2/json`` (or ``/api2/extjs``), as PVE's schema names methods."""
        return _API_PREFIX.sub("", self.path) or "/"

    def as_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "parameters": [list(pair) for pair in self.parameters],
            "status": self.status,
            "duration_ms": self.duration_ms,
        }


def path_matcher(path: str) -> re.Pattern[str]:
    """A concrete path (``/nodes/pve1/status``) or a template (``/nodes/{node}/status``), with or without
    ``/api2/json``, as a pattern matching the logged :attr:`LoggedRequest.api_path`."""
    normalised = "/" + _API_PREFIX.sub("", "/" + path.strip("/")).strip("/")
    return re.compile("^" + _PARAM.sub("[^/]+", re.escape(normalised)) + "/?$")


class RequestLog:
    """The last :data:`REQUESTS_KEPT` requests, oldest first; iterate it, filter it, clear it."""

    def __init__(self, kept: int = REQUESTS_KEPT) -> None:
        self.entries: deque[LoggedRequest] = deque(maxlen=kept)

    def record(
        self, method: str, path: str, pairs: list[tuple[str, str]], status: int, now: int, seconds: float
    ) -> LoggedRequest:
        """Keep one request, its secret parameters masked (``pairs``: query and body parameters as sent)."""
        entry = LoggedRequest(
            time=now,
            method=method,
            path=path,
            parameters=masked_parameters(method, _API_PREFIX.sub("", path) or "/", pairs) if pairs else (),
            status=status,
            duration_ms=round(seconds * 1000, 3),
        )
        self.entries.append(entry)
        return entry

    def clear(self) -> None:
        self.entries.clear()

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(list(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def filtered(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        since: int | None = None,
    ) -> list[LoggedRequest]:
        """The requests with this method, whose API path starts with ``path`` (``/nodes`` matches
        ``/nodes/pve1/status``), with this status, answered at cluster time ``since`` or later."""
        prefix = "/" + _API_PREFIX.sub("", "/" + path.strip("/")).strip("/") if path is not None else None
        found = []
        for entry in self.entries:
            if method is not None and entry.method != method.upper():
                continue
            if prefix is not None and prefix != "/":
                api_path = entry.api_path
                if api_path != prefix and not api_path.startswith(prefix + "/"):
                    continue
            if status is not None and entry.status != status:
                continue
            if since is not None and entry.time < since:
                continue
            found.append(entry)
        return found

    def calls(self, method: str, path: str) -> list[LoggedRequest]:
        """The requests of ``method`` on ``path`` (concrete or a template with ``{params}``), oldest first."""
        pattern = path_matcher(path)
        wanted = method.upper()
        return [entry for entry in self.entries if entry.method == wanted and pattern.match(entry.api_path)]

    def assert_called(self, method: str, path: str, times: int | None = None) -> list[LoggedRequest]:
        """Fail (``AssertionError`` naming what was called) unless ``method path`` was called (``times`` times)."""
        found = self.calls(method, path)
        if (times is None and not found) or (times is not None and len(found) != times):
            expected = "at least once" if times is None else f"{times} time(s)"
            called = _summary(self.entries)
            raise AssertionError(
                f"expected {method.upper()} {path} to be called {expected}, it was called {len(found)} time(s); "
                f"requests logged: {called}"
            )
        return found

    def assert_not_called(self, method: str, path: str) -> None:
        """Fail unless no ``method path`` request was made."""
        self.assert_called(method, path, times=0)


def _summary(entries: Iterable[LoggedRequest], limit: int = 20) -> str:
    listed = [f"{entry.method} {entry.api_path} ({entry.status})" for entry in entries]
    if not listed:
        return "none"
    more = f" ... and {len(listed) - limit} more" if len(listed) > limit else ""
    return ", ".join(listed[-limit:]) + more
