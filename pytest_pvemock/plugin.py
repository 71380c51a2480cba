"""The pytest plugin: wires options, markers and fixtures to the library. No logic of its own lives here.

Fixtures: ``pve_cluster`` (a fresh cluster per test, patched in), ``pve_cluster_factory`` (build more clusters
in a test), ``pve_cluster_factory_session`` (clusters that live for the whole session) and ``pve_api`` (a
proxmoxer client logged in to ``pve_cluster``); ``pve_server`` and ``pve_server_session`` put a cluster behind a
real HTTPS server for clients that need a socket. The marker ``@pytest.mark.pve_cluster(scenario, version=...,
task_mode=..., validate=..., refuse_other_hosts=..., ha_chaos=..., timezone=...)`` chooses per test; ini and
command-line options set the defaults. Answers are checked against the PVE schema by default: a violation fails
the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_pvemock.cluster_options import ClusterOptions
    from pytest_pvemock.mocking import ClusterFactory
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.transports.server import PveServer

_DEFAULTS_KEY = pytest.StashKey["ClusterOptions"]()
_VALUES_KEY = pytest.StashKey[dict[str, Any]]()
_CALL_FAILED_KEY = pytest.StashKey[bool]()

#: The cluster options the command line and the ini file set: (ClusterOptions field, option dest = ini key, flag).
_CLUSTER_OPTIONS = (
    ("scenario", "pvemock_scenario", "--pvemock-scenario"),
    ("version", "pvemock_pve_version", "--pvemock-pve-version"),
    ("task_mode", "pvemock_task_mode", "--pvemock-task-mode"),
    ("validate", "pvemock_validate", "--pvemock-validate/--pvemock-no-validate"),
    ("refuse_other_hosts", "pvemock_refuse_other_hosts", "--pvemock-refuse-other-hosts"),
    ("timezone", "pvemock_timezone", "--pvemock-timezone"),
)
_NEEDS_TRUSTME = "the {fixture} fixture needs trustme for its certificates: pip install 'pytest-pvemock[server]'"
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
#: The arguments the pve_cassette marker takes (the first may be given positionally).
CASSETTE_MARKER_KEYS = ("name",)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pvemock", "fake Proxmox VE cluster (pytest-pvemock)")
    group.addoption(
        "--pvemock-scenario",
        dest="pvemock_scenario",
        default=None,
        metavar="NAME_OR_PATH",
        help="scenario of pve_cluster: a built-in name (default, single-node, ...) or a YAML file "
        "(ini: pvemock_scenario; default: default)",
    )
    group.addoption(
        "--pvemock-pve-version",
        dest="pvemock_pve_version",
        default=None,
        metavar="VERSION",
        help="PVE version the fake speaks, 9.1 or 8.4 (ini: pvemock_pve_version; default: the scenario's)",
    )
    group.addoption(
        "--pvemock-task-mode",
        dest="pvemock_task_mode",
        default=None,
        choices=("instant", "manual"),
        help="instant: tasks finish at once; manual: only advance()/settle() move the clock "
        "(ini: pvemock_task_mode; default: instant)",
    )
    group.addoption(
        "--pvemock-validate",
        dest="pvemock_validate",
        action="store_true",
        default=None,
        help="check every answer against the PVE schema; a violation fails the test (default)",
    )
    group.addoption(
        "--pvemock-no-validate",
        dest="pvemock_validate",
        action="store_false",
        default=None,
        help="do not check answers against the PVE schema (ini: pvemock_validate = false)",
    )
    group.addoption(
        "--pvemock-refuse-other-hosts",
        dest="pvemock_refuse_other_hosts",
        action="store_true",
        default=None,
        help="refuse requests to hosts that no fake cluster answers, instead of letting them reach the network "
        "(ini: pvemock_refuse_other_hosts)",
    )
    group.addoption(
        "--pvemock-record-mode",
        dest="pvemock_record_mode",
        default=None,
        choices=RECORD_MODES,
        help="tests marked pve_cassette: none replays (default); once, new_episodes, all and rewrite record from "
        "the real cluster named by PVEMOCK_HOST and PVEMOCK_USER/PVEMOCK_PASSWORD or PVEMOCK_TOKEN",
    )
    group.addoption(
        "--pvemock-validate-cassettes",
        dest="pvemock_validate_cassettes",
        action="store_true",
        default=False,
        help="check the answers in every cassette the run uses against the PVE schema; a violation fails the test",
    )
    group.addoption(
        "--pvemock-timezone",
        dest="pvemock_timezone",
        default=None,
        metavar="ZONE",
        help="time zone of pve_cluster's servers, an IANA name such as Europe/Vienna: PVE writes the HA status "
        "texts in local time (ini: pvemock_timezone; default: the scenario's, else UTC)",
    )
    parser.addini("pvemock_record_mode", "default record mode of pve_cassette tests", default="none")
    parser.addini("pvemock_scenario", "default scenario of pve_cluster", default="default")
    parser.addini("pvemock_pve_version", "default PVE version of pve_cluster (9.1 or 8.4)", default="")
    parser.addini("pvemock_task_mode", "default task mode of pve_cluster (instant or manual)", default="")
    parser.addini("pvemock_validate", "check answers against the PVE schema", type="bool", default=True)
    parser.addini("pvemock_refuse_other_hosts", "refuse requests to hosts no fake answers", type="bool", default=False)
    parser.addini("pvemock_timezone", "default time zone of pve_cluster's servers (an IANA name)", default="")


def pytest_configure(config: pytest.Config) -> None:
    """Check every option once and register the markers."""
    if not getattr(config.option, "help", False):  # --help still shows the options to fix a mistake with
        _checked_values(config)  # every option and ini value checked once, at startup: one usage error
        _record_mode(config)
    config.addinivalue_line(
        "markers",
        "pve_cluster(scenario=None, *, version=None, task_mode=None, validate=None, refuse_other_hosts=None, "
        "ha_chaos=None, timezone=None): choose the scenario and options of the pve_cluster fixture for this test "
        "(ha_chaos: a seed or {seed, rate, max_down} for seeded HA faults; timezone: an IANA zone name)",
    )
    config.addinivalue_line(
        "markers",
        "pve_cassette(name=None): pve_api records from a real cluster or replays the cassette "
        "(cassettes/<module>/<test or name>.yaml next to the test); see --pvemock-record-mode",
    )


def _defaults(config: pytest.Config) -> ClusterOptions:
    """The session's defaults: command line over ini over built-in (checked at startup, see :func:`_checked_values`)."""
    cached = config.stash.get(_DEFAULTS_KEY, None)
    if cached is not None:
        return cached
    from pytest_pvemock.cluster_options import ClusterOptions

    defaults = ClusterOptions(**_checked_values(config))
    config.stash[_DEFAULTS_KEY] = defaults
    return defaults


