"""Cassette files: vcrpy's layout, written so that a person can read and review them.

A cassette is vcrpy's ``{"version": 1, "interactions": [{"request": ..., "response": ...}]}``, in YAML (``.yaml``,
``.yml``) or JSON (``.json``), chosen by the file's suffix. Answers are stored decoded, with PVE's key order kept:
in YAML a JSON body is indented JSON in a block under ``body: {json_text: |- ...}`` (a person reads it like the
API's answer, and it loads 20 times faster than the same data as YAML mappings); in JSON files it is data under
``body: {json: ...}`` (also accepted in YAML). Compressed bodies are stored inflated, anything else stays text under
``string`` (or ``base64`` when it is binary). Plain vcrpy cassettes with ``body: {string: ...}`` load as well.
``Content-Length`` is derived from the body when the cassette is loaded.

:class:`CassetteFile` is the vcrpy persister; the scrubbing filters run on every interaction it writes, so no
secret reaches the disk even when a test fails half-way. Errors in a file name the file and the line.
"""

from __future__ import annotations

import base64
import copy
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from vcr.cassette import Cassette
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request

from pytest_pvemock import json_nesting, safe_yaml
from pytest_pvemock.cassette.filters import DEFAULT_FILTERS, InteractionFilter, apply_filters

try:  # libyaml makes loading a large cassette several times faster
    from yaml import CSafeDumper as _SafeDumper
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _SafeDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

CASSETTE_FORMAT_VERSION = 1
_DERIVED_HEADERS = ("content-length", "transfer-encoding", "content-encoding")
_BODY_KEYS = frozenset({"json_text", "json", "string", "base64"})


class CassetteFormatError(ValueError):
    """A cassette file that cannot be read; the message starts with ``path:line:``."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")


def is_json_cassette(path: str | Path) -> bool:
    return str(path).lower().endswith(".json")


# ---------------------------------------------------------------------------------------------------- reading


def _yaml_error_line(error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def parse_document(text: str, path: str | Path) -> Any:
    """The cassette file's data; syntax errors become :class:`CassetteFormatError` with the line."""
    if is_json_cassette(path):
        try:
            return json_nesting.loads(text)
        except json_nesting.NestingError as error:
            line = text.count("\n", 0, error.offset) + 1
            problem = f"not valid JSON: nested deeper than {json_nesting.MAX_DEPTH} levels"
            raise CassetteFormatError(path, line, problem) from None
        except json.JSONDecodeError as error:
            raise CassetteFormatError(path, error.lineno, f"not valid JSON: {error.msg}") from None
    try:
        return safe_yaml.load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error)
        raise CassetteFormatError(path, _yaml_error_line(error), f"not valid YAML: {problem}") from None


