"""pytest-pvemock: a fake Proxmox VE cluster for tests.

Importing this package is cheap: nothing here loads a schema or a scenario. The public names below are
imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    # the fake cluster and PVE's errors
    "FakeCluster": "pytest_pvemock.model.cluster",
    "ClusterSpec": "pytest_pvemock.model.builders.spec",
    "spec_from_cluster": "pytest_pvemock.model.builders.spec",
    "PVEError": "pytest_pvemock.errors",
    "ParameterError": "pytest_pvemock.errors",
    "PermissionDenied": "pytest_pvemock.errors",
    # a cluster that lives: seeded events on its clock
    "Churn": "pytest_pvemock.model.churn",
    "ChurnSettings": "pytest_pvemock.model.churn",
    # patching clients in, serving HTTPS, recording
    "mock": "pytest_pvemock.mocking",
    "PveServer": "pytest_pvemock.transports.server",
    "open_cassette": "pytest_pvemock.transports.recording.recorder",
    "MethodPatch": "pytest_pvemock.transports.patching",
    # the API: one request in, one response out; who answers each method
    "PveApi": "pytest_pvemock.api.app",
    "ApiRequest": "pytest_pvemock.api.messages",
    "ApiResponse": "pytest_pvemock.api.messages",
    "HandlerContext": "pytest_pvemock.api.handler",
    "Router": "pytest_pvemock.api.router",
    "route_table": "pytest_pvemock.api.router",
    # PVE's schema
    "validate_response": "pytest_pvemock.schema.validation",
    "SchemaValidationError": "pytest_pvemock.schema.validation",
}

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "Churn",
    "ChurnSettings",
    "ClusterSpec",
    "FakeCluster",
    "HandlerContext",
    "MethodPatch",
    "PVEError",
    "ParameterError",
    "PermissionDenied",
    "PveApi",
    "PveServer",
    "Router",
    "SchemaValidationError",
    "__version__",
    "mock",
    "open_cassette",
    "route_table",
    "spec_from_cluster",
    "validate_response",
]

if TYPE_CHECKING:
    from pytest_pvemock.api.app import PveApi
    from pytest_pvemock.api.handler import HandlerContext
    from pytest_pvemock.api.messages import ApiRequest, ApiResponse
    from pytest_pvemock.api.router import Router, route_table
    from pytest_pvemock.errors import ParameterError, PermissionDenied, PVEError
    from pytest_pvemock.mocking import mock
    from pytest_pvemock.model.builders.spec import ClusterSpec, spec_from_cluster
    from pytest_pvemock.model.churn import Churn, ChurnSettings
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.schema.validation import SchemaValidationError, validate_response
    from pytest_pvemock.transports.patching import MethodPatch
    from pytest_pvemock.transports.recording.recorder import open_cassette
    from pytest_pvemock.transports.server import PveServer


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pytest_pvemock' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
