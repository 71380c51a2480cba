"""The pytest plugin as users meet it: fixtures, the pve_cluster marker, ini and command-line options."""

from __future__ import annotations

import sys

import pytest

# pytester's in-process runs drop the modules they imported; importing the client stack here keeps one copy
# of requests, proxmoxer and the fake for every run, as in a real session.
pytest.importorskip("proxmoxer.backends.https")
import requests  # noqa: F401

import pytest_pvemock.mocking  # noqa: F401
from pytest_pvemock.api import handlers
from pytest_pvemock.transports.install import installed

handlers.load_all()
with installed():  # imports every transport patch once
    pass

# Plugins the inner runs do not need (hypothesis's summary hook alone costs seconds per in-process run).
QUIET = ("-p", "no:hypothesispytest", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist", "-p", "no:cacheprovider")


def run(pytester, *args):
    return pytester.runpytest(*QUIET, *args)


BAD_DOMAINS_HANDLER = """
import pytest

@pytest.fixture
def wrong_domains(pve_cluster):
    pve_cluster.api_override("GET", "/access/domains", lambda ctx: [{"realm": 5, "type": "pam"}])
"""


def test_pve_api_is_a_logged_in_proxmoxer_client(pytester):
    pytester.makepyfile(
        """
        import proxmoxer

        def test_login(pve_api, pve_cluster):
            assert isinstance(pve_api, proxmoxer.ProxmoxAPI)
            assert pve_cluster.url == "https://pve.test:8006"
            assert (pve_cluster.user, pve_cluster.password) == ("root@pam", "pvemock")
            assert {entry["realm"] for entry in pve_api.access.domains.get()} == {"pam", "pve"}
            ticket, csrf = pve_api.get_tokens()
            assert ticket.startswith("PVE:root@pam:")
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_marker_chooses_scenario_version_and_task_mode(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.pve_cluster("single-node")
        def test_single(pve_cluster):
            assert len(pve_cluster.nodes) == 1

        @pytest.mark.pve_cluster(scenario="default", version="8.4", task_mode="manual")
        def test_options(pve_cluster):
            assert (pve_cluster.version, pve_cluster.clock.task_mode) == ("8.4.2", "manual")

        def test_default(pve_cluster):
            assert (len(pve_cluster.nodes), pve_cluster.version, pve_cluster.clock.task_mode) == (3, "9.1.5", "instant")

        @pytest.mark.pve_cluster("single-node")
        class TestSmall:
            def test_in_class(self, pve_cluster):
                assert len(pve_cluster.nodes) == 1
        """
    )
    run(pytester).assert_outcomes(passed=4)


BAD_MARKERS = {
    'scenaro="single-node"': "pve_cluster marker: unknown argument(s) scenaro; expected one of scenario",
    'validate="yes"': "pve_cluster marker: validate: must be True or False, not 'yes'",
    '"a", "b"': "pve_cluster marker: takes at most one positional argument (the scenario), got 2",
    'version="7.9"': "pve_cluster marker: version: PVE version '7.9' is not a known release*",
    '"no-such-scenario"': "pve_cluster marker: scenario: no-such-scenario: no such built-in scenario (built-in: *",
    'task_mode="later"': "pve_cluster marker: task_mode: must be one of instant, manual, not 'later'",
    'timezone="Mars/Olympus"': "pve_cluster marker: timezone: unknown timezone 'Mars/Olympus'*",
    'ha_chaos={"sed": 1}': "pve_cluster marker: ha_chaos: unknown chaos setting(s) sed*",
}


def test_bad_marker_arguments_get_clear_errors(pytester):
    tests = "".join(
        f"""
@pytest.mark.pve_cluster({marker})
def test_{index}(pve_cluster):
    pass
"""
        for index, marker in enumerate(BAD_MARKERS)
    )
    pytester.makepyfile("import pytest\n" + tests)
    result = run(pytester)
    result.assert_outcomes(errors=len(BAD_MARKERS))
    result.stdout.fnmatch_lines_random([f"*{message}*" for message in BAD_MARKERS.values()])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*During handling*")


def test_ini_options_set_the_defaults_and_the_command_line_wins(pytester):
    pytester.makeini(
        """
        [pytest]
        pvemock_scenario = single-node
        pvemock_pve_version = 8.4
        pvemock_task_mode = manual
        """
    )
    pytester.makepyfile(
        """
        def test_it(pve_cluster, request):
            expected = request.config.getoption("expected").split(",")
            assert [str(len(pve_cluster.nodes)), pve_cluster.version, pve_cluster.clock.task_mode] == expected
        """
    )
    pytester.makeconftest(
        """
        def pytest_addoption(parser):
            parser.addoption("--expected")
        """
    )
    run(pytester, "--expected=1,8.4.2,manual").assert_outcomes(passed=1)
    run(
        pytester,
        "--expected=3,9.1.5,instant",
        "--pvemock-scenario=default",
        "--pvemock-pve-version=9.1",
        "--pvemock-task-mode=instant",
    ).assert_outcomes(passed=1)


def test_schema_violations_fail_the_test_by_default(pytester):
    pytester.makeconftest(BAD_DOMAINS_HANDLER)
    pytester.makepyfile(
        """
        def test_it(pve_api, wrong_domains):
            pve_api.access.domains.get()
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*SchemaValidationError*GET /access/domains*", "*/0/realm*"])


def test_a_swallowed_schema_violation_still_fails_the_test(pytester):
    pytester.makeconftest(BAD_DOMAINS_HANDLER)
    pytester.makepyfile(
        """
        def test_it(pve_api, wrong_domains):
            try:
                pve_api.access.domains.get()
            except Exception:
                pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*the fake answered against the PVE schema:", "*GET /access/domains*", "*/0/realm*"])


@pytest.mark.parametrize(
    ("how", "args"),
    [
        ("command line", ["--pvemock-no-validate"]),
        ("ini", ["-o", "pvemock_validate=false"]),
    ],
)
def test_validation_can_be_turned_off(pytester, how, args):
    pytester.makeconftest(BAD_DOMAINS_HANDLER)
    pytester.makepyfile(
        """
        import pytest

        def test_it(pve_api, wrong_domains):
            assert pve_api.access.domains.get() == [{"realm": 5, "type": "pam"}]

        @pytest.mark.pve_cluster(validate=True)
        def test_marker_turns_it_back_on(pve_api, wrong_domains):
            pve_api.access.domains.get()
        """
    )
    run(pytester, *args).assert_outcomes(passed=1, failed=1)


def test_state_never_leaks_between_tests(pytester):
    pytester.makepyfile(
        """
        import requests

        def test_change_everything(pve_cluster, pve_api):
            pve_api.access.users.post(userid="leak@pve")
            pve_cluster.inject_error("GET", "/access/domains", 500, "boom", times=None)
            pve_cluster.clock.advance(3600)
            pve_cluster.set_node_online(pve_cluster.nodes[0].name, False)

        def test_sees_a_fresh_cluster(pve_cluster, pve_api):
            assert "leak@pve" not in {user["userid"] for user in pve_api.access.users.get()}
            assert pve_api.access.domains.get()
            assert all(node.online for node in pve_cluster.nodes)

        def test_nothing_answers_after_the_fixture_is_gone():
            import pytest
            from pytest_pvemock.transports.routing import HOSTS
            assert not HOSTS.active
        """
    )
    run(pytester, "-p", "no:randomly").assert_outcomes(passed=3)


def test_session_factory_keeps_state_across_tests(pytester):
    pytester.makepyfile(
        """
        import pytest
        import requests

        @pytest.fixture(scope="session")
        def shared(pve_cluster_factory_session):
            return pve_cluster_factory_session("single-node", validate=True)

        def test_first(shared):
            shared.access.add_user("kept@pve")

        def test_second(shared):
            assert "kept@pve" in shared.access.users
            assert requests.get(f"{shared.url}/api2/json/access/ticket").json() == {"data": None}
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_factory_builds_several_clusters_in_one_test(pytester):
    pytester.makepyfile(
        """
        import requests
        from pytest_pvemock import FakeCluster

        def test_two(pve_cluster_factory):
            small = pve_cluster_factory("single-node", version="8.4", task_mode="manual")
            other = pve_cluster_factory.patch(FakeCluster(host="other.test"))
            assert (small.version, len(small.nodes)) == ("8.4.2", 1)
            assert requests.get(f"{other.url}/api2/json/access/ticket").status_code == 200
        """
    )
    run(pytester).assert_outcomes(passed=1)


@pytest.mark.parametrize("how", ["marker", "option"])
def test_refusing_other_hosts(pytester, how):
    marker = "@pytest.mark.pve_cluster(refuse_other_hosts=True)" if how == "marker" else ""
    pytester.makepyfile(
        f"""
        import pytest
        import requests
        from pytest_pvemock.transports.routing import UnmatchedHostError

        {marker}
        def test_it(pve_cluster):
            with pytest.raises(UnmatchedHostError, match="pve.test:8006"):
                requests.get("https://pve.example.invalid:8006/api2/json/version", timeout=1)
        """
    )
    args = ["--pvemock-refuse-other-hosts"] if how == "option" else []
    run(pytester, *args).assert_outcomes(passed=1)


def test_pve_api_skips_clearly_without_proxmoxer(pytester, monkeypatch):
    monkeypatch.setitem(sys.modules, "proxmoxer", None)
    pytester.makepyfile(
        """
        def test_it(pve_api):
            pass
        """
    )
    result = run(pytester, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*pve_api fixture needs proxmoxer*pip install*"])


def test_library_works_without_pytest_fixtures(pytester):
    pytester.makepyfile(
        """
        import requests
        from pytest_pvemock import FakeCluster, mock

        def test_plain_python():
            with mock(FakeCluster.default(), validate=True) as cluster:
                answer = requests.post(
                    f"{cluster.url}/api2/json/access/ticket",
                    data={"username": cluster.user, "password": cluster.password},
                )
                assert answer.json()["data"]["username"] == "root@pam"
        """
    )
    run(pytester, "-p", "no:pvemock").assert_outcomes(passed=1)
