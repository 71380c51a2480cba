"""Raw parameters of a request, collected as pveproxy collects them, before the schema checks them.

PVE merges three sources: the body of a POST/PUT (``application/x-www-form-urlencoded`` as proxmoxer sends it,
or ``application/json``), the query string (which wins over the body), and the path's template parameters
(which must not disagree with the others). A repeated key becomes a list; a key without a value is dropped,
as ``decode_urlencoded`` leaves it undefined; ``_dc`` (ExtJS's cache buster) is removed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from pytest_pvemock import json_nesting
from pytest_pvemock.errors import ParameterError, PVEError

RawParams = dict[str, Any]

#: The one method that takes a file upload (pve-manager PVE/HTTPServer.pm 116: ``isUpload``).
UPLOAD_PATH = re.compile(r"^/nodes/[^/]+/storage/[^/]+/upload$")
#: The largest upload body read (pveproxy writes uploads to /var/tmp without a limit; the fake keeps them in
#: memory, so it bounds them).
MAX_UPLOAD = 64 * 1024 * 1024
#: The form fields pveproxy reads before the file, in its order (AnyEvent.pm file_upload_multipart 1316-1318).
_UPLOAD_FIELDS = ("content", "checksum-algorithm", "checksum")
_NEWLINE = rb"\r?\n"


@dataclass(frozen=True)
class Upload:
    """A file received with a multipart upload: pveproxy's temporary file name and its bytes."""

    tmpfilename: str
    data: bytes


def content_type_boundary(content_type: str | None) -> tuple[str, str | None]:
    """AnyEvent.pm ``parse_content_type`` 1378: the type and the ``boundary`` parameter (if any)."""
    parts = re.split(r"\s*[;,]\s*", content_type or "")
    for param in parts[1:]:
        match = re.match(r"^\s*boundary\s*=\s*(\S+?)\s*$", param)
        if match:
            return parts[0], match[1]
    return parts[0], None


def is_multipart(content_type: str | None) -> bool:
    kind, boundary = content_type_boundary(content_type)
    return kind == "multipart/form-data" and boundary is not None


def decode_upload(body: bytes, content_type: str | None, query: str, serial: int) -> tuple[RawParams, Upload]:
    """A multipart upload read as pveproxy reads it (pve-http-server src/PVE/APIServer/AnyEvent.pm
    ``file_upload_multipart`` 1280-1371 @5c9e4ea7): the query's parameters, then the form fields ``content``,
    ``checksum-algorithm`` and ``checksum``, then one file part, which must be named ``filename`` and whose
    ``filename=`` attribute becomes the parameter ``filename``. Errors are pveproxy's (HTTP 500)."""
    kind, boundary = content_type_boundary(content_type)
    if kind != "multipart/form-data" or boundary is None:
        raise PVEError(f"upload 'Content-Type '{content_type or ''}' not implemented")
    params = decode_urlencoded(query)
    if "tmpfilename" in params:
        raise PVEError("'tmpfilename' query parameter is not allowed for file uploads")
    mark = re.escape(boundary.encode("latin-1"))
    delim = rb"--" + mark + _NEWLINE
    start = re.search(delim, body)
    if start is None:
        raise PVEError("upload failed")
    rest = body[start.start() :]
    for name in _UPLOAD_FIELDS:
        field = re.match(
            delim + rb".*?Content-Disposition: (.*?); name=\"" + re.escape(name.encode()) + rb"\"(.*?)" + delim,
            rest,
            re.DOTALL,
        )
        if field is None:
            continue
        _form_disposition(field[1])
        value_part = re.sub(rb"^.*?(?:\r?\n){2}", b"", field[2], count=1, flags=re.DOTALL)
        params[name] = value_part.decode("utf-8", errors="replace").strip()
        rest = rest[field.end(2) :]
    file_part = re.match(delim + rb"Content-Disposition: (.*?); name=\"(.*?)\"; filename=\"([^\"]+)\"", rest, re.DOTALL)
    if file_part is None:
        raise PVEError("upload failed")
    _form_disposition(file_part[1])
    if file_part[2] != b"filename":
        raise PVEError(
            f"wrong field name '{file_part[2].decode('utf-8', 'replace')}' for file upload, expected 'filename'"
        )
    params["filename"] = file_part[3].decode("utf-8", errors="replace").strip()
    data_start = re.match(rb".*?(?:\r?\n){2}", rest[file_part.end() :], re.DOTALL)
    if data_start is None:
        raise PVEError("upload failed")
    payload = rest[file_part.end() + data_start.end() :]
    end = re.search(rb"(?:\r?\n)?--" + mark + rb"--", payload)
    if end is None:
        raise PVEError("upload failed")
    name = "/var/tmp/pveupload-" + hashlib.md5(f"{serial}:{len(body)}".encode()).hexdigest()
    params["tmpfilename"] = name
    return params, Upload(name, payload[: end.start()])


def _form_disposition(disposition: bytes) -> None:
    """AnyEvent.pm ``assert_form_disposition`` 1275."""
    if disposition != b"form-data":
        text = disposition.decode("utf-8", errors="replace")
        raise PVEError(f"wrong Content-Disposition '{text}' in multipart, expected 'form-data'")


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
