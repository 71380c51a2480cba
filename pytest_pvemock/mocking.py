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

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.app import PveApi
from pytest_pvemock.model.ha.chaos import chaos_settings
from pytest_pvemock.model.time_zone import zone_info
from pytest_pvemock.transports.install import installed
from pytest_pvemock.transports.routing import HOSTS, routed

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


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


MARKER_KEYS = ("scenario", "version", "task_mode", "validate", "refuse_other_hosts", "ha_chaos", "timezone")


@dataclass(frozen=True)
class ClusterOptions:
    """How to build and patch in a cluster; ``None`` means the scenario's own choice."""

    scenario: str | Path = "default"
    version: str | None = None
    task_mode: str | None = None
    validate: bool = False
    refuse_other_hosts: bool = False
    #: Seeded HA faults from the start: a seed, or ``{"seed": 7, "rate": 0.3, "max_down": 1}``.
    ha_chaos: Any = None
    #: The servers' time zone (an IANA name), for the texts PVE writes in local time.
    timezone: str | None = None

    def updated(self, **changes: Any) -> ClusterOptions:
        """These options with every change that is not ``None`` applied."""
        return replace(self, **{key: value for key, value in changes.items() if value is not None})

    @classmethod
    def check(cls, args: Sequence[Any], kwargs: Mapping[str, Any], where: str = "pve_cluster marker") -> dict:
        """The changes named by ``args``/``kwargs`` (scenario may be positional), or ``ValueError`` saying why."""
        changes = dict(kwargs)
        if len(args) > 1:
            raise ValueError(f"{where}: takes at most one positional argument (the scenario), got {len(args)}")
        if args:
            if "scenario" in changes:
                raise ValueError(f"{where}: scenario given both positionally and by keyword")
            changes["scenario"] = args[0]
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(
                f"{where}: unknown argument(s) {', '.join(unknown)}; expected one of {', '.join(MARKER_KEYS)}"
            )
        for key in ("scenario", "version", "task_mode"):
            value = changes.get(key)
            if value is not None and not isinstance(value, (str, Path) if key == "scenario" else str):
                raise ValueError(f"{where}: {key} must be a string, not {value!r}")
        for key in ("validate", "refuse_other_hosts"):
            value = changes.get(key)
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"{where}: {key} must be True or False, not {value!r}")
        _check_model_option(changes, "ha_chaos", chaos_settings, where)
        _check_model_option(changes, "timezone", zone_info, where)
        return changes


def _check_model_option(changes: Mapping[str, Any], key: str, check: Any, where: str) -> None:
    if changes.get(key) is not None:
        try:
            check(changes[key])
        except ValueError as error:
            raise ValueError(f"{where}: {key}: {error}") from None


class ClusterFactory:
    """Builds clusters from scenarios and patches each in until :meth:`close`.

    ``factory(scenario="single-node", version="8.4", task_mode="manual")`` returns a patched-in
    :class:`FakeCluster`; ``factory.patch(cluster)`` patches in one built by hand. Unset options come from
    ``defaults``. Every schema violation seen by its clusters is kept in :attr:`violations`.
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
        options = self.defaults.updated(
            scenario=scenario,
            version=version,
            task_mode=task_mode,
            validate=validate,
            refuse_other_hosts=refuse_other_hosts,
            ha_chaos=ha_chaos,
            timezone=timezone,
        )
        return self.patch(
            build_cluster(options, **overrides),
            validate=options.validate,
            refuse_other_hosts=options.refuse_other_hosts,
        )

    def patch(
        self, cluster: FakeCluster, *, validate: bool | None = None, refuse_other_hosts: bool | None = None
    ) -> FakeCluster:
        """Patch in a cluster built elsewhere (for example with ``FakeCluster(...)`` and its builder methods)."""
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


def build_cluster(options: ClusterOptions, **overrides: Any) -> FakeCluster:
    """A cluster from ``options.scenario`` with the version, task mode, time zone and HA chaos the options name."""
    from pytest_pvemock.model.cluster import FakeCluster

    if options.timezone is not None:
        zone_info(options.timezone)  # a bad default zone is the option's fault, not the scenario file's
    for key in ("version", "task_mode", "timezone"):
        if getattr(options, key) is not None:
            overrides.setdefault(key, getattr(options, key))
    cluster = FakeCluster.from_scenario(options.scenario, **overrides)
    if options.ha_chaos is not None:
        cluster.ha.enable_chaos(**chaos_settings(options.ha_chaos))
    return cluster
