"""How a request from a test finds its recorded answer: by what it means to PVE, not by its bytes.

Each matcher has vcrpy's signature ``matcher(r1, r2)`` on two ``vcr.request.Request`` objects and raises
``AssertionError`` with the difference, so they can be named in ``match_on`` beside vcrpy's own. What they compare:

- ``pve_path``: the URL path with percent-escapes decoded (``/nodes/pve1/qemu/100``), host and port ignored, so a
  recording made against ``pve1.lan:8006`` replays for any address the test uses;
- ``pve_query``: the query parameters as a multiset (order-free);
- ``pve_body``: the form or JSON body as parameters (order-free; ``1``, ``"1"`` and ``true`` mean the same),
  without the credentials of ``/access/ticket``, so a replayed login matches whatever user and password it sends.

Headers are never compared: they carry the authentication, which differs between recording and replay.
:func:`request_key` folds the same three into one hashable value, used to find answers without scanning.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pytest_pvemock.cassette.filters import SECRET_PARAMETERS, masked_parameters

# Parameters that only authenticate the caller: not compared, so that replay may use other credentials.
AUTH_PARAMETERS = SECRET_PARAMETERS | {"username", "realm"}

Parameters = tuple[tuple[str, str], ...]


def body_text(body: Any) -> str:
    if body is None:
        return ""
    if hasattr(body, "read"):  # vcrpy hands file bodies over as BytesIO
        position = body.tell()
        data = body.read()
        body.seek(position)
        body = data
    if isinstance(body, (list, tuple)):
        body = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in body)
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return str(body)


def _scalar_text(value: Any) -> str:
    if value is True:
        return "1"
    if value is False:
        return "0"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _json_parameters(document: Any) -> list[tuple[str, str]]:
    if not isinstance(document, dict):
        return [("", json.dumps(document, sort_keys=True))]
    pairs: list[tuple[str, str]] = []
    for name, value in document.items():
        if isinstance(value, list):
            pairs.extend((name, _scalar_text(item)) for item in value)
        else:
            pairs.append((name, _scalar_text(value)))
    return pairs


def body_parameters(body: Any) -> Parameters:
    """The body as sorted (name, value) pairs: a form, a JSON object, or the raw text under the name ``""``."""
    text = body_text(body)
    if not text.strip():
        return ()
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return tuple(sorted(_json_parameters(json.loads(text))))
        except ValueError:
            return (("", text),)
    if "=" in text:
        return tuple(sorted(parse_qsl(text, keep_blank_values=True)))
    return (("", text),)


def query_parameters(query: str) -> Parameters:
    return tuple(sorted(parse_qsl(query, keep_blank_values=True)))


def request_path(uri: str) -> str:
    path = unquote(urlsplit(uri).path) or "/"
    return path.rstrip("/") or "/"


def _without_auth(parameters: Parameters) -> Parameters:
    return tuple((name, value) for name, value in parameters if name not in AUTH_PARAMETERS)


def _query_of(request: Any) -> str:
    query: str = urlsplit(request.uri).query
    return query


def pve_path(r1: Any, r2: Any) -> None:
    left, right = request_path(r1.uri), request_path(r2.uri)
    if left != right:
        raise AssertionError(f"path {left} != {right}")


def _query(request: Any) -> Parameters:
    return masked_parameters(request.method, request.uri, query_parameters(_query_of(request)))


def _body(request: Any) -> Parameters:
    return _without_auth(masked_parameters(request.method, request.uri, body_parameters(request.body)))


def pve_query(r1: Any, r2: Any) -> None:
    left, right = _query(r1), _query(r2)
    if left != right:
        raise AssertionError(f"query {dict(left)} != {dict(right)}")


def pve_body(r1: Any, r2: Any) -> None:
    left, right = _body(r1), _body(r2)
    if left != right:
        raise AssertionError(f"body {dict(left)} != {dict(right)}")


PVE_MATCHERS = {"pve_path": pve_path, "pve_query": pve_query, "pve_body": pve_body}
DEFAULT_MATCH_ON = ("method", "pve_path", "pve_query", "pve_body")


RequestKey = tuple[str, str, Parameters, Parameters]  # method, path, query, body


def request_key(method: str, uri: str, body: Any) -> RequestKey:
    """What :data:`DEFAULT_MATCH_ON` compares, as one hashable value (secret values masked on both sides)."""
    return (
        method.upper(),
        request_path(uri),
        masked_parameters(method, uri, query_parameters(urlsplit(uri).query)),
        _without_auth(masked_parameters(method, uri, body_parameters(body))),
    )


def describe_request(method: str, uri: str, body: Any) -> str:
    """A readable, order-free rendering of what matching compares, one line per part; secrets never shown."""
    lines = [f"{method.upper()} {request_path(uri)}"]
    lines.extend(
        f"  query {name}={value}"
        for name, value in masked_parameters(method, uri, query_parameters(urlsplit(uri).query))
    )
    lines.extend(
        f"  body  {name}={value}"
        for name, value in _without_auth(masked_parameters(method, uri, body_parameters(body)))
    )
    return "\n".join(lines)