def _checked_values(config: pytest.Config) -> dict[str, Any]:
    """The cluster options the command line and the ini file set, each checked and blamed on its source.

    A bad value is a ``pytest.UsageError`` naming the option or the ini key (and the file that sets it). Nothing
    is imported for the built-in defaults, so a session that sets no option pays nothing at startup.
    """
    cached = config.stash.get(_VALUES_KEY, None)
    if cached is not None:
        return cached
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, dest, flag in _CLUSTER_OPTIONS:
        value, source = _option_value(config, dest, flag)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or (key == "scenario" and value == "default"):
            values[key] = value  # booleans come parsed (store_true, ini type bool); the built-in scenario exists
            continue
        from pytest_pvemock.cluster_options import checked_option

        try:
            values[key] = checked_option(key, value)
        except ValueError as error:
            raise pytest.UsageError(f"pytest-pvemock: {source}: {error}") from None
        sources[key] = source
    if "scenario" in sources:
        _check_scenario(values, sources["scenario"])
    config.stash[_VALUES_KEY] = values
    return values


def _option_value(config: pytest.Config, dest: str, flag: str) -> tuple[Any, str]:
    """The value of an option (its command-line flag, else its ini key) and where it was set, for messages."""
    value = config.getoption(dest)
    if value is not None:
        return value, flag
    source = f"ini setting {dest}" + (f" in {config.inipath}" if config.inipath else "")
    if any(item.startswith(f"{dest}=") for item in (config.option.override_ini or ())):
        source = f"-o {dest}"
    try:
        return config.getini(dest), source
    except (ValueError, pytest.UsageError) as error:  # a boolean ini value that is not one (pytest >= 9 says so)
        raise pytest.UsageError(f"pytest-pvemock: {source}: {error}") from None


