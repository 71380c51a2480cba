"""The one request type and the one response type that cross the boundary between transports and the API.

Every transport (requests, httpx, aiohttp, urllib3, pvesh, the HTTPS server, the recorder) turns what its
library sends into an :class:`ApiRequest` and turns the :class:`ApiResponse` back into what its library
expects, so that all of them share one path through routing, authentication, parameter checks and schema
validation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiRequest:
    """An HTTP request as the API sees it.

    ``path`` is the URL path as sent, including the ``/api2/json`` (or ``/api2/extjs``) prefix and
    percent-escapes; ``query`` is the raw query string without ``?``; ``body`` the raw body bytes.
    Header names are matched case-insensitively by :meth:`header`.
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    host: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        # the API asks for four or five headers per request: their lower-cased names are made once per request
        lowered: dict[str, str] | None = self.__dict__.get("_lowered")
        if lowered is None:
            lowered = {key.lower(): value for key, value in self.headers.items()}
            object.__setattr__(self, "_lowered", lowered)
        return lowered.get(name.lower(), default)


@dataclass
class ApiResponse:
    """An HTTP response from the API: status, reason, headers and the body bytes (JSON for /api2/json)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json;charset=UTF-8"})
    reason: str = "OK"

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None