def interaction_lines(text: str, path: str | Path) -> list[int | None]:
    """The line on which each interaction starts (1-based), for messages that point into the file."""
    if is_json_cassette(path):
        lines: list[int | None] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip().startswith('"request"'):
                lines.append(number)
        return lines
    try:
        safe_yaml.check_limits(text)
        node = yaml.compose(text, Loader=_SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "interactions" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def line_of(lines: Sequence[int | None], index: int) -> int | None:
    return lines[index] if index < len(lines) else None


def _check_interaction(item: Any) -> str | None:
    """What is wrong with one interaction's structure, or ``None``."""
    if not isinstance(item, dict) or "request" not in item or "response" not in item:
        return "an interaction needs a 'request' and a 'response'"
    request, response = item["request"], item["response"]
    if not isinstance(request, dict) or not isinstance(request.get("method"), str) or "uri" not in request:
        return "the request needs a 'method' and a 'uri'"
    if not isinstance(response, dict) or not isinstance(response.get("status"), dict):
        return "the response needs a 'status' with a 'code'"
    if not isinstance(response["status"].get("code"), int):
        return "the response status needs an integer 'code'"
    body = response.get("body")
    if not isinstance(body, dict) or not (_BODY_KEYS & body.keys()):
        return "the response needs a 'body' with 'json_text', 'json', 'string' or 'base64'"
    return None


def checked_interactions(document: Any, path: str | Path, text: str) -> list[dict[str, Any]]:
    """The interactions of a parsed cassette, or :class:`CassetteFormatError` naming the first broken one."""
    if not isinstance(document, dict) or not isinstance(document.get("interactions"), list):
        raise CassetteFormatError(path, 1, "not a cassette: expected a mapping with a list under 'interactions'")
    interactions: list[dict[str, Any]] = document["interactions"]
    for index, item in enumerate(interactions):
        problem = _check_interaction(item)
        if problem:
            line = line_of(interaction_lines(text, path), index)
            raise CassetteFormatError(path, line, f"interaction {index + 1}: {problem}")
    return interactions


#: Largest body a recorded gzip or deflate answer may inflate to (a few KB of zeros inflate to gigabytes).
MAX_INFLATED = 64 * 1024 * 1024


def _inflate(data: bytes, encoding: str) -> bytes:
    """The body with its Content-Encoding undone; ``ValueError`` when it would exceed :data:`MAX_INFLATED`."""
    try:
        if encoding == "gzip":
            return _bounded_decompress(data, zlib.MAX_WBITS | 16)
        if encoding == "deflate":
            try:
                return _bounded_decompress(data, zlib.MAX_WBITS)
            except zlib.error:
                return _bounded_decompress(data, -zlib.MAX_WBITS)
    except zlib.error as error:
        raise ValueError(f"not valid {encoding} data: {error}") from None
    return data


def _bounded_decompress(data: bytes, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(data, MAX_INFLATED + 1)
    if len(out) > MAX_INFLATED or inflater.unconsumed_tail:
        raise ValueError(f"the body inflates to more than {MAX_INFLATED} bytes")
    if not inflater.eof:
        raise zlib.error("incomplete or truncated stream")
    return out


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def header_value(headers: dict[str, Any] | None, name: str) -> str | None:
    wanted = name.lower()
    for key, values in (headers or {}).items():
        if key.lower() == wanted:
            if isinstance(values, list):
                return str(values[0]) if values else None
            return str(values)
    return None


def response_bytes(response: dict[str, Any]) -> bytes:
    """The answer's body as the client receives it (compression undone)."""
    body = response.get("body") or {}
    if "json_text" in body:  # served compact, as PVE sends it
        return _compact(json_nesting.loads(body["json_text"]))
    if "json" in body:
        return _compact(body["json"])
    if "base64" in body:
        data = base64.b64decode(body["base64"])
    else:
        data = body.get("string") or b""
        if isinstance(data, str):
            data = data.encode("utf-8")
    encoding = (header_value(response.get("headers"), "Content-Encoding") or "").lower()
    return _inflate(data, encoding) if encoding in ("gzip", "deflate") else data


def response_document(response: dict[str, Any]) -> Any:
    """The answer's decoded JSON; raises ``ValueError`` when the body is not JSON."""
    body = response.get("body") or {}
    if "json_text" in body:
        return json_nesting.loads(body["json_text"])
    if "json" in body:
        return body["json"]
    return json_nesting.loads(response_bytes(response).decode("utf-8"))


def _without_derived_headers(headers: dict[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (headers or {}).items() if key.lower() not in _DERIVED_HEADERS}


def _replayable_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy's response dict (body bytes under ``string``) from the stored form."""
    data = response_bytes(response)
    headers = _without_derived_headers(response.get("headers"))
    headers["Content-Length"] = [str(len(data))]
    return {"status": response["status"], "headers": headers, "body": {"string": data}}


def _replayable_request(request: dict[str, Any]) -> Request:
    body = request.get("body")
    if isinstance(body, dict) and "json" in body:
        body = json.dumps(body["json"], separators=(",", ":"))
    return Request(request["method"], request["uri"], body, request.get("headers") or {})


# ---------------------------------------------------------------------------------------------------- writing


def _readable_body(data: Any, content_type: str) -> dict[str, Any]:
    if data is None:
        return {"string": ""}
    raw: bytes = data.encode("utf-8") if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}
    stripped = text.lstrip()
    if "json" in content_type or stripped.startswith(("{", "[")):
        try:
            return {"json": json_nesting.loads(text)}
        except ValueError:
            pass
    return {"string": text}


def readable_response(response: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a vcrpy response dict: decoded, decompressed, derived headers left out."""
    content_type = (header_value(response.get("headers"), "Content-Type") or "").lower()
    body = response.get("body") or {}
    if _BODY_KEYS - {"string"} & body.keys():
        readable_body = body
    else:
        readable_body = _readable_body(response_bytes(response), content_type)
    return {
        "status": response["status"],
        "headers": _without_derived_headers(response.get("headers")),
        "body": readable_body,
    }


def readable_request(request: dict[str, Any]) -> dict[str, Any]:
    body = request.get("body")
    if isinstance(body, bytes):
        raw = body
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body = {"base64": base64.b64encode(raw).decode("ascii")}
    headers = _without_derived_headers(request.get("headers"))
    return {"method": request["method"], "uri": request["uri"], "body": body, "headers": headers}


def _interaction_dict(request: Request | dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    request_dict = request._to_dict() if isinstance(request, Request) else copy.deepcopy(request)
    body = request_dict.get("body")
    if body is not None and hasattr(body, "read"):
        request_dict["body"] = body.read()
    elif body is not None and not isinstance(body, (bytes, str)):
        request_dict["body"] = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in body)
    return {"request": request_dict, "response": copy.deepcopy(response)}


class _CassetteDumper(_SafeDumper):
    """Block scalars for text with line breaks (the JSON bodies), and no anchors: every answer reads on its own."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: _CassetteDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text and not any(line != line.rstrip() for line in text.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_CassetteDumper.add_representer(str, _represent_text)


def _with_json_text(interaction: dict[str, Any]) -> dict[str, Any]:
    body = interaction["response"]["body"]
    if "json" not in body:
        return interaction
    text = json.dumps(body["json"], indent=2, ensure_ascii=False)
    response = {**interaction["response"], "body": {"json_text": text}}
    return {**interaction, "response": response}


def dump_document(document: dict[str, Any], path: str | Path) -> str:
    if is_json_cassette(path):
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    document = {**document, "interactions": [_with_json_text(item) for item in document["interactions"]]}
    return yaml.dump(
        document, Dumper=_CassetteDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120
    )


@dataclass
class CassetteFile:
    """vcrpy persister for readable, scrubbed cassettes (``vcr`` calls ``load_cassette`` and ``save_cassette``)."""

    filters: Sequence[InteractionFilter] = DEFAULT_FILTERS

    def load_cassette(self, cassette_path: str | Path, serializer: Any = None) -> tuple[Any, ...]:
        del serializer  # the format follows the file's suffix
        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            raise CassetteNotFoundError()
        document = parse_document(text, path)
        interactions = checked_interactions(document, path, text)
        requests, responses = [], []
        for index, item in enumerate(interactions):
            try:
                requests.append(_replayable_request(item["request"]))
                responses.append(_replayable_response(item["response"]))
            except ValueError as error:
                line = line_of(interaction_lines(text, path), index)
                raise CassetteFormatError(path, line, f"interaction {index + 1}: unreadable body: {error}") from None
        metadata = document.get("metadata")
        # vcrpy 9 takes the cassette's metadata as a third value; older releases unpack exactly two
        return (
            (requests, responses, metadata) if metadata and hasattr(Cassette, "get_metadata") else (requests, responses)
        )

    def stored_interactions(self, requests: Iterable[Any], responses: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        stored = []
        pairs = list(zip(requests, responses, strict=True))
        learners = [learn for learn in (getattr(f, "learn", None) for f in self.filters) if callable(learn)]
        for learn in learners:  # filters that replace what they learnt everywhere learn it all before any is written
            for request, response in pairs:
                learn(_interaction_dict(request, response))
        for request, response in pairs:
            interaction = apply_filters(_interaction_dict(request, response), self.filters)
            if interaction is not None:
                stored.append(
                    {
                        "request": readable_request(interaction["request"]),
                        "response": readable_response(interaction["response"]),
                    }
                )
        return stored

    def save_cassette(self, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any = None) -> None:
        del serializer
        path = Path(cassette_path)
        document: dict[str, Any] = {
            "version": CASSETTE_FORMAT_VERSION,
            "interactions": self.stored_interactions(cassette_dict["requests"], cassette_dict["responses"]),
        }
        if cassette_dict.get("metadata"):
            document["metadata"] = cassette_dict["metadata"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_document(document, path), encoding="utf-8")