def _check_scenario(values: dict[str, Any], source: str) -> None:
    """Build the scenario an option names once, so a broken file is a usage error naming the option and line."""
    from pytest_pvemock.model.cluster import FakeCluster

    overrides = {key: values.get(key) for key in ("version", "task_mode", "timezone")}
    try:
        FakeCluster.from_scenario(values["scenario"], **overrides)
    except (ValueError, LookupError) as error:
        raise pytest.UsageError(f"pytest-pvemock: {source}: {error}") from None


def _record_mode(config: pytest.Config) -> str:
    """The record mode of ``pve_cassette`` tests (the command line's choices are checked by argparse)."""
    mode, source = _option_value(config, "pvemock_record_mode", "--pvemock-record-mode")
    if mode not in RECORD_MODES:
        raise pytest.UsageError(
            f"pytest-pvemock: {source}: record mode must be one of {', '.join(RECORD_MODES)}, not {mode!r}"
        )
    return str(mode)


def _marker_problem(item: pytest.Item) -> str | None:
    """What is wrong with the item's ``pve_cluster`` and ``pve_cassette`` markers, naming marker and argument."""
    from pytest_pvemock.cluster_options import ClusterOptions

    marker = item.get_closest_marker("pve_cluster")
    if marker is not None:
        try:
            ClusterOptions.check(marker.args, marker.kwargs)
        except ValueError as error:
            return str(error)
    try:
        _cassette_name(item)
    except ValueError as error:
        return str(error)
    return None


def _cassette_name(item: pytest.Item) -> str | None:
    """The cassette name the ``pve_cassette`` marker gives (``None``: named after the test), or ``ValueError``."""
    marker = item.get_closest_marker("pve_cassette")
    if marker is None:
        return None
    where = "pve_cassette marker"
    unknown = sorted(set(marker.kwargs) - set(CASSETTE_MARKER_KEYS))
    if unknown:
        raise ValueError(
            f"{where}: unknown argument(s) {', '.join(unknown)}; expected one of {', '.join(CASSETTE_MARKER_KEYS)}"
        )
    if len(marker.args) > 1:
        raise ValueError(f"{where}: takes at most one positional argument (the name), got {len(marker.args)}")
    if marker.args and "name" in marker.kwargs:
        raise ValueError(f"{where}: name given both positionally and by keyword")
    name = marker.args[0] if marker.args else marker.kwargs.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"{where}: name must be a non-empty string, not {name!r}")
    return name


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    problem = _marker_problem(item)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED_KEY] = True


def _report_violations(request: pytest.FixtureRequest, factory: ClusterFactory) -> None:
    """Fail a test whose code swallowed a schema violation (a test that failed already is left alone)."""
    violations = factory.violations
    if violations and not request.node.stash.get(_CALL_FAILED_KEY, False):
        listed = "\n\n".join(str(violation) for violation in violations)
        pytest.fail(f"pytest-pvemock: the fake answered against the PVE schema:\n{listed}", pytrace=False)


