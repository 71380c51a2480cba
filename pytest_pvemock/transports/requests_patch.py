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
from pytest_pvemock.transports.in_process import api_request, dispatcher_at
from pytest_pvemock.transports.patching import MethodPatch


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


def to_api_request(request: PreparedRequest) -> ApiRequest:
    url = request.url or ""
    headers = dict(request.headers.lower_items())
    return api_request(request.method or "GET", url, headers, request.body, urlsplit(url).hostname or "")


def to_response(adapter: HTTPAdapter, request: PreparedRequest, answer: ApiResponse) -> Response:
    response = Response()
    response.status_code = answer.status
    response.reason = answer.reason
    response.headers = CaseInsensitiveDict(answer.headers)
    response._content = answer.body
    response._content_consumed = True  # type: ignore[attr-defined]  # set by Response.__init__, not in its stubs
    response.encoding = get_encoding_from_headers(response.headers)
    response.url = request.url or ""
    response.request = request
    response.connection = adapter
    raw = InProcessBody(answer.body)
    if "set-cookie" in response.headers:
        raw._original_response = _OriginalResponse(answer.headers)
        extract_cookies_to_jar(response.cookies, request, raw)  # type: ignore[no-untyped-call]  # unannotated in stubs
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
    dispatcher = dispatcher_at(parts.scheme, parts.hostname or "", parts.port)
    if dispatcher is None:
        passed: Response = _SEND.original(
            self, request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        return passed
    return to_response(self, request, dispatcher(to_api_request(request)))


_SEND = MethodPatch("requests.adapters.HTTPAdapter.send", _send)


def install() -> None:
    """Patch ``HTTPAdapter.send`` (once; installing twice is a no-op)."""
    if not _SEND.installed:
        _SEND.install()


def uninstall() -> None:
    """Restore the original ``HTTPAdapter.send``."""
    _SEND.uninstall()


def is_installed() -> bool:
    return _SEND.installed
