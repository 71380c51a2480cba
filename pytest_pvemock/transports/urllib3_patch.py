"""urllib3: the fake's hosts answered in-process, for ``PoolManager``, ``HTTPConnectionPool`` and ``urllib3.request``.

The patch point is ``HTTPConnectionPool.urlopen``, where every urllib3 request meets its pool's host and
port (``PoolManager`` and ``urllib3.request()`` end there too, and so does ``HTTPSConnectionPool``, which
inherits it). ``requests`` also sits on urllib3, but its adapter is patched one level higher (see
``requests_patch``), so a request sent with ``requests`` to a fake host is answered there and never reaches
this patch: nothing is answered twice.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from pytest_pvemock.api.messages import ApiResponse
from pytest_pvemock.transports.in_process import api_request, dispatcher_at
from pytest_pvemock.transports.patching import MethodPatch


def _urlopen(
    self: Any, method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None, *args: Any, **kw: Any
) -> Any:
    dispatcher = dispatcher_at(self.scheme, self.host, self.port, _connection_refused)
    if dispatcher is None:
        return _URLOPEN.original(self, method, url, body, headers, *args, **kw)
    request = api_request(method.upper(), url, dict(self.headers if headers is None else headers), body, self.host)
    return _to_urllib3(dispatcher(request), method, url, kw)


_URLOPEN = MethodPatch("urllib3.connectionpool.HTTPConnectionPool.urlopen", _urlopen)


def install() -> None:
    """Patch ``HTTPConnectionPool.urlopen`` (once; each call must be matched by :func:`uninstall`)."""
    _URLOPEN.install()


def uninstall() -> None:
    """Undo one :func:`install`; the last one puts urllib3's own method back."""
    _URLOPEN.uninstall()


def is_installed() -> bool:
    return _URLOPEN.installed


def _connection_refused(message: str) -> Exception:
    from urllib3.exceptions import NewConnectionError

    return NewConnectionError(None, message)  # type: ignore[arg-type]


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