@pytest.fixture
def pve_cluster_factory(request: pytest.FixtureRequest) -> Iterator[ClusterFactory]:
    """Build patched-in clusters in a test: ``pve_cluster_factory("single-node", version="8.4")``.

    Each cluster answers its hosts until the test ends. ``pve_cluster_factory.patch(cluster)`` patches in a
    cluster built by hand. Unset options come from the ini and command-line defaults.
    """
    from pytest_pvemock.mocking import ClusterFactory

    factory = ClusterFactory(_defaults(request.config))
    yield factory
    factory.close()
    _report_violations(request, factory)


@pytest.fixture(scope="session")
def pve_cluster_factory_session(request: pytest.FixtureRequest) -> Iterator[ClusterFactory]:
    """Like ``pve_cluster_factory``, but the clusters live (and keep their state) for the whole session.

    For a module or class scope, write a fixture around :func:`pytest_pvemock.mock` with that scope.
    """
    from pytest_pvemock.mocking import ClusterFactory

    factory = ClusterFactory(_defaults(request.config))
    yield factory
    factory.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``@pytest.mark.pve_cluster(versions=[...])``: the test runs once per release, the release in its id."""
    marker = metafunc.definition.get_closest_marker("pve_cluster")
    if marker is None or "versions" not in marker.kwargs or "pvemock_release" not in metafunc.fixturenames:
        return
    from pytest_pvemock.cluster_options import release_params

    try:
        releases = release_params(marker.kwargs["versions"])
    except ValueError:
        return  # reported for the test by the marker check, naming the marker
    metafunc.parametrize("pvemock_release", releases, ids=releases, indirect=True)


@pytest.fixture
def pvemock_release(request: pytest.FixtureRequest) -> str | None:
    """The release a ``versions=[...]`` marker runs this test with (``None`` without one)."""
    return getattr(request, "param", None)


@pytest.fixture
def pve_cluster(
    request: pytest.FixtureRequest, pve_cluster_factory: ClusterFactory, pvemock_release: str | None
) -> FakeCluster:
    """A fresh fake cluster for this test (the default scenario unless the marker or options say otherwise).

    Reach it at ``pve_cluster.url`` with ``pve_cluster.user`` / ``pve_cluster.password``; change it through its
    Python API (``inject_error``, ``set_node_online``, ``clock.advance`` ...).
    """
    from pytest_pvemock.cluster_options import ClusterOptions

    marker = request.node.get_closest_marker("pve_cluster")
    try:
        changes = ClusterOptions.check(marker.args, marker.kwargs) if marker else {}
    except ValueError as error:
        problem = str(error)
    else:
        if pvemock_release is not None:
            changes["version"] = pvemock_release
        try:
            return pve_cluster_factory(**changes)
        except (ValueError, LookupError, OSError) as error:
            problem = f"pve_cluster: cannot build the cluster: {error}"
    pytest.fail(problem, pytrace=False)  # outside the except blocks: no chained traceback in the report


@pytest.fixture
def pve_api(request: pytest.FixtureRequest) -> Any:
    """A ``proxmoxer.ProxmoxAPI`` logged in to ``pve_cluster`` as root@pam with its password.

    On a test marked ``pve_cassette``, the client records from a real cluster or replays the cassette instead.
    """
    proxmoxer = pytest.importorskip(
        "proxmoxer", reason="the pve_api fixture needs proxmoxer: pip install 'pytest-pvemock[proxmoxer]'"
    )
    if request.node.get_closest_marker("pve_cassette"):
        return request.getfixturevalue("pvemock_cassette").client()
    pve_cluster: FakeCluster = request.getfixturevalue("pve_cluster")
    return proxmoxer.ProxmoxAPI(
        pve_cluster.host,
        port=pve_cluster.port,
        user=pve_cluster.user,
        password=pve_cluster.password,
        verify_ssl=False,
    )


@pytest.fixture
def pve_server(pve_cluster: FakeCluster, pve_cluster_factory: ClusterFactory) -> Iterator[PveServer]:
    """``pve_cluster`` behind a real HTTPS server on a free loopback port, for clients that need a socket.

    Yields a :class:`~pytest_pvemock.transports.server.PveServer`: ``.url``, ``.ca_file`` (verify with it),
    ``.cluster``, ``.user``/``.password``, ``.lock`` (hold it to change the cluster while clients talk).
    """
    from pytest_pvemock.transports.server import PveServer

    pytest.importorskip("trustme", reason=_NEEDS_TRUSTME.format(fixture="pve_server"))
    api = pve_cluster_factory.api_for(pve_cluster)
    with PveServer(pve_cluster, dispatcher=api.handle) as server, _let_through(server):
        yield server


@pytest.fixture(scope="session")
def pve_server_session(request: pytest.FixtureRequest) -> Iterator[PveServer]:
    """Like ``pve_server``, but one server and one cluster (the default options) for the whole session.

    Only the server answers this cluster: nothing is patched in-process for the session.
    """
    from pytest_pvemock.mocking import build_cluster
    from pytest_pvemock.transports.server import PveServer

    pytest.importorskip("trustme", reason=_NEEDS_TRUSTME.format(fixture="pve_server_session"))
    options = _defaults(request.config)
    with PveServer(build_cluster(options), validate=options.validate) as server, _let_through(server):
        yield server


def _let_through(server: PveServer) -> ExitStack:
    """Never refuse the plugin's own server when other hosts are refused (it is the fake, reached over a socket)."""
    from pytest_pvemock.transports.routing import HOSTS

    stack = ExitStack()
    names = [server.address] + (["localhost"] if server.address in ("127.0.0.1", "::1") else [])
    for name in names:
        stack.enter_context(HOSTS.letting_through(name, server.port))
    return stack


