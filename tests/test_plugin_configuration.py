"""Configuration mistakes as users meet them: each fails once, at startup or load, blaming its source.

A bad command-line option or ini value is one pytest usage error naming the option (and the ini file); a bad
marker argument is an error of the marked test naming the marker; a scenario mistake names file and line.
"""

from __future__ import annotations

import sys

import pytest

# Same in-process setup as test_plugin_fixtures: one copy of the client stack for every inner run.
pytest.importorskip("proxmoxer.backends.https")
import requests  # noqa: F401

import pytest_pvemock.mocking  # noqa: F401
from pytest_pvemock.api import handlers
from pytest_pvemock.transports.install import installed

handlers.load_all()
with installed():
    pass

QUIET = ("-p", "no:hypothesispytest", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist", "-p", "no:cacheprovider")

USES_THE_CLUSTER = """
def test_one(pve_cluster):
    pass

def test_two(pve_cluster):
    pass
"""


def run(pytester, *args):
    return pytester.runpytest(*QUIET, *args)


def assert_one_usage_error(result, message):
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-pvemock: {message}"])
    assert len([line for line in result.stderr.lines if line.startswith("ERROR")]) == 1
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert "default.yaml" not in result.stdout.str() + result.stderr.str()


BAD_OPTIONS = {
    "--pvemock-pve-version=7.5": "--pvemock-pve-version: PVE version '7.5' is not a known release: give a release*",
    "--pvemock-timezone=Mars/Olympus": "--pvemock-timezone: unknown timezone 'Mars/Olympus'*",
    "--pvemock-scenario=no-such": "--pvemock-scenario: no-such: no such built-in scenario (built-in: ceph, default, *",
    "--pvemock-scenario=missing.yaml": "--pvemock-scenario: missing.yaml: cannot read the scenario file: *",
}


@pytest.mark.parametrize("option", BAD_OPTIONS)
def test_a_bad_command_line_option_is_one_usage_error_naming_it(pytester, option):
    pytester.makepyfile(USES_THE_CLUSTER)
    assert_one_usage_error(run(pytester, option), BAD_OPTIONS[option])


BAD_INI = {
    "pvemock_pve_version = 10": "ini setting pvemock_pve_version in */tox.ini: PVE version '10' is not a known*",
    "pvemock_task_mode = later": "ini setting pvemock_task_mode in */tox.ini: must be one of instant, manual*",
    "pvemock_timezone = Vienna": "ini setting pvemock_timezone in */tox.ini: unknown timezone 'Vienna'*",
    "pvemock_validate = maybe": "ini setting pvemock_validate in */tox.ini: invalid truth value 'maybe'",
    "pvemock_refuse_other_hosts = sure": "ini setting pvemock_refuse_other_hosts in */tox.ini: invalid truth value*",
    "pvemock_record_mode = sometimes": "ini setting pvemock_record_mode in */tox.ini: record mode must be one of*",
    "pvemock_scenario = nope": "ini setting pvemock_scenario in */tox.ini: nope: no such built-in scenario*",
}


@pytest.mark.parametrize("line", BAD_INI)
def test_a_bad_ini_value_is_one_usage_error_naming_the_key_and_file(pytester, line):
    pytester.makeini(f"[pytest]\n{line}\n")
    pytester.makepyfile(USES_THE_CLUSTER)
    assert_one_usage_error(run(pytester), BAD_INI[line])


def test_an_ini_override_on_the_command_line_is_blamed_on_it(pytester):
    pytester.makepyfile(USES_THE_CLUSTER)
    assert_one_usage_error(
        run(pytester, "-o", "pvemock_pve_version=8.9"), "-o pvemock_pve_version: PVE version *'8.9'*"
    )


def test_the_command_line_wins_over_a_bad_ini_value(pytester):
    pytester.makeini("[pytest]\npvemock_pve_version = 6\n")
    pytester.makepyfile("def test_it(pve_cluster):\n    assert pve_cluster.version == '8.4.2'\n")
    run(pytester, "--pvemock-pve-version=8.4").assert_outcomes(passed=1)


def test_a_broken_scenario_file_named_by_the_option_is_a_usage_error_with_its_line(pytester):
    pytester.path.joinpath("lab.yaml").write_text(
        "nodes: [{name: pve1}]\nguests:\n  - {vmid: 100, node: pve1}\nha:\n  resources:\n"
        "    - sid: vm:100\n      state: strated\n"
    )
    pytester.makepyfile(USES_THE_CLUSTER)
    assert_one_usage_error(
        run(pytester, "--pvemock-scenario=lab.yaml"),
        "--pvemock-scenario: lab.yaml, line 7: 'state' of HA resource 'vm:100': value 'strated' does not have a "
        "value in the enumeration 'started, stopped, enabled, disabled, ignored'",
    )


def test_an_empty_scenario_file_is_refused(pytester):
    pytester.path.joinpath("empty.yaml").write_text("# nothing yet\n")
    pytester.makepyfile(USES_THE_CLUSTER)
    assert_one_usage_error(
        run(pytester, "--pvemock-scenario=empty.yaml"),
        "--pvemock-scenario: empty.yaml: the scenario has no nodes: a cluster needs at least one*",
    )


def test_marker_values_are_blamed_on_the_marker_even_without_the_fixture(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.pve_cluster(version="8.5")
        def test_factory_only(pve_cluster_factory):
            pass

        @pytest.mark.pve_cluster(timezone="Europe/Atlantis")
        def test_no_fixture():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*pve_cluster marker: version: PVE version '8.5' is not a known release*",
            "*pve_cluster marker: timezone: unknown timezone 'Europe/Atlantis'*",
        ]
    )
    assert "default.yaml" not in result.stdout.str()
    result.stdout.no_fnmatch_line("*Traceback*")


