"""Put a fake cluster on the wire: :func:`mock` routes its hosts to the API through every client library.

Works without pytest::

    from pytest_pvemock import FakeCluster, mock

    with mock(FakeCluster.default(), validate=True) as cluster:
        api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
        api.nodes.get()

Blocks nest: the innermost cluster answers a host that several blocks route. :class:`ClusterFactory` builds
clusters from scenarios and keeps each patched in until it is closed; the pytest fixtures are thin wrappers
around it.
"""

from __future__ import annotations

import ipaddress
from contextlib import ExitStack
from dataclasses import fields
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.app import PveApi
from pytest_pvemock.cluster_options import MARKER_KEYS, ClusterOptions, checked_option
from pytest_pvemock.model.ha.chaos import chaos_settings
from pytest_pvemock.transports.install import installed
from pytest_pvemock.transports.routing import HOSTS, routed

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

__all__ = ["MARKER_KEYS", "ClusterFactory", "ClusterOptions", "PveMock", "build_cluster", "mock"]


class PveMock:
    """One cluster patched in: its hosts on its port answered by a :class:`PveApi` (``.api``)."""

    def __init__(self, cluster: FakeCluster, *, validate: bool = False, refuse_other_hosts: bool = False) -> None:
        self.cluster = cluster
        self.api = PveApi(cluster, validate=validate)
        self.refuse_other_hosts = refuse_other_hosts
        self._stack: ExitStack | None = None

    @property
    def active(self) -> bool:
        return self._stack is not None

    def start(self) -> FakeCluster:
        """Route the cluster's hosts to the fake until :meth:`stop`; returns the cluster."""
        if self._stack is not None:
            raise RuntimeError("this mock is already active; create another mock() to nest")
        stack = ExitStack()
        try:
            stack.enter_context(installed())
            stack.enter_context(routed(self.cluster.hosts, self.cluster.port, self.api.handle))
            if self.refuse_other_hosts:
                stack.enter_context(HOSTS.refusing_other_hosts())
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self.cluster

    def stop(self) -> None:
        """Stop answering the cluster's hosts (idempotent)."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def __enter__(self) -> FakeCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def mock(cluster: FakeCluster, *, validate: bool = False, refuse_other_hosts: bool = False) -> PveMock:
    """Answer ``cluster.hosts`` on ``cluster.port`` in-process inside a ``with`` block (or ``start()``/``stop()``).

    ``validate=True`` checks every answer against its ``returns`` schema and raises ``SchemaValidationError`` on
    a violation; ``refuse_other_hosts=True`` makes requests to any other host raise ``UnmatchedHostError``
    instead of reaching the network.
    """
    return PveMock(cluster, validate=validate, refuse_other_hosts=refuse_other_hosts)


class ClusterFactory:
    """Builds clusters from scenarios and patches each in until :meth:`close`.

    ``factory(scenario="single-node", version="8.4", task_mode="manual")`` returns a patched-in
    :class:`FakeCluster`; ``factory.patch(cluster)`` patches in one built by hand. Unset options come from
    ``defaults``. Every schema violation seen by its clusters is kept in :attr:`violations`.

    Clusters get distinct hosts: a cluster whose host another patched-in cluster already answers gets the next
    free name (``pve-2.test``, ``pve-3.test`` ...) unless the call names one (``host="lab.test"``); a host named
    that way, or a hand-built cluster's, that is already answered is an error.
    """

    def __init__(self, defaults: ClusterOptions | None = None) -> None:
        self.defaults = defaults or ClusterOptions()
        self.mocks: list[PveMock] = []
        self._closed_violations: list[Exception] = []

    def __call__(
        self,
        scenario: str | Path | None = None,
        *,
        version: str | None = None,
        task_mode: str | None = None,
        validate: bool | None = None,
        refuse_other_hosts: bool | None = None,
        ha_chaos: Any = None,
        timezone: str | None = None,
        **overrides: Any,
    ) -> FakeCluster:
        changes = ClusterOptions.check(
            (),
            {
                "scenario": scenario,
                "version": version,
                "task_mode": task_mode,
                "validate": validate,
                "refuse_other_hosts": refuse_other_hosts,
                "ha_chaos": ha_chaos,
                "timezone": timezone,
            },
            where="pve_cluster_factory",
        )
        options = self.defaults.updated(**changes)
        cluster = build_cluster(options, **overrides)
        if "host" not in overrides:
            cluster.host = _free_host(cluster.host, cluster.port)
        return self.patch(cluster, validate=options.validate, refuse_other_hosts=options.refuse_other_hosts)

    def patch(
        self, cluster: FakeCluster, *, validate: bool | None = None, refuse_other_hosts: bool | None = None
    ) -> FakeCluster:
        """Patch in a cluster built elsewhere (for example with ``FakeCluster(...)`` and its builder methods).

        Its host must not be one another patched-in cluster answers on the same port (``ValueError``).
        """
        if HOSTS.lookup(cluster.host, cluster.port) is not None:
            raise ValueError(
                f"host {cluster.host}:{cluster.port} already answers another fake cluster; give this one its own "
                f"host (FakeCluster(host=...), or host=... to the factory), or leave the host out and let the "
                f"factory pick a free one"
            )
        patched = PveMock(
            cluster,
            validate=self.defaults.validate if validate is None else validate,
            refuse_other_hosts=self.defaults.refuse_other_hosts if refuse_other_hosts is None else refuse_other_hosts,
        )
        patched.start()
        self.mocks.append(patched)
        return cluster

    def api_for(self, cluster: FakeCluster) -> PveApi:
        """The :class:`PveApi` answering ``cluster`` (to read its violations or set a fallback)."""
        for patched in self.mocks:
            if patched.cluster is cluster:
                return patched.api
        raise LookupError("this cluster was not made by this factory")

    @property
    def violations(self) -> list[Exception]:
        """Every schema violation its clusters answered with, including those of clusters already closed."""
        return self._closed_violations + [violation for patched in self.mocks for violation in patched.api.violations]

    def close(self) -> None:
        """Unpatch every cluster this factory made, newest first."""
        while self.mocks:
            patched = self.mocks.pop()
            patched.stop()
            self._closed_violations.extend(patched.api.violations)


def _free_host(host: str, port: int) -> str:
    """``host``, or the first of ``pve-2.test``, ``pve-3.test`` ... that no patched-in cluster answers on ``port``.

    An address is kept as it is: patching it in then fails on the clash, naming it.
    """
    if HOSTS.lookup(host, port) is None or _is_address(host):
        return host
    stem, dot, domain = host.partition(".")
    number = 2
    while HOSTS.lookup(f"{stem}-{number}{dot}{domain}", port) is not None:
        number += 1
    return f"{stem}-{number}{dot}{domain}"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def build_cluster(options: ClusterOptions, **overrides: Any) -> FakeCluster:
    """A cluster from ``options.scenario`` with the version, task mode, time zone and HA chaos the options name.

    The options are taken as checked (:meth:`ClusterOptions.check`): a value they carry that the scenario file
    would reject is the caller's fault, not the file's.
    """
    from pytest_pvemock.model.cluster import FakeCluster

    for option in fields(options):
        value = getattr(options, option.name)
        if value is not None:
            try:
                checked_option(option.name, value)
            except ValueError as error:
                raise ValueError(f"{option.name}: {error}") from None
    for key in ("version", "task_mode", "timezone"):
        if getattr(options, key) is not None:
            overrides.setdefault(key, getattr(options, key))
    cluster = FakeCluster.from_scenario(options.scenario, **overrides)
    if options.ha_chaos is not None:
        cluster.ha.enable_chaos(**chaos_settings(options.ha_chaos))
    return cluster
