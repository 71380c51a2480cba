"""PVE's errors, for imports written before they moved to :mod:`pytest_pvemock.errors` (the bottom layer)."""

from __future__ import annotations

from pytest_pvemock.errors import ParameterError, PermissionDenied, PVEError

__all__ = ["PVEError", "ParameterError", "PermissionDenied"]
