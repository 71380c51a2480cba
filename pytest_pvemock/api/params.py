"""Raw parameters of a request, collected as pveproxy collects them, before the schema checks them.

PVE merges three sources: the body of a POST/PUT (``application/x-www-form-urlencoded`` as proxmoxer sends it,
or ``application/json``), the query string (which wins over the body), and the path's template parameters
(which must not disagree with the others). A repeated key becomes a list; a key without a value is dropped,
as ``decode_urlencoded`` leaves it undefined; ``_dc`` (ExtJS's cache buster) is removed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from pytest_pvemock import json_nesting
from pytest_pvemock.errors import ParameterError, PVEError

RawParams = dict[str, Any]


def decode_urlencoded(data: str) -> RawParams:
    """``a=1&b=2;a=3`` -> ``{"a": ["1", "3"], "b": "2"}``, with PVE's rules (``;`` separates too)."""
    result: RawParams = {}
    if not data:
        return result
    for pair in data.replace(";", "&").split("&"):
        if not pair:
            continue
        key, sep, rest = pair.partition("=")
        key = unquote_plus(key)
        value_text = rest.split("=", 1)[0]  # Perl's split(/=/) keeps only the text up to the next '='
        if not sep or not value_text:
            result.setdefault(key, None)
            continue
        value = unquote_plus(value_text)
        old = result.get(key)
        if old is None:
            result[key] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            result[key] = [old, value]
    return {key: value for key, value in result.items() if value is not None}


def is_json(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == "application/json"


def body_params(method: str, body: bytes, content_type: str | None) -> RawParams:
    """Parameters carried by the body (only POST and PUT have one)."""
    if method not in ("POST", "PUT") or not body:
        return {}
    if is_json(content_type):
        try:
            decoded = json_nesting.loads(body)
        except json_nesting.NestingError as exc:  # JSON::XS's max_depth (512), not Python's RecursionError
            raise PVEError(str(exc)) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise PVEError(f"malformed JSON string: {exc}") from None
        if not isinstance(decoded, dict):
            raise PVEError("Not a HASH reference")
        return {key: value for key, value in decoded.items() if value is not None}
    return decode_urlencoded(body.decode("utf-8", errors="replace"))


def collect(
    method: str, query: str, body: bytes, content_type: str | None, path_params: dict[str, str] | None
) -> RawParams:
    """All raw parameters of a request: body, then query (overriding), then the path's parameters."""
    params = body_params(method, body, content_type)
    if query:
        params.update(decode_urlencoded(query))
    params.pop("_dc", None)
    if path_params:
        for name, value in path_params.items():
            sent = params.get(name)
            if sent is not None and str(sent) != value:
                raise ParameterError({name: "duplicate parameter (already defined in URI) with conflicting values!"})
            params[name] = value
    return params
