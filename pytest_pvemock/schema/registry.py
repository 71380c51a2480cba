"""The run-time schema registry: (method, concrete path) -> endpoint template, parameters and compiled validators.

Loading is lazy: ``get_registry`` reads only ``index.json`` (templates, methods, children); the per-path file is
read the first time one of its endpoints is checked, and the compiled return validator is cached on the method.

Routing follows PVE's router: a path is split on ``/`` (each segment is then percent-decoded, so a volume id
like ``local:iso%2Fx.iso`` stays one segment), a static segment beats a ``{param}`` segment at the same depth,
and a parameter segment takes any non-empty text (UPIDs carry ``:``, ``!`` and ``@``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote

from pytest_pvemock.schema.files import SUPPORTED_VERSIONS, load_json, schema_dir

__all__ = ["Endpoint", "MethodSchema", "SchemaRegistry", "get_registry", "supported_release"]

_NOT_COMPILED = object()


class MethodSchema:
    """One method of one template: metadata and schemas, loaded on first use; validators compiled once."""

    def __init__(self, registry: SchemaRegistry, method: str, template: str) -> None:
        self.registry = registry
        self.method = method
        self.template = template
        self._body: dict[str, Any] | None = None
        self._returns_validator: Any = None
        self._returns_checker: Any = _NOT_COMPILED
        self._lock = threading.Lock()

    @property
    def body(self) -> dict[str, Any]:
        if self._body is None:
            file_name = self.registry.paths[self.template]["file"]
            self._body = load_json(self.registry.directory / file_name)["methods"][self.method]
        return self._body

    @property
    def info(self) -> dict[str, Any]:
        """PVE's method metadata: name, description, permissions, protected, proxyto, allowtoken, ..."""
        return {k: v for k, v in self.body.items() if k not in ("parameters", "returns")}

    @property
    def parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = self.body["parameters"]
        return parameters

    @property
    def returns(self) -> dict[str, Any]:
        returns: dict[str, Any] = self.body["returns"]
        return returns

    def returns_validator(self) -> Any:
        if self._returns_validator is None:
            with self._lock:
                if self._returns_validator is None:
                    from pytest_pvemock.schema.returns import compile_validator

                    self._returns_validator = compile_validator(self.returns)
        return self._returns_validator

    def returns_checker(self) -> Any:
        """The compiled yes/no check of the returns schema (``compiled_check.py``), ``None`` if it has none."""
        if self._returns_checker is _NOT_COMPILED:
            with self._lock:
                if self._returns_checker is _NOT_COMPILED:
                    from pytest_pvemock.schema.compiled_check import compile_checker

                    self._returns_checker = compile_checker(self.returns)
        return self._returns_checker


@dataclass(frozen=True)
class Endpoint:
    """A method on a template, as matched for one concrete path (``params`` holds the path's values)."""

    method: str
    template: str
    params: dict[str, str] = field(default_factory=dict)
    schema: MethodSchema | None = field(default=None, repr=False, compare=False)

    def _schema(self) -> MethodSchema:
        assert self.schema is not None
        return self.schema

    @property
    def info(self) -> dict[str, Any]:
        return self._schema().info

    @property
    def parameters_schema(self) -> dict[str, Any]:
        return self._schema().parameters

    @property
    def returns_schema(self) -> dict[str, Any]:
        return self._schema().returns

    def check_parameters(self, raw: Mapping[str, object]) -> dict[str, object]:
        """PVE's parameter verification of ``raw`` (path parameters included); converted values or ParameterError."""
        from pytest_pvemock.schema.parameters import check_parameters

        return check_parameters(self.parameters_schema, raw)

    def validate_returns(self, data: object) -> list[str]:
        """Problems of ``data`` (the value of ``"data"``, no envelope) against the method's returns schema.

        The compiled check answers first; only data it does not accept goes through the validator, which writes
        the report (so a valid answer costs a few microseconds per object, and messages stay the validator's).
        """
        from pytest_pvemock.schema.compiled_check import accepts
        from pytest_pvemock.schema.returns import describe_errors

        schema = self._schema()
        checker = schema.returns_checker()
        if checker is not None and accepts(checker, data):
            return []
        return describe_errors(schema.returns_validator(), data)


class _Node:
    __slots__ = ("params", "static", "template")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.params: dict[str, _Node] = {}  # parameter name -> subtree
        self.template: str | None = None