BAD_CASSETTE_MARKERS = {
    'nme="x"': "pve_cassette marker: unknown argument(s) nme; expected one of name",
    '"a", "b"': "pve_cassette marker: takes at most one positional argument (the name), got 2",
    '"a", name="b"': "pve_cassette marker: name given both positionally and by keyword",
    "name=5": "pve_cassette marker: name must be a non-empty string, not 5",
}


def test_bad_pve_cassette_arguments_are_errors_naming_marker_and_argument(pytester):
    tests = "".join(
        f"\n@pytest.mark.pve_cassette({marker})\ndef test_{index}(pve_api):\n    pass\n"
        for index, marker in enumerate(BAD_CASSETTE_MARKERS)
    )
    pytester.makepyfile("import pytest\n" + tests)
    result = run(pytester)
    result.assert_outcomes(errors=len(BAD_CASSETTE_MARKERS))
    result.stdout.fnmatch_lines_random([f"*{message}" for message in BAD_CASSETTE_MARKERS.values()])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_factory_arguments_are_blamed_on_the_factory_call(pytester):
    pytester.makepyfile(
        """
        import pytest

        def test_it(pve_cluster_factory):
            with pytest.raises(ValueError) as error:
                pve_cluster_factory(version="7.5")
            assert str(error.value).startswith("pve_cluster_factory: version: PVE version '7.5' is not a known release")
            with pytest.raises(ValueError, match="^pve_cluster_factory: task_mode: must be one of instant, manual"):
                pve_cluster_factory(task_mode="fast")
            with pytest.raises(ValueError, match="^pve_cluster_factory: timezone: unknown timezone 'Utopia'"):
                pve_cluster_factory(timezone="Utopia")
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_factory_clusters_get_distinct_hosts_and_pve_api_keeps_talking_to_pve_cluster(pytester):
    pytester.makepyfile(
        """
        import pytest
        import requests

        def test_it(pve_cluster, pve_api, pve_cluster_factory):
            second = pve_cluster_factory("single-node")
            third = pve_cluster_factory()
            assert [pve_cluster.host, second.host, third.host] == ["pve.test", "pve-2.test", "pve-3.test"]
            assert len(pve_api.nodes.get()) == 3
            ticket = requests.post(
                f"{second.url}/api2/json/access/ticket", data={"username": "root@pam", "password": "pvemock"}
            ).json()["data"]["ticket"]
            nodes = requests.get(f"{second.url}/api2/json/nodes", cookies={"PVEAuthCookie": ticket}).json()
            assert len(nodes["data"]) == 1
            with pytest.raises(ValueError, match="host pve.test:8006 already answers another fake cluster"):
                pve_cluster_factory("single-node", host="pve.test")
            assert pve_cluster_factory("single-node", host="lab.test").url == "https://lab.test:8006"
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_refusing_other_hosts_lets_the_plugins_own_server_through(pytester):
    pytest.importorskip("trustme")
    pytester.makepyfile(
        """
        import pytest
        import requests
        from pytest_pvemock.transports.routing import UnmatchedHostError

        def test_it(pve_server):
            answer = requests.get(f"{pve_server.url}/api2/json/version", verify=str(pve_server.ca_file), timeout=5)
            assert answer.status_code == 401
            with pytest.raises(UnmatchedHostError) as error:
                requests.get("https://pve.example.invalid:8006/api2/json/version", timeout=1)
            message = str(error.value)
            assert "--pvemock-allow-hosts" not in message
            assert "refuse_other_hosts=False" in message and "--pvemock-refuse-other-hosts" in message
        """
    )
    run(pytester, "--pvemock-refuse-other-hosts").assert_outcomes(passed=1)


def test_pve_server_skips_clearly_without_trustme(pytester, monkeypatch):
    monkeypatch.setitem(sys.modules, "trustme", None)
    pytester.makepyfile("def test_it(pve_server):\n    pass\n")
    result = run(pytester, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*pve_server fixture needs trustme*pip install 'pytest-pvemock?server?'"])
