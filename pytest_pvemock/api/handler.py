"""How a handler for one PVE API method is written and registered.

A handler is a plain function that takes a :class:`HandlerContext` and returns the value that goes into
``{"data": ...}`` (or a :class:`Result` when the envelope needs more, such as ``total`` on task lists).
It raises :class:`~pytest_pvemock.errors.PVEError` (or lets the model raise it) for PVE's errors.

    @handles("GET", "/nodes/{node}/qemu")
    def list_qemu(ctx: HandlerContext) -> list[dict[str, Any]]:
        return [vm_list_entry(vm) for vm in ctx.cluster.guests_on(ctx.params["node"], "qemu")]

Paths are the schema's templates (``/nodes/{node}/qemu/{vmid}/status/current``), without ``/api2/json``.
Handlers live in ``api/handlers/<area>.py``, one module per area of the API (cluster, nodes, qemu, lxc,
storage, access, pools, tasks, ha, version); importing :mod:`pytest_pvemock.api.handlers` registers them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_pvemock.api.params import Upload
    from pytest_pvemock.model.cluster import FakeCluster


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``userid`` such as ``root@pam``, and ``tokenid`` (``"mytoken"``) for API tokens."""

    userid: str
    tokenid: str | None = None

    @property
    def authid(self) -> str:
        """``user@realm`` or ``user@realm!token``, as PVE writes it into UPIDs and ACLs."""
        return f"{self.userid}!{self.tokenid}" if self.tokenid else self.userid


@dataclass
class HandlerContext:
    """Everything a handler may use.

    ``params`` holds the path, query and body parameters merged, already checked against the method's
    ``parameters`` schema and converted to Python values (integers as ``int``, booleans as ``0``/``1``,
    numbers as ``float``); ``raw_params`` holds them as they arrived (strings).
    """

    cluster: FakeCluster
    method: str
    path: str
    template: str
    params: dict[str, Any]
    principal: Principal
    raw_params: dict[str, Any] = field(default_factory=dict)
    #: The file of a multipart upload (``POST .../upload``), read as pveproxy reads it.
    upload: Upload | None = None
    #: Runs another method of the API as the same principal (``method``, ``/nodes/...`` path, arguments) and answers
    #: its data, raising its error (pve-manager's ``execute`` batch); ``None`` where the API did not set it.
    call: Callable[[str, str, dict[str, Any]], Any] | None = None

    @property
    def entry_node(self) -> str:
        """The node answering a request PVE does not proxy, where its cluster-wide workers run: the first online node
        (the one a client reaches)."""
        nodes = [node for node in self.cluster.nodes if node.online] or list(self.cluster.nodes)
        return nodes[0].name


@dataclass
class Result:
    """A handler result that needs more than ``data``: extra top-level keys, or another HTTP status."""

    data: Any
    extra: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    #: A value equal for equal answers (a view's cache key, see ``api/views/cache.py``): the app encodes and
    #: validates an answer once for as long as its snapshot stays the same. ``None``: every answer is new.
    snapshot: Any = None


Handler = Callable[[HandlerContext], Any]

HANDLERS: dict[tuple[str, str], Handler] = {}
_generation = [0]


def declarations_generation() -> int:
    """A number that changes whenever a handler is registered or replaced (route tables are rebuilt then)."""
    return _generation[0]


def handles(method: str, template: str) -> Callable[[Handler], Handler]:
    """Register ``func`` as the handler of ``method`` on the schema path ``template``."""

    def register(func: Handler) -> Handler:
        key = (method.upper(), template)
        existing = HANDLERS.get(key)
        # A module imported twice (pytester's in-process runs drop and re-import modules) registers the same
        # function again; only a second, different function for one method is a mistake.
        if existing is not None and _origin(existing) != _origin(func):
            raise RuntimeError(f"two handlers for {method} {template}: {existing.__qualname__} and {func.__qualname__}")
        if existing is not func:
            HANDLERS[key] = func
            _generation[0] += 1
        return func

    return register


def _origin(func: Handler) -> tuple[str, str]:
    return (getattr(func, "__module__", ""), getattr(func, "__qualname__", ""))
