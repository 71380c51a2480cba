"""``validate_response``: check a PVE answer against the schema of its endpoint, for users and CI."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.schema.registry import get_registry

__all__ = ["SchemaValidationError", "validate_response"]


class SchemaValidationError(AssertionError):
    """An answer that does not match its endpoint's schema; the message names endpoint, pointer, expected, actual."""

    def __init__(self, message: str, endpoint: str = "", problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.problems = problems or []


def _strip_envelope(body: Any) -> Any:
    """PVE wraps every answer as ``{"data": ...}`` (sometimes with siblings such as ``total``)."""
    if isinstance(body, dict) and "data" in body and set(body) <= {"data", "total", "changes", "success", "message"}:
        return body["data"]
    return body


def validate_response(method: str, path: str, body: Any, pve_version: str = "9.1") -> None:
    """Raise :class:`SchemaValidationError` unless ``body`` is a valid answer of ``method path`` in ``pve_version``.

    ``path`` is a concrete API path, with or without the ``/api2/json`` prefix and query string; ``body`` is the
    decoded JSON, with or without the ``{"data": ...}`` envelope.
    """
    path = path.split("?", 1)[0]
    for prefix in ("/api2/json", "/api2/extjs"):
        if path.startswith(prefix + "/"):
            path = path[len(prefix) :]
    registry = get_registry(pve_version)
    endpoint = registry.resolve(method, path)
    if endpoint is None:
        raise SchemaValidationError(
            f"PVE {pve_version} has no endpoint {method.upper()} {path}", endpoint=f"{method.upper()} {path}"
        )
    name = f"{endpoint.method} {endpoint.template}"
    problems = endpoint.validate_returns(_strip_envelope(body))
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise SchemaValidationError(
            f"{name} (PVE {pve_version}, path {path}): the answer does not match the schema:\n{listed}",
            endpoint=name,
            problems=problems,
        )
