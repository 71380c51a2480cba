"""How PVE shapes a response: the ``/api2/json`` and ``/api2/extjs`` envelopes, reason phrases and headers.

Follows pve-http-server's standard formatter: the body is ``{"data": ...}``; on an error the message also goes
into the body as ``message`` (since libpve-http-server-perl 5.2, i.e. PVE 8.3 and later) with per-parameter
``errors`` when there are any, and the first line of the message travels as the HTTP reason phrase, which is
where proxmoxer reads it. ExtJS answers every call with HTTP 200 and puts ``success``/``status`` in the body.
Failures that happen before an API method runs (no ticket, bad CSRF token, node unreachable) carry only the
reason phrase and no body, as pveproxy sends them.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from pytest_pvemock.api.messages import ApiResponse

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
FORMATS = ("json", "extjs")

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _base_headers() -> dict[str, str]:
    return {"Cache-Control": "max-age=0", "Pragma": "no-cache", "Server": "pve-api-daemon/3.0"}


def status_text(status: int) -> str:
    """The standard reason phrase of ``status`` ("Internal Server Error"), or ``""`` for PVE's own 59x codes."""
    return _PHRASES.get(status, "")


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def reason_phrase(status: int, message: str | None) -> str:
    """The first line of ``message`` as pveproxy sends it in the status line, or the standard phrase."""
    first_line = (message or "").split("\n", 1)[0].rstrip("\r")
    return first_line or status_text(status) or "Unknown"


def body_message(message: str) -> str:
    """A message as it appears in the body: PVE's messages end with a newline (``die "...\\n"``)."""
    return message if message.endswith("\n") else message + "\n"


def success(fmt: str, data: Any, extra: dict[str, Any] | None = None, status: int = 200) -> ApiResponse:
    """The answer of a method that ran: ``{"data": ...}`` plus ``total``/``changes`` and other extra keys."""
    body: dict[str, Any] = {"data": data}
    if extra:
        for key, value in extra.items():
            if value or key not in ("total", "changes"):  # PVE only adds total/changes when they are set
                body[key] = value
    if fmt == "extjs":
        body["success"] = 1
    return encoded_success(_encode(body).encode(), status)


def encoded_success(body: bytes, status: int = 200) -> ApiResponse:
    """A successful answer whose body is already encoded (by :func:`success`, for an answer given before)."""
    headers = _base_headers()
    headers["Content-Type"] = JSON_CONTENT_TYPE
    return ApiResponse(status=status, body=body, headers=headers, reason=status_text(status) or "OK")


def method_error(fmt: str, status: int, message: str, errors: dict[str, Any] | None = None) -> ApiResponse:
    """The answer of a method that failed (PVE exception): status, reason from the message, and a body."""
    text = body_message(message) if message else status_text(status)
    body: dict[str, Any] = {"data": None}
    if errors:
        body["errors"] = errors
    headers = _base_headers()
    headers["Content-Type"] = JSON_CONTENT_TYPE
    if fmt == "extjs":
        body["message"] = text
        body["status"] = status
        body["success"] = 0
        return ApiResponse(status=200, body=_encode(body).encode(), headers=headers, reason="OK")
    body["message"] = text
    return ApiResponse(status=status, body=_encode(body).encode(), headers=headers, reason=reason_phrase(status, text))


def bare_error(status: int, message: str, body: bytes = b"") -> ApiResponse:
    """An error raised by pveproxy itself: only a status line (and the message as text when ``body`` is given)."""
    return ApiResponse(status=status, body=body, headers=_base_headers(), reason=reason_phrase(status, message))


def encode_json(value: Any) -> bytes:
    """JSON as PVE writes it: compact, UTF-8."""
    return _encode(value).encode()
