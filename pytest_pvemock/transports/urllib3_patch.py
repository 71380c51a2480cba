"""urllib3: the fake's hosts answered in-process, for ``PoolManager``, ``HTTPConnectionPool`` and ``urllib3.request``.

The patch point is ``HTTPConnectionPool.urlopen``, where every urllib3 request meets its pool's host and
port (``PoolManager`` and ``urllib3.request()`` end there too, and so does ``HTTPSConnectionPool``, which
inherits it). ``requests`` also sits on urllib3, but its adapter is patched one level higher (see
``requests_patch``), so a request sent with ``requests`` to a fake host is answered there and never reaches
this patch: nothing is answered twice.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.routing import UnmatchedHostError, dispatcher_for

_lock = threading.Lock()
_installs = 0
_originals: dict[str, Any] = {}


def install() -> None:
    """Patch ``HTTPConnectionPool.urlopen`` (once; each call must be matched by :func:`uninstall`)."""
    global _installs
    from urllib3.connectionpool import HTTPConnectionPool

    with _lock:
        _installs += 1
        if _installs == 1:
            _originals["urlopen"] = HTTPConnectionPool.urlopen
            HTTPConnectionPool.urlopen = _urlopen


def uninstall() -> None:
    """Undo one :func:`install`; the last one puts urllib3's own method back."""
    global _installs
    from urllib3.connectionpool import HTTPConnectionPool

    with _lock:
        if _installs == 0:
            return
        _installs -= 1
        if _installs == 0:
            HTTPConnectionPool.urlopen = _originals.pop("urlopen")


def is_installed() -> bool:
    return _installs > 0


def _urlopen(
    self: Any, method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None, *args: Any, **kw: Any
) -> Any:
    port = self.port or (443 if self.scheme == "https" else 80)
    try:
        dispatcher = dispatcher_for(self.host, port)
    except UnmatchedHostError as refused:
        from urllib3.exceptions import NewConnectionError

        raise NewConnectionError(None, str(refused)) from refused  # type: ignore[arg-type]
    if dispatcher is None:
        return _originals["urlopen"](self, method, url, body, headers, *args, **kw)
    request = _to_api_request(method, url, body, self.headers if headers is None else headers, self.host)
    return _to_urllib3(dispatcher(request), method, url, kw)


def _to_api_request(method: str, url: str, body: Any, headers: Mapping[str, str], host: str) -> ApiRequest:
    target = urlsplit(url)  # a path, or an absolute URL when sent through a proxy
    return ApiRequest(
        method=method.upper(),
        path=target.path or "/",
        query=target.query,
        headers=dict(headers),
        body=_body_bytes(body),
        host=host,
    )


def _body_bytes(body: Any) -> bytes:
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


def _to_urllib3(response: ApiResponse, method: str, url: str, kw: Mapping[str, Any]) -> Any:
    from urllib3 import HTTPResponse
    from urllib3._collections import HTTPHeaderDict

    headers = HTTPHeaderDict(response.headers)
    headers["Content-Length"] = str(len(response.body))
    return HTTPResponse(
        body=io.BytesIO(response.body),
        headers=headers,
        status=response.status,
        version=11,
        reason=response.reason,
        preload_content=kw.get("preload_content", True),
        decode_content=kw.get("decode_content", True),
        request_method=method,
        request_url=url,
    )
