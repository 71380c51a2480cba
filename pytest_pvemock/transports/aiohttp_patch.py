"""aiohttp: the fake's hosts answered in-process, for ``aiohttp.ClientSession``.

The patch point is ``ClientSession._request``, the coroutine behind ``get``/``post``/``request`` and their
``async with`` forms. For a fake host it does what aiohttp does before the network (base URL, params,
default headers, ``auth``, the cookie jar, ``json=``/``data=`` bodies through aiohttp's own payloads), asks
the API, and returns a real ``aiohttp.ClientResponse`` with its body already received, so ``.status``,
``.reason``, ``.json()``, ``.text()``, ``.read()``, ``.content``, ``.cookies``, ``raise_for_status()`` and the
session's cookie jar behave as they do against a server. Other hosts go to aiohttp's own code unless
other hosts are refused.
"""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.in_process import dispatcher_at
from pytest_pvemock.transports.patching import MethodPatch


async def _request(self: Any, method: str, str_or_url: Any, **kwargs: Any) -> Any:
    import aiohttp

    url = self._build_url(str_or_url)
    dispatcher = dispatcher_at(url.scheme, url.host or "", url.port, aiohttp.ClientConnectionError)
    if dispatcher is None:
        return await _REQUEST.original(self, method, str_or_url, **kwargs)
    if self.closed:
        raise RuntimeError("Session is closed")
    return await _answer(self, dispatcher, method.upper(), url, kwargs)


_REQUEST = MethodPatch("aiohttp.ClientSession._request", _request)


def install() -> None:
    """Patch ``ClientSession._request`` (once; each call must be matched by :func:`uninstall`)."""
    _REQUEST.install()


def uninstall() -> None:
    """Undo one :func:`install`; the last one puts aiohttp's own method back."""
    _REQUEST.uninstall()


def is_installed() -> bool:
    return _REQUEST.installed


async def _answer(session: Any, dispatcher: Any, method: str, url: Any, kwargs: dict[str, Any]) -> Any:
    if kwargs.get("params"):
        url = url.extend_query(kwargs["params"])
    headers = session._prepare_headers(kwargs.get("headers"))
    body, content_type = await _encode_body(session, kwargs.get("data"), kwargs.get("json"))
    if content_type and "Content-Type" not in headers:
        headers["Content-Type"] = content_type
    _add_default_headers(headers, url, body)
    _add_auth(headers, kwargs.get("auth") or session.auth)
    _add_cookies(headers, session, url, kwargs.get("cookies"))
    request = ApiRequest(
        method=method,
        path=url.raw_path,
        query=url.raw_query_string,
        headers=dict(headers.items()),
        body=body,
        host=url.host or "",
    )
    response = _client_response(session, method, url, headers, dispatcher(request))
    session.cookie_jar.update_cookies(response.cookies, response.url)
    await _raise_for_status(response, kwargs.get("raise_for_status"), session)
    return response


async def _encode_body(session: Any, data: Any, json: Any) -> tuple[bytes, str | None]:
    from aiohttp import FormData, payload

    if data is not None and json is not None:
        raise ValueError("data and json parameters can not be used at the same time")
    if json is not None:
        data = payload.JsonPayload(json, dumps=session.json_serialize)
    if data is None:
        return b"", None
    if isinstance(data, (dict, list, tuple)) or type(data).__name__ in ("MultiDict", "MultiDictProxy"):
        data = FormData(data)
    if isinstance(data, FormData):
        data = data()
    if not isinstance(data, payload.Payload):
        data = payload.get_payload(data)
    sink = _BodySink()
    await data.write(sink)
    return b"".join(sink.chunks), data.content_type


class _BodySink:
    """Just enough of aiohttp's stream writer for a payload to write itself into bytes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.buffer_size = 0
        self.output_size = 0

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(chunk))

    async def write_eof(self, chunk: bytes = b"") -> None:
        self.chunks.append(bytes(chunk))

    async def drain(self) -> None:
        return None


def _add_default_headers(headers: Any, url: Any, body: bytes) -> None:
    from aiohttp.http import SERVER_SOFTWARE

    default_port = 443 if url.scheme == "https" else 80
    host = f"[{url.raw_host}]" if ":" in (url.raw_host or "") else url.raw_host
    headers.setdefault("Host", host if url.port in (None, default_port) else f"{host}:{url.port}")
    headers.setdefault("Accept", "*/*")
    headers.setdefault("Accept-Encoding", "gzip, deflate")
    headers.setdefault("User-Agent", SERVER_SOFTWARE)
    if body:
        headers["Content-Length"] = str(len(body))


def _add_auth(headers: Any, auth: Any) -> None:
    if auth is not None and "Authorization" not in headers:
        headers["Authorization"] = auth.encode()


def _add_cookies(headers: Any, session: Any, url: Any, cookies: Any) -> None:
    from http.cookies import BaseCookie, SimpleCookie

    jar = session.cookie_jar.filter_cookies(url)
    explicit = cookies.items() if hasattr(cookies, "items") else (cookies or ())
    for name, value in explicit:
        if isinstance(value, BaseCookie):
            jar.load(value)
        else:
            single = SimpleCookie()
            single[name] = value.value if hasattr(value, "value") else str(value)
            jar.load(single)
    if jar and "Cookie" not in headers:
        headers["Cookie"] = "; ".join(f"{morsel.key}={morsel.coded_value}" for morsel in jar.values())


def _client_response(session: Any, method: str, url: Any, request_headers: Any, answer: ApiResponse) -> Any:
    """A real ``ClientResponse`` whose status line, headers and whole body have already arrived."""
    from aiohttp import ClientResponse, HttpVersion11
    from aiohttp.base_protocol import BaseProtocol
    from aiohttp.client_reqrep import RequestInfo
    from aiohttp.helpers import TimerNoop
    from aiohttp.streams import StreamReader
    from multidict import CIMultiDict, CIMultiDictProxy

    loop = asyncio.get_running_loop()
    arguments: dict[str, Any] = {
        "writer": None,
        "continue100": None,
        "timer": TimerNoop(),
        "request_info": RequestInfo(url, method, CIMultiDictProxy(CIMultiDict(request_headers)), url),
        "traces": [],
        "loop": loop,
        "session": session,
        "stream_writer": SimpleNamespace(output_size=0),  # aiohttp >= 3.12: the request is already sent
    }
    accepted = inspect.signature(ClientResponse.__init__).parameters
    response = ClientResponse(method, url, **{k: v for k, v in arguments.items() if k in accepted})
    headers = CIMultiDict(answer.headers)
    headers["Content-Length"] = str(len(answer.body))
    response.version = HttpVersion11
    response.status = answer.status
    response.reason = answer.reason
    response._headers = CIMultiDictProxy(headers)
    response._raw_headers = tuple((k.encode(), v.encode()) for k, v in headers.items())
    cookie_headers = tuple(headers.getall("Set-Cookie", ()))
    if cookie_headers:
        response._raw_cookie_headers = cookie_headers
        if "_raw_cookie_headers" not in ClientResponse.__dict__:  # aiohttp < 3.12 parsed cookies eagerly
            for header in cookie_headers:
                response.cookies.load(header)
    content = StreamReader(BaseProtocol(loop), max(2**16, len(answer.body) + 1), loop=loop)
    content.feed_data(answer.body)
    content.feed_eof()
    response.content = content
    return response


async def _raise_for_status(response: Any, per_request: Any, session: Any) -> None:
    check = per_request if per_request is not None else getattr(session, "_raise_for_status", False)
    if check is True:
        response.raise_for_status()
    elif callable(check):
        await check(response)
