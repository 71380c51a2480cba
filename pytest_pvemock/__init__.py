"""pytest-pvemock: a fake Proxmox VE cluster for tests.

Importing this package is cheap: nothing here loads a schema or a scenario. The public names below are
imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "FakeCluster": "pytest_pvemock.model.cluster",
    "PVEError": "pytest_pvemock.errors",
    "validate_response": "pytest_pvemock.schema.validation",
    "SchemaValidationError": "pytest_pvemock.schema.validation",
    "mock": "pytest_pvemock.mocking",
    "PveApi": "pytest_pvemock.api.app",
}

__all__ = ["FakeCluster", "PVEError", "PveApi", "SchemaValidationError", "__version__", "mock", "validate_response"]

if TYPE_CHECKING:
    from pytest_pvemock.api.app import PveApi
    from pytest_pvemock.errors import PVEError
    from pytest_pvemock.mocking import mock
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.schema.validation import SchemaValidationError, validate_response


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pytest_pvemock' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
