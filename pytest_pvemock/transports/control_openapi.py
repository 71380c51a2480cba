"""The OpenAPI 3.1 document of the control API, made from the route table that answers it (one source of truth).

Served at ``GET /pvemock-api/openapi.json``; every call of :data:`~.control_api.ROUTES` is in it with its path
parameters, query parameters, body and answer schemas, and the two ways to authenticate (root@pam's ticket
cookie with its CSRF header on writes, or an API token).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pytest_pvemock.transports.control_api import CONTROL_PREFIX, MAX_ADVANCE, ROUTES, ControlRoute

_NULLABLE_NUMBER = {"type": ["number", "null"]}
_NULLABLE_STRING = {"type": ["string", "null"]}

COMPONENTS: dict[str, Any] = {
    "Message": {
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string", "description": "what went wrong"}},
    },
    "Clock": {
        "type": "object",
        "required": ["now", "iso", "mode", "speed", "pending"],
        "properties": {
            "now": {"type": "integer", "description": "cluster time, epoch seconds"},
            "iso": {"type": "string", "description": "the same in ISO 8601, UTC"},
            "mode": {"type": "string", "enum": ["instant", "manual", "realtime"]},
            "speed": {**_NULLABLE_NUMBER, "description": "times wall time (realtime only)"},
            "pending": {"type": "integer", "description": "tasks and timers still to run"},
        },
    },
    "Loaded": {
        "allOf": [
            {"$ref": "#/components/schemas/Clock"},
            {
                "type": "object",
                "required": ["nodes", "guests"],
                "properties": {"nodes": {"type": "integer"}, "guests": {"type": "integer"}},
            },
        ]
    },
    "Node": {
        "type": "object",
        "required": ["node", "online", "power", "network", "ha_state"],
        "properties": {
            "node": {"type": "string"},
            "online": {"type": "boolean", "description": "reachable (powered and on the network)"},
            "power": {"type": "boolean"},
            "network": {"type": "boolean"},
            "ha_state": {**_NULLABLE_STRING, "description": "online, maintenance, unknown, fence, gone (HA only)"},
        },
    },
    "Guest": {
        "type": "object",
        "required": ["vmid", "node", "status", "ha_state"],
        "properties": {
            "vmid": {"type": "integer"},
            "node": {"type": "string"},
            "status": {"type": "string", "enum": ["running", "stopped", "paused", "suspended"]},
            "ha_state": _NULLABLE_STRING,
        },
    },
    "Request": {
        "type": "object",
        "required": ["time", "method", "path", "parameters", "status", "duration_ms"],
        "properties": {
            "time": {"type": "integer", "description": "cluster time when it was answered"},
            "method": {"type": "string"},
            "path": {"type": "string"},
            "parameters": {
                "type": "array",
                "description": "[name, value] pairs as sent; secrets are PVEMOCK-SCRUBBED",
                "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
            },
            "status": {"type": "integer"},
            "duration_ms": {"type": "number"},
        },
    },
    "Requests": {
        "type": "object",
        "required": ["requests"],
        "properties": {"requests": {"type": "array", "items": {"$ref": "#/components/schemas/Request"}}},
    },
    "Error": {
        "type": "object",
        "required": ["method", "path", "code", "message", "times", "used"],
        "properties": {
            "method": {"type": "string"},
            "path": {"type": "string"},
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "times": {"type": ["integer", "null"], "description": "uses left (null: until cleared)"},
            "used": {"type": "integer"},
        },
    },
    "Errors": {
        "type": "object",
        "required": ["errors"],
        "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}},
    },
    "Injected": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"$ref": "#/components/schemas/Error"}},
    },
    "Event": {
        "type": "object",
        "required": ["time", "kind", "target", "message"],
        "properties": {
            "time": {"type": "integer"},
            "kind": {"type": "string"},
            "target": {"type": "string"},
            "message": {"type": "string"},
        },
    },
    "Events": {
        "type": "object",
        "required": ["churn", "events"],
        "properties": {
            "churn": {"type": ["object", "null"], "description": "the churn's seed and rates (null: no churn)"},
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
        },
    },
}


@functools.lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(CONTROL_PREFIX + route.template, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pytest-pvemock control API",
            "version": "1",
            "description": "Drive the fake Proxmox VE cluster of `pvemock serve`: clock, node events, faults, "
            f"request log, scenarios. JSON in and out; `clock/advance` takes at most {MAX_ADVANCE} s per call.",
        },
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {
                "ticket": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "PVEAuthCookie",
                    "description": "root@pam's ticket (POST /api2/json/access/ticket); writes also need "
                    "the CSRFPreventionToken header",
                },
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "PVEAPIToken=root@pam!TOKENID=SECRET",
                },
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The control API's OpenAPI 3.1 document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())


def _operation(route: ControlRoute) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{route.handler.__name__}",
        "summary": route.summary,
        "tags": [route.tag],
        "responses": {"200": {"description": "done", "content": {route.answer_type: {"schema": route.answer}}}},
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in route.path_parameters
    ]
    parameters += [
        {"name": query.name, "in": "query", "required": False, "schema": query.schema, "description": query.description}
        for query in route.query
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        required = route.body_type != "application/json" or bool(route.body.get("required"))
        operation["requestBody"] = {"required": required, "content": {route.body_type: {"schema": route.body}}}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}}
    operation["responses"]["400"] = {"description": "a bad parameter or body", **error}
    if route.public:
        operation["security"] = []
    else:
        operation["security"] = [{"ticket": []}, {"token": []}]
        operation["responses"]["401"] = {"description": "no or a bad ticket or token", **error}
        operation["responses"]["403"] = {"description": "not root@pam", **error}
    if route.path_parameters:
        operation["responses"]["404"] = {"description": "no such node or guest", **error}
    return operation