@pytest.fixture
def pvemock_vcr_config() -> dict[str, Any]:
    """Override to change how ``pve_cassette`` tests record and replay, for a module or a folder.

    Keys: ``cassette_library_dir``, ``serializer`` ("yaml" or "json"), ``record_mode``, ``filters`` (extra
    scrubbing functions), ``anonymize_hosts``, ``match_on``, ``vcr_options`` (passed to vcrpy).
    """
    return {}


def _cassette_file(request: pytest.FixtureRequest, config: dict[str, Any]) -> Any:
    from pytest_pvemock.transports.recording.per_test import cassette_path

    name = _cassette_name(request.node)
    module = request.node.module.__name__.rpartition(".")[2] if request.node.module else "tests"
    test_name = request.node.name if request.cls is None else f"{request.cls.__name__}.{request.node.name}"
    return cassette_path(request.node.path, module, test_name, config, name)


@pytest.fixture
def pvemock_cassette(request: pytest.FixtureRequest, pvemock_vcr_config: dict[str, Any]) -> Iterator[Any]:
    """The open cassette of a ``pve_cassette`` test (a ``CassetteSession``: ``.client()``, ``.path``, ``.cassette``)."""
    from pytest_pvemock.transports.recording.per_test import open_test_cassette, validation_failure

    mode = _record_mode(request.config)
    path = _cassette_file(request, pvemock_vcr_config)
    with open_test_cassette(path, pvemock_vcr_config, mode, request.node.nodeid) as (session, problem):
        if problem:
            pytest.fail(problem, pytrace=False)
        yield session
    if request.config.getoption("pvemock_validate_cassettes"):
        failure = validation_failure(path)
        if failure:
            pytest.fail(failure, pytrace=False)


@pytest.fixture
def pve_cassette_cluster(
    request: pytest.FixtureRequest, pvemock_vcr_config: dict[str, Any], pve_cluster_factory: ClusterFactory
) -> FakeCluster:
    """A patched-in fake cluster built from the ``pve_cassette`` test's cassette (``FakeCluster.from_cassette``)."""
    from pytest_pvemock.model.cluster import FakeCluster

    path = _cassette_file(request, pvemock_vcr_config)
    if not path.is_file():
        pytest.fail(f"pve_cassette_cluster: no cassette at {path}; record one first (--pvemock-record-mode)", False)
    return pve_cluster_factory.patch(FakeCluster.from_cassette(path))