class SchemaRegistry:
    """All endpoints of one PVE version (see :func:`get_registry`)."""

    def __init__(self, pve_version: str) -> None:
        self.pve_version = pve_version
        self.directory = schema_dir(pve_version)
        index = load_json(self.directory / "index.json")
        self.source: dict[str, Any] = index["source"]
        self.paths: dict[str, dict[str, Any]] = index["paths"]
        self._root = _Node()
        for template in self.paths:
            self._add_route(template)
        self._methods: dict[tuple[str, str], MethodSchema] = {}
        self._lock = threading.Lock()

    def _add_route(self, template: str) -> None:
        node = self._root
        for segment in _segments(template):
            if segment.startswith("{") and segment.endswith("}"):
                node = node.params.setdefault(segment[1:-1], _Node())
            else:
                node = node.static.setdefault(segment, _Node())
        node.template = template

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The template matching a concrete path and the path's parameter values, or ``None``."""
        segments = [unquote(s) for s in _segments(path)]
        return _match(self._root, segments, 0, {})

    def _method_schema(self, method: str, template: str) -> MethodSchema:
        key = (method, template)
        found = self._methods.get(key)
        if found is None:
            with self._lock:
                found = self._methods.setdefault(key, MethodSchema(self, method, template))
        return found

    def resolve(self, method: str, path: str) -> Endpoint | None:
        """The endpoint for ``method`` on a concrete path (no ``/api2/json`` prefix), or ``None``."""
        matched = self.match(path)
        if matched is None:
            return None
        template, params = matched
        method = method.upper()
        if method not in self.paths[template]["methods"]:
            return None
        return Endpoint(method, template, params, self._method_schema(method, template))

    def endpoint(self, method: str, template: str) -> Endpoint:
        """The endpoint of a template as written in the schema (``KeyError`` if there is none)."""
        method = method.upper()
        if method not in self.paths[template]["methods"]:
            raise KeyError(f"{method} {template}")
        return Endpoint(method, template, {}, self._method_schema(method, template))

    def methods_for(self, path: str) -> set[str]:
        """The methods the template matching ``path`` has (empty when no template matches)."""
        matched = self.match(path)
        return set(self.paths[matched[0]]["methods"]) if matched else set()

    def endpoints(self) -> list[tuple[str, str]]:
        """Every ``(method, template)``, sorted by template then method."""
        return [(method, template) for template in sorted(self.paths) for method in self.paths[template]["methods"]]

    def templates(self) -> list[str]:
        return sorted(self.paths)

    def children(self, template: str) -> list[str]:
        """The child templates of ``template`` (what a PVE index listing enumerates)."""
        return list(self.paths[template]["children"])


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment != ""]


def _match(node: _Node, segments: list[str], depth: int, params: dict[str, str]) -> tuple[str, dict[str, str]] | None:
    if depth == len(segments):
        return (node.template, dict(params)) if node.template is not None else None
    segment = segments[depth]
    static = node.static.get(segment)
    if static is not None:
        found = _match(static, segments, depth + 1, params)
        if found is not None:
            return found
    for name, child in sorted(node.params.items()):
        params[name] = segment
        found = _match(child, segments, depth + 1, params)
        del params[name]
        if found is not None:
            return found
    return None


def supported_release(version: object) -> str:
    """The release the fake speaks for ``version`` (``"9.1"``, ``"8.4"``), or ``ValueError`` naming the choices.

    Every place that takes a PVE version from a user (scenario files, the ``pve_cluster`` marker, the
    ``--pvemock-pve-version`` option and its ini key, ``FakeCluster(version=...)``) checks it here, so the
    versions accepted are decided in one place.
    """
    if isinstance(version, (str, int, float)) and not isinstance(version, bool) and str(version) in SUPPORTED_VERSIONS:
        return str(version)
    raise ValueError(f"PVE version must be one of {', '.join(SUPPORTED_VERSIONS)}, not {version!r}")


def get_registry(pve_version: str = "9.1") -> SchemaRegistry:
    """The registry of ``pve_version`` (``"9.1"`` or ``"8.4"``), built once per process."""
    return _registry(str(pve_version))


@cache
def _registry(pve_version: str) -> SchemaRegistry:
    return SchemaRegistry(pve_version)
