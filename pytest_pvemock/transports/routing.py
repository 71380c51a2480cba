"""Which hosts the fake answers, shared by every in-process transport.

Each transport patch (requests, httpx, aiohttp, urllib3) asks :func:`dispatcher_for` whether a request's
host and port belong to a fake cluster. If one does, the request goes to that dispatcher in-process; if
none does, the request passes through to the network, or is refused when the user asked for that
(``refuse_other_hosts``), so a test cannot reach a real cluster by accident.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pytest_pvemock.api.messages import ApiRequest, ApiResponse

Dispatcher = Callable[[ApiRequest], ApiResponse]


class UnmatchedHostError(ConnectionError):
    """Raised by a transport for a host that no fake cluster answers while other hosts are refused."""

    def __init__(self, host: str, port: int | None, known: Iterable[str]) -> None:
        where = f"{host}:{port}" if port else host
        known_text = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"pytest-pvemock refused a request to {where}: no fake cluster answers there and other hosts are "
            f"refused (fake hosts: {known_text}). Point the client at the fake's url, or let other hosts through: "
            f"refuse_other_hosts=False (mock(), the pve_cluster marker, pve_cluster_factory) or, under pytest, "
            f"without --pvemock-refuse-other-hosts and the pvemock_refuse_other_hosts ini setting."
        )


@dataclass(frozen=True)
class _Route:
    host: str
    port: int | None
    dispatcher: Dispatcher


class HostTable:
    """The routes in force: (host, port) -> dispatcher, plus the policy for every other host."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._routes: list[_Route] = []
        self._refusing = 0
        self._let_through: list[tuple[str, int]] = []

    def add(self, host: str, port: int | None, dispatcher: Dispatcher) -> _Route:
        route = _Route(host.lower().strip("[]"), port, dispatcher)
        with self._lock:
            self._routes.append(route)
        return route

    def remove(self, route: _Route) -> None:
        with self._lock:
            self._routes.remove(route)

    def lookup(self, host: str, port: int | None) -> Dispatcher | None:
        wanted = host.lower().strip("[]")
        with self._lock:
            for route in reversed(self._routes):  # the newest registration wins
                if route.host == wanted and (route.port is None or port is None or route.port == port):
                    return route.dispatcher
        return None

    @property
    def active(self) -> bool:
        with self._lock:
            return bool(self._routes) or self._refusing > 0

    @property
    def refuses_other_hosts(self) -> bool:
        with self._lock:
            return self._refusing > 0

    def known_hosts(self) -> list[str]:
        with self._lock:
            return [f"{r.host}:{r.port}" if r.port else r.host for r in self._routes]

    def lets_through(self, host: str, port: int | None) -> bool:
        """Is ``host:port`` a real server of the fake's own (:meth:`letting_through`) that is never refused?"""
        wanted = host.lower().strip("[]")
        with self._lock:
            return any(wanted == known and port in (None, known_port) for known, known_port in self._let_through)

    @contextmanager
    def letting_through(self, host: str, port: int) -> Iterator[None]:
        """Never refuse ``host:port`` inside the block: the address of a fake's own HTTPS server."""
        entry = (host.lower().strip("[]"), port)
        with self._lock:
            self._let_through.append(entry)
        try:
            yield
        finally:
            with self._lock:
                self._let_through.remove(entry)

    @contextmanager
    def refusing_other_hosts(self) -> Iterator[None]:
        with self._lock:
            self._refusing += 1
        try:
            yield
        finally:
            with self._lock:
                self._refusing -= 1


HOSTS = HostTable()


def dispatcher_for(host: str, port: int | None) -> Dispatcher | None:
    """The dispatcher answering ``host:port``; ``None`` to pass through; raises when other hosts are refused."""
    dispatcher = HOSTS.lookup(host, port)
    if dispatcher is None and HOSTS.refuses_other_hosts and not HOSTS.lets_through(host, port):
        raise UnmatchedHostError(host, port, HOSTS.known_hosts())
    return dispatcher


@contextmanager
def routed(hosts: Iterable[str], port: int | None, dispatcher: Dispatcher) -> Iterator[None]:
    """Answer ``hosts`` (on ``port``, or any port when ``None``) with ``dispatcher`` inside the block."""
    routes = [HOSTS.add(host, port, dispatcher) for host in hosts]
    try:
        yield
    finally:
        for route in routes:
            HOSTS.remove(route)
