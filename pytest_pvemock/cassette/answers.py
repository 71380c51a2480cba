"""The answers recorded in a cassette, as plain data: what validation and ``FakeCluster.from_cassette`` read.

Reads vcrpy cassettes in YAML or JSON, ours (``body: {json: ...}``) and plain vcrpy ones (``body: {string: ...}``,
compressed or not). Knows nothing of schemas or of the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pytest_pvemock.cassette.file_format import (
    CassetteFormatError,
    checked_interactions,
    interaction_lines,
    line_of,
    parse_document,
    response_document,
)

_API_PREFIX = re.compile(r"^/api2/(?:json|extjs)(?=/|$)")


@dataclass(frozen=True)
class RecordedAnswer:
    """One recorded request and its answer. ``path`` is the API path (``/nodes/pve1/qemu``), unescaped."""

    cassette: Path
    index: int
    line: int | None
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int
    document: Any
    decode_error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.cassette}:{self.line}" if self.line else f"{self.cassette} (interaction {self.index + 1})"

    @property
    def data(self) -> Any:
        return self.document.get("data") if isinstance(self.document, dict) else None

    @property
    def key(self) -> str:
        """``/path`` or ``/path?a=1&b=2`` (sorted): how :func:`answers_by_request` names an answer."""
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{name}={value}" for name, value in sorted(self.query))


def api_path(uri: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(uri)
    path = _API_PREFIX.sub("", unquote(parts.path)).rstrip("/") or "/"
    return path, tuple(parse_qsl(parts.query, keep_blank_values=True))


def read_answers(path: str | Path) -> list[RecordedAnswer]:
    """Every interaction of the cassette at ``path``; a broken file raises ``CassetteFormatError`` (file:line)."""
    cassette = Path(path)
    text = cassette.read_text(encoding="utf-8")
    document = parse_document(text, cassette)
    interactions = checked_interactions(document, cassette, text)
    lines = interaction_lines(text, cassette)
    answers = []
    for index, interaction in enumerate(interactions):
        request, response = interaction["request"], interaction["response"]
        api, query = api_path(str(request["uri"]))
        line = line_of(lines, index)
        try:
            decoded, error = response_document(response), None
        except (ValueError, UnicodeDecodeError) as exc:
            if {"json_text", "json"} & set(response["body"]):  # stored as JSON: it must be JSON
                raise CassetteFormatError(
                    cassette, line, f"interaction {index + 1}: invalid JSON body: {exc}"
                ) from None
            decoded, error = None, f"the answer is not JSON: {exc}"
        method = str(request["method"]).upper()
        answers.append(
            RecordedAnswer(cassette, index, line, method, api, query, int(response["status"]["code"]), decoded, error)
        )
    return answers


_VERSION = re.compile(r"^(\d+)\.(\d+)")


def recorded_pve_version(answers: Iterable[RecordedAnswer]) -> str | None:
    """``"8.4"`` from a recorded ``GET /version`` (``version`` ``8.4.1`` or ``7.2-3``, else ``release``)."""
    for answer in answers:
        if answer.method == "GET" and answer.path == "/version" and isinstance(answer.data, dict):
            for field in ("version", "release"):
                match = _VERSION.match(str(answer.data.get(field, "")))
                if match:
                    return f"{match[1]}.{match[2]}"
    return None


def answers_by_request(answers: Iterable[RecordedAnswer], method: str = "GET") -> dict[str, Any]:
    """The ``data`` of each successful answer to ``method``, keyed by :attr:`RecordedAnswer.key`; the last wins."""
    found: dict[str, Any] = {}
    for answer in answers:
        if answer.method == method and 200 <= answer.status < 300 and isinstance(answer.document, Mapping):
            found[answer.key] = answer.data
    return found
