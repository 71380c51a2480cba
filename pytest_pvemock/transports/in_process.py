"""The steps every in-process transport takes with a client library's request, whatever the library.

Find the dispatcher for the request's host and port (or pass it through, or refuse it as the library
refuses a connection), and turn its target and body into an :class:`~pytest_pvemock.api.messages.ApiRequest`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from pytest_pvemock.api.messages import ApiRequest
from pytest_pvemock.transports.routing import Dispatcher, UnmatchedHostError, dispatcher_for

DEFAULT_PORTS = {"https": 443, "http": 80}


def dispatcher_at(
    scheme: str, host: str, port: int | None, refused: Callable[[str], Exception] | None = None
) -> Dispatcher | None:
    """The dispatcher answering ``host:port`` (the scheme's default port when none); ``None`` to pass through.

    When other hosts are refused this raises :class:`UnmatchedHostError`, or ``refused(message)`` from it:
    the error the client library raises for a connection that failed, which its callers already handle.
    """
    try:
        return dispatcher_for(host, port or DEFAULT_PORTS.get(scheme))
    except UnmatchedHostError as error:
        if refused is None:
            raise
        raise refused(str(error)) from error


def api_request(method: str, target: str, headers: dict[str, str], body: Any, host: str) -> ApiRequest:
    """``method target`` (a path and query, or an absolute URL as sent through a proxy) as an :class:`ApiRequest`.

    ``headers`` is a plain dict, not the library's case-insensitive one: the API looks headers up several times.
    """
    parts = urlsplit(target)
    return ApiRequest(
        method=method,
        path=parts.path or "/",
        query=parts.query,
        headers=headers,
        body=request_body(body),
        host=host,
    )


def request_body(body: Any) -> bytes:
    """The bytes of a request body as client libraries accept it: bytes, text, a file or an iterable of chunks."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):
        return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)
    raise TypeError(f"pytest-pvemock cannot send a request body of type {type(body).__name__}")
