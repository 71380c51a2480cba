"""``requests`` answered in-process: one patch on ``HTTPAdapter.send``, as the ``responses`` library does.

A request to a routed host (see :mod:`pytest_pvemock.transports.routing`) never opens a socket: it becomes an
:class:`~pytest_pvemock.api.messages.ApiRequest`, the fake answers it, and the answer comes back as a real
``requests.Response`` (status, reason, headers, body, url, request, cookies), so that sessions, hooks,
``raise_for_status`` and proxmoxer's https backend work unchanged. TLS settings (``verify``, ``cert``) do not
apply in-process. Other hosts go to the network through the original ``send``, or are refused.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.models import PreparedRequest, Response
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.routing import dispatcher_for

_DEFAULT_PORTS = {"https": 443, "http": 80}
_original_send: Any = None


class _OriginalResponse:
    """What ``requests.cookies`` reads Set-Cookie headers from (``response._original_response.msg``)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.msg = Message()
        for name, value in headers.items():
            self.msg[name] = value


class InProcessBody(io.BytesIO):
    """``Response.raw`` for an in-process answer: the body as a readable stream, nothing to release."""

    _original_response: _OriginalResponse | None = None

    def release_conn(self) -> None:
        """Nothing to give back: no connection was used."""

    def stream(self, amt: int = 65536, decode_content: bool | None = None) -> Any:
        while chunk := self.read(amt):
            yield chunk


def request_body(body: Any) -> bytes:
    """The bytes of a prepared request's body (bytes, text, a file or an iterable of chunks)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "read"):
        data = body.read()
        return data.encode() if isinstance(data, str) else data
    return b"".join(chunk.encode() if isinstance(chunk, str) else bytes(chunk) for chunk in body)


def to_api_request(request: PreparedRequest) -> ApiRequest:
    parts = urlsplit(request.url or "")
    return ApiRequest(
        method=request.method or "GET",
        path=parts.path or "/",
        query=parts.query,
        headers=dict(request.headers.lower_items()),  # a plain dict: the API looks headers up several times
        body=request_body(request.body),
        host=parts.hostname or "",
    )


def to_response(adapter: HTTPAdapter, request: PreparedRequest, answer: ApiResponse) -> Response:
    response = Response()
    response.status_code = answer.status
    response.reason = answer.reason
    response.headers = CaseInsensitiveDict(answer.headers)
    response._content = answer.body
    response._content_consumed = True
    response.encoding = get_encoding_from_headers(response.headers)
    response.url = request.url or ""
    response.request = request
    response.connection = adapter
    raw = InProcessBody(answer.body)
    if "set-cookie" in response.headers:
        raw._original_response = _OriginalResponse(answer.headers)
        extract_cookies_to_jar(response.cookies, request, raw)
    response.raw = raw
    return response


def _send(
    self: HTTPAdapter,
    request: PreparedRequest,
    stream: bool = False,
    timeout: Any = None,
    verify: Any = True,
    cert: Any = None,
    proxies: Any = None,
) -> Response:
    parts = urlsplit(request.url or "")
    dispatcher = dispatcher_for(parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme))
    if dispatcher is None:
        original = _original_send or HTTPAdapter.send
        return original(self, request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
    return to_response(self, request, dispatcher(to_api_request(request)))


def install() -> None:
    """Patch ``HTTPAdapter.send`` (once; installing twice is a no-op)."""
    global _original_send
    if _original_send is None:
        _original_send = HTTPAdapter.send
        HTTPAdapter.send = _send  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore the original ``HTTPAdapter.send``."""
    global _original_send
    if _original_send is not None:
        if HTTPAdapter.send is _send:
            HTTPAdapter.send = _original_send  # type: ignore[method-assign]
        _original_send = None
