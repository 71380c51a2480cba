"""httpx: the fake's hosts answered in-process, for ``httpx.Client`` and ``httpx.AsyncClient``.

The patch point is the one method each default transport uses to send a request:
``httpx.HTTPTransport.handle_request`` and ``httpx.AsyncHTTPTransport.handle_async_request``. Everything
above it (base URLs, params, auth, cookies, event hooks, ``raise_for_status``) stays httpx's own code, and a
client with a custom transport (``httpx.MockTransport``, respx) is left alone. Other hosts go to the real
transport unless other hosts are refused.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.in_process import dispatcher_at
from pytest_pvemock.transports.patching import MethodPatch


def _handle_request(self: Any, request: Any) -> Any:
    dispatcher = _dispatcher(request)
    if dispatcher is None:
        return _SYNC.original(self, request)
    return _to_httpx(dispatcher(_to_api_request(request, request.read())), request)


async def _handle_async_request(self: Any, request: Any) -> Any:
    dispatcher = _dispatcher(request)
    if dispatcher is None:
        return await _ASYNC.original(self, request)
    return _to_httpx(dispatcher(_to_api_request(request, await request.aread())), request)


_SYNC = MethodPatch("httpx.HTTPTransport.handle_request", _handle_request)
_ASYNC = MethodPatch("httpx.AsyncHTTPTransport.handle_async_request", _handle_async_request)


def install() -> None:
    """Patch httpx's transports (once; each call must be matched by :func:`uninstall`)."""
    _SYNC.install()
    _ASYNC.install()


def uninstall() -> None:
    """Undo one :func:`install`; the last one puts httpx's own methods back."""
    _SYNC.uninstall()
    _ASYNC.uninstall()


def is_installed() -> bool:
    return _SYNC.installed


def _dispatcher(request: Any) -> Any:
    import httpx

    url = request.url
    return dispatcher_at(url.scheme, url.host, url.port, lambda refused: httpx.ConnectError(refused, request=request))


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
