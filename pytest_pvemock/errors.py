"""PVE's error vocabulary, shaped like its own ``PVE::Exception``: the bottom layer, imported by every other.

The schema's parameter checks, the model and the API raise these. PVE's exceptions carry a numeric code that the
API turns into the response status (500 for a plain ``die``, 400 for parameter errors, 403 for permission checks,
595 for an unreachable node). Keeping that code on the exception lets the model say *what* PVE would say without
knowing how it is sent.
"""

from __future__ import annotations

__all__ = ["PVEError", "ParameterError", "PermissionDenied"]


class PVEError(Exception):
    """An error as PVE raises it: a message, a code (HTTP status) and optional per-parameter errors."""

    def __init__(self, message: str, code: int = 500, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.errors = errors

    def __repr__(self) -> str:
        return f"PVEError({self.message!r}, code={self.code}, errors={self.errors!r})"


class ParameterError(PVEError):
    """``Parameter verification failed.`` with one message per offending parameter (HTTP 400)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Parameter verification failed.", code=400, errors=errors)


class PermissionDenied(PVEError):
    """HTTP 403, as PVE's RPC environment raises it."""

    def __init__(self, message: str = "Permission check failed") -> None:
        super().__init__(message, code=403)
