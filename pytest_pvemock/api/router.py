"""Who answers each method: one route table per PVE release, every route declared once.

A route is one ``(method, template)`` of PVE's schema and the function that answers it. The table of a release
is built from four sources, in no order of precedence, because no method may be declared twice
(:class:`DuplicateRoute` when one is):

- hand-written endpoints: ``@handles(method, template)`` in ``api/handlers/<area>.py`` (kind ``endpoint``);
- the stateful collections of :mod:`pytest_pvemock.api.collections` (kind ``collection``);
- every other documented method of the release gets its fallback (:mod:`pytest_pvemock.api.fallback`):
  an ``index`` listing, a ``task`` that ends OK on the clock, or a ``synthesised`` value from the schema.

A test replaces one method's answer with :meth:`FakeCluster.api_override
<pytest_pvemock.model.cluster.FakeCluster.api_override>` (kind ``override``); the :class:`Router` of each API over
that cluster asks the cluster's overrides first. ``pvemock routes`` prints a release's table, and
:meth:`Router.explain` says who answers one request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.handler import HANDLERS, Handler, HandlerContext, declarations_generation

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

__all__ = ["KINDS", "DuplicateRoute", "Route", "RouteTable", "Router", "route_table"]

#: What can answer a method, in the order ``pvemock routes`` counts them.
KINDS = ("endpoint", "collection", "index", "task", "synthesised", "override")


class DuplicateRoute(RuntimeError):
    """Two declarations for one method: the route table refuses to build."""


@dataclass(frozen=True)
class Route:
    """``method template`` answered by ``answer`` (a function of :class:`HandlerContext`); ``source`` names it."""

    method: str
    template: str
    kind: str
    answer: Handler
    source: str

    def describe(self) -> str:
        """``GET /access/domains -> collection Keyed('/access/domains', 'realm'): keyed_list``."""
        return f"{self.method} {self.template} -> {self.kind} {self.source}"


@dataclass(frozen=True)
class _CollectionAnswer:
    """A collection's action as a route's answer: the path's guest or storage must exist, writes need quorum."""

    action: Callable[[HandlerContext, Any], Any]

    def __call__(self, ctx: HandlerContext) -> Any:
        from pytest_pvemock.api.fallback import endpoint_of, require_what_the_path_names

        endpoint = endpoint_of(ctx)
        require_what_the_path_names(ctx)
        if ctx.method != "GET":
            ctx.cluster.require_quorum()  # config files live in pmxcfs, read-only without quorum
        return self.action(ctx, endpoint)


def declared_routes() -> list[Route]:
    """Every route declared by hand (endpoints and collections), whatever the release; duplicates refused."""
    from pytest_pvemock.api import handlers
    from pytest_pvemock.api.collections import collection_routes

    handlers.load_all()
    routes = [Route(method, template, "endpoint", func, _name(func)) for (method, template), func in HANDLERS.items()]
    routes += [
        Route(method, template, "collection", _CollectionAnswer(action), source)
        for method, template, source, action in collection_routes()
    ]
    seen: dict[tuple[str, str], Route] = {}
    for route in routes:
        key = (route.method, route.template)
        if key in seen:
            first = seen[key].source
            raise DuplicateRoute(f"{route.method} {route.template} is declared twice: {first} and {route.source}")
        seen[key] = route
    return routes


class RouteTable:
    """The routes of one PVE release: ``(method, template) -> Route`` for every documented method."""

    def __init__(self, version: str, routes: dict[tuple[str, str], Route]) -> None:
        self.version = version
        self._routes = routes

    def get(self, method: str, template: str) -> Route | None:
        """The route of ``method template``, or ``None`` when the release does not document that method."""
        return self._routes.get((method, template))

    def __iter__(self) -> Iterator[Route]:
        return iter(sorted(self._routes.values(), key=lambda route: (route.template, route.method)))

    def __len__(self) -> int:
        return len(self._routes)

    def explain(self, method: str, path: str) -> str:
        """Who answers ``method path`` (a concrete path or a template) in this release, as one line."""
        return _explain(self, method, path)

    def counts(self) -> dict[str, int]:
        """How many methods each kind of route answers (``{"endpoint": 70, "collection": 180, ...}``)."""
        counts = dict.fromkeys(KINDS[:-1], 0)
        for route in self._routes.values():
            counts[route.kind] += 1
        return counts


def route_table(version: str) -> RouteTable:
    """The route table of PVE ``version`` ("8.4", "9.1"), built once (and again when endpoints are declared)."""
    from pytest_pvemock.api import handlers

    handlers.load_all()
    return _build(version, declarations_generation())


@functools.lru_cache(maxsize=8)
def _build(version: str, generation: int) -> RouteTable:
    from pytest_pvemock.api.fallback import FALLBACK_ANSWERS, fallback_kind
    from pytest_pvemock.schema.registry import get_registry

    registry = get_registry(version)
    documented = registry.endpoints()
    declared = {(route.method, route.template): route for route in declared_routes()}
    routes: dict[tuple[str, str], Route] = {}
    for method, template in documented:
        route = declared.get((method, template))
        if route is None:
            kind = fallback_kind(registry, method, template)
            answer = FALLBACK_ANSWERS[kind]
            route = Route(method, template, kind, answer, _name(answer))
        routes[(method, template)] = route
    return RouteTable(version, routes)


class Router:
    """The routes of one API: the release's table, with the cluster's per-test overrides first."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self._table: RouteTable | None = None

    @property
    def table(self) -> RouteTable:
        """The route table of the cluster's PVE release."""
        if self._table is None:
            self._table = route_table(self.cluster.version)
        return self._table

    def route(self, method: str, template: str, path: str | None = None) -> Route | None:
        """Who answers ``method`` on ``template`` (``path``: the concrete path, for overrides of one path)."""
        overrides = self.cluster.api_overrides
        if overrides:
            callback = overrides.get((method, path or template)) or overrides.get((method, template))
            if callback is not None:
                return Route(method, template, "override", callback, _name(callback))
        return self.table.get(method, template)

    def explain(self, method: str, path: str) -> str:
        """Who answers ``method path`` (a concrete path or a template) on this cluster, as one line."""
        return _explain(self.table, method, path, self.route)


def _explain(
    table: RouteTable, method: str, path: str, route: Callable[[str, str, str], Route | None] | None = None
) -> str:
    from pytest_pvemock.schema.registry import get_registry

    method = method.upper()
    path = "/" + path.strip("/") if path.strip("/") else "/"
    endpoint = get_registry(table.version).resolve(method, path)
    if endpoint is None:
        return f"{method} {path} -> not documented in PVE {table.version}: 501 not implemented"
    found = route(method, endpoint.template, path) if route else table.get(method, endpoint.template)
    assert found is not None
    return found.describe()


def _name(func: Any) -> str:
    module = getattr(func, "__module__", None) or type(func).__module__
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}.{name}"
