"""httpx: the fake's hosts answered in-process, for ``httpx.Client`` and ``httpx.AsyncClient``.

The patch point is the one method each default transport uses to send a request:
``httpx.HTTPTransport.handle_request`` and ``httpx.AsyncHTTPTransport.handle_async_request``. Everything
above it (base URLs, params, auth, cookies, event hooks, ``raise_for_status``) stays httpx's own code, and a
client with a custom transport (``httpx.MockTransport``, respx) is left alone. Other hosts go to the real
transport unless other hosts are refused.
"""

from __future__ import annotations

import threading
from typing import Any

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.routing import UnmatchedHostError, dispatcher_for

_lock = threading.Lock()
_installs = 0
_originals: dict[str, Any] = {}


def install() -> None:
    """Patch httpx's transports (once; each call must be matched by :func:`uninstall`)."""
    global _installs
    import httpx

    with _lock:
        _installs += 1
        if _installs > 1:
            return
        _originals["sync"] = httpx.HTTPTransport.handle_request
        _originals["async"] = httpx.AsyncHTTPTransport.handle_async_request
        httpx.HTTPTransport.handle_request = _handle_request
        httpx.AsyncHTTPTransport.handle_async_request = _handle_async_request


def uninstall() -> None:
    """Undo one :func:`install`; the last one puts httpx's own methods back."""
    global _installs
    import httpx

    with _lock:
        if _installs == 0:
            return
        _installs -= 1
        if _installs > 0:
            return
        httpx.HTTPTransport.handle_request = _originals.pop("sync")
        httpx.AsyncHTTPTransport.handle_async_request = _originals.pop("async")


def is_installed() -> bool:
    return _installs > 0


def _handle_request(self: Any, request: Any) -> Any:
    dispatcher = _dispatcher(request)
    if dispatcher is None:
        return _originals["sync"](self, request)
    return _to_httpx(dispatcher(_to_api_request(request, request.read())), request)


async def _handle_async_request(self: Any, request: Any) -> Any:
    dispatcher = _dispatcher(request)
    if dispatcher is None:
        return await _originals["async"](self, request)
    return _to_httpx(dispatcher(_to_api_request(request, await request.aread())), request)


def _dispatcher(request: Any) -> Any:
    import httpx

    url = request.url
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        return dispatcher_for(url.host, port)
    except UnmatchedHostError as refused:
        raise httpx.ConnectError(str(refused), request=request) from refused


def _to_api_request(request: Any, body: bytes) -> ApiRequest:
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    return ApiRequest(
        method=request.method,
        path=path,
        query=query,
        headers=dict(request.headers.items()),
        body=body,
        host=request.url.host,
    )


def _to_httpx(response: ApiResponse, request: Any) -> Any:
    import httpx

    return httpx.Response(
        status_code=response.status,
        headers=list(response.headers.items()),
        content=response.body,
        request=request,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode("utf-8", "replace")},
    )
