"""The run-time schema registry: which PVE releases exist, and (method, concrete path) -> endpoint template,
parameters and compiled validators for one of them.

:func:`resolve_release` is the one place a version given by a user (``FakeCluster(version=...)``, the marker, the
options, the CLI) becomes a release: ``8.2.5`` (a release), ``8.2`` (its last release), ``8`` (its newest) or
``latest``. The releases are those of ``third_party/pve-api/INDEX.json``.

Loading is lazy: ``get_registry`` reads the release's schema from the pack (once per process, shared by the
releases that carry the same schema) and builds the routing table; a template's JSON Schemas are converted the
first time one of its endpoints is used (``build.template_body``, the same code ``pvemock schemas build`` writes
files with), and the compiled return validator is cached on the method.

Routing follows PVE's router: a path is split on ``/`` (each segment is then percent-decoded, so a volume id
like ``local:iso%2Fx.iso`` stays one segment), a static segment beats a ``{param}`` segment at the same depth,
and a parameter segment takes any non-empty text (UPIDs carry ``:``, ``!`` and ``@``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote

from pytest_pvemock.schema.files import apidoc_tree, release_index

__all__ = [
    "Endpoint",
    "MethodSchema",
    "Release",
    "SchemaRegistry",
    "UnknownRelease",
    "get_registry",
    "known_releases",
    "resolve_release",
    "supported_release",
]

_RELEASE = re.compile(r"^(\d+)\.(\d+)[.-](\d+)$")


class UnknownRelease(LookupError, ValueError):
    """A version that names no release in INDEX.json; the message lists what may be given."""


@dataclass(frozen=True)
class Release:
    """One Proxmox VE release as INDEX.json lists it (pve-docs' version, the commit that bumped it, its schema)."""

    version: str  # "8.2.5", or "7.2-3" as PVE 7 wrote it
    key: tuple[int, int, int]
    commit: str
    date: str
    file: str
    methods: int

    @property
    def major(self) -> int:
        return self.key[0]

    @property
    def minor(self) -> str:
        """The release series, ``"8.2"``: what PVE answers as ``release`` in ``GET /version``."""
        return f"{self.key[0]}.{self.key[1]}"

    @property
    def repoid(self) -> str:
        """The first 16 hex digits of the release's commit (INDEX.json), as ``GET /version`` answers a repoid."""
        return self.commit[:16]

    def at_least(self, version: str) -> bool:
        """Whether this release is ``version`` (``"8.0.8"``, ``"9.0"``, ``"9"``) or newer."""
        wanted = tuple(int(part) for part in re.split(r"[.-]", version))
        return self.key[: len(wanted)] >= wanted


@cache
def known_releases() -> tuple[Release, ...]:
    """Every release of INDEX.json, oldest first."""
    releases = []
    for entry in release_index()["releases"]:
        match = _RELEASE.match(entry["version"])
        if match is None:
            raise ValueError(f"INDEX.json: release {entry['version']!r} is not MAJOR.MINOR.PATCH or MAJOR.MINOR-PATCH")
        key = (int(match[1]), int(match[2]), int(match[3]))
        releases.append(Release(entry["version"], key, entry["commit"], entry["date"], entry["file"], entry["methods"]))
    return tuple(sorted(releases, key=lambda release: release.key))


def resolve_release(version: str | float | int) -> Release:
    """The release ``version`` names: ``8.2.5`` (or ``7.2-3``), ``8.2`` (its last), ``8`` (its newest), ``latest``.

    Raises :class:`UnknownRelease` (a ``LookupError`` and a ``ValueError``) naming the accepted forms.
    """
    text = str(version).strip()
    releases = known_releases()
    if text == "latest":
        return releases[-1]
    found: list[Release] = []
    if re.fullmatch(r"\d+", text):
        found = [r for r in releases if r.key[0] == int(text)]
    elif re.fullmatch(r"\d+\.\d+", text):
        major, minor = (int(part) for part in text.split("."))
        found = [r for r in releases if r.key[:2] == (major, minor)]
    else:
        match = _RELEASE.match(text)
        if match is not None:
            key = (int(match[1]), int(match[2]), int(match[3]))
            found = [r for r in releases if r.key == key]
    if not found:
        raise UnknownRelease(
            f"PVE version {text!r} is not a known release: give a release ({releases[0].version} to "
            f"{releases[-1].version}), a minor such as 8.2 (its last release), a major such as 8 (its newest) "
            f"or latest; known minors: {', '.join(sorted({r.minor for r in releases}, key=_minor_key))}"
        )
    return found[-1]


def _minor_key(minor: str) -> tuple[int, ...]:
    return tuple(int(part) for part in minor.split("."))


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
            self._body = self.registry.template_body(self.template)["methods"][self.method]
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


class _ReleaseSchema:
    """One stored schema file, converted lazily: shared by every release that carries it."""

    def __init__(self, file_name: str) -> None:
        from pytest_pvemock.schema.build import iter_paths, template_entry

        self.file_name = file_name
        self.tree = apidoc_tree(file_name)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.paths: dict[str, dict[str, Any]] = {}
        for node in iter_paths(self.tree):
            self.nodes[node["path"]] = node
            self.paths[node["path"]] = template_entry(node)
        self._named: dict[str, Any] | None = None
        self._bodies: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def template_body(self, template: str) -> dict[str, Any]:
        found = self._bodies.get(template)
        if found is None:
            from pytest_pvemock.schema.build import template_body
            from pytest_pvemock.schema.named_property_formats import named_property_formats

            with self._lock:
                if self._named is None:
                    self._named = named_property_formats(self.tree)
                found = self._bodies.setdefault(template, template_body(self.nodes[template], self._named))
        return found


@cache
def _release_schema(file_name: str) -> _ReleaseSchema:
    return _ReleaseSchema(file_name)


class SchemaRegistry:
    """All endpoints of one PVE release (see :func:`get_registry`)."""

    def __init__(self, pve_version: str) -> None:
        self.release = resolve_release(pve_version)
        self.pve_version = self.release.version
        self._schema = _release_schema(self.release.file)
        self.source: dict[str, Any] = {"file": self.release.file, "pve_docs_commit": self.release.commit}
        self.paths: dict[str, dict[str, Any]] = self._schema.paths
        self._root = _Node()
        for template in self.paths:
            self._add_route(template)
        self._methods: dict[tuple[str, str], MethodSchema] = {}
        self._lock = threading.Lock()

    def template_body(self, template: str) -> dict[str, Any]:
        """The converted schemas of every method of ``template`` (what ``paths/<template>.json`` holds)."""
        return self._schema.template_body(template)

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
        segments = _whole_fragments([unquote(s) for s in _segments(path)])
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


def _whole_fragments(segments: list[str]) -> list[str]:
    """Methods registered with ``fragmentDelimiter => ''`` take the rest of the path as one parameter (pve-common
    RESTHandler.pm map_path_to_methods 416-423): pve-storage Status.pm 37 ``{storage}/content``, so
    ``.../content/local:iso/x.iso`` names the volume ``local:iso/x.iso``; pve-firewall src/PVE/API2/Firewall/IPSet.pm
    765-767, 814-816, 863-865 (at 6f1311f3) an IP set's ``{name}`` ("because CIDR address contain a slash"), so
    ``.../ipset/management/192.168.100.0/24`` names the entry ``192.168.100.0/24``."""
    if len(segments) > 6 and segments[0] == "nodes" and segments[2] == "storage" and segments[4] == "content":
        return [*segments[:5], "/".join(segments[5:])]
    if len(segments) > 5 and segments[:3] == ["cluster", "firewall", "ipset"]:
        return [*segments[:4], "/".join(segments[4:])]
    guest = len(segments) > 8 and segments[0] == "nodes" and segments[2] in ("qemu", "lxc")
    if guest and segments[4:6] == ["firewall", "ipset"]:
        return [*segments[:7], "/".join(segments[7:])]
    return segments


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
    """The release the fake speaks for ``version`` (``"8.2.5"`` for ``"8.2"``), or ``ValueError`` naming the forms.

    Every place that takes a PVE version from a user (scenario files, the ``pve_cluster`` marker, the
    ``--pvemock-pve-version`` option and its ini key, ``FakeCluster(version=...)``, the CLI) checks it here, through
    :func:`resolve_release`, so the versions accepted are decided in one place.
    """
    if isinstance(version, (str, int, float)) and not isinstance(version, bool):
        return resolve_release(version).version
    raise UnknownRelease(f"PVE version must be a release, a minor, a major or latest, not {version!r}")


def get_registry(pve_version: str = "latest") -> SchemaRegistry:
    """The registry of the release ``pve_version`` names (see :func:`resolve_release`), built once per process."""
    return _registry(resolve_release(pve_version).version)


@cache
def _registry(pve_version: str) -> SchemaRegistry:
    return SchemaRegistry(pve_version)
