"""The pytest side of recording: ``@pytest.mark.pve_cassette``, ``--pvemock-record-mode`` and friends."""

from __future__ import annotations

import socket

import pytest
import yaml
from support.capture_server import PASSWORD

# pytester's in-process runs drop the modules they imported; importing the client stack and vcrpy here keeps one
# copy of each for every run, as in a real session.
pytest.importorskip("proxmoxer.backends.https")
import requests  # noqa: F401
import vcr.patch
import vcr.stubs.requests_stubs  # noqa: F401

import pytest_pvemock.cassette.validation
import pytest_pvemock.mocking
import pytest_pvemock.model.builders.from_recording
import pytest_pvemock.transports.recording.per_test
import pytest_pvemock.transports.recording.recorder  # noqa: F401
from pytest_pvemock.api import handlers
from pytest_pvemock.schema.registry import get_registry
from pytest_pvemock.transports.install import installed

handlers.load_all()
get_registry("9.1").resolve("GET", "/nodes")
with installed():  # imports every transport patch once
    pass

WALK = """
import pytest

@pytest.mark.pve_cassette
def test_walk(pve_api):
    assert pve_api.version.get()["version"] == "8.4.1"
    assert sorted(row["vmid"] for row in pve_api.cluster.resources.get(type="vm")) == [100, 101, 102, 200]

@pytest.mark.pve_cassette
@pytest.mark.parametrize("node", ["node1", "node/2 x"])
def test_param(pve_api, node):
    assert len(pve_api.nodes.get()) == 4
"""


@pytest.fixture
def real_cluster_env(pve_capture, monkeypatch):
    for name, value in pve_capture.environment().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def offline(monkeypatch):
    for name in ("PVEMOCK_HOST", "PVEMOCK_USER", "PVEMOCK_PASSWORD", "PVEMOCK_TOKEN", "PVEMOCK_VERIFY_SSL"):
        monkeypatch.delenv(name, raising=False)

    def refuse(self, address):
        raise AssertionError(f"replay connected to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def record(pytester, *args):
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", "--pvemock-record-mode=once", *args)


def test_record_then_replay_with_the_same_test_code(pytester, pve_capture, real_cluster_env, monkeypatch):
    pytester.makepyfile(test_recorded=WALK)

    record(pytester).assert_outcomes(passed=3)

    folder = pytester.path / "cassettes" / "test_recorded"
    assert sorted(p.name for p in folder.iterdir()) == [
        "test_param-node-2-x.yaml",
        "test_param-node1.yaml",
        "test_walk.yaml",
    ]
    assert PASSWORD not in (folder / "test_walk.yaml").read_text()
    for name in ("PVEMOCK_HOST", "PVEMOCK_USER", "PVEMOCK_PASSWORD", "PVEMOCK_VERIFY_SSL"):
        monkeypatch.delenv(name)
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: pytest.fail(f"connected to {address}"))

    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio").assert_outcomes(passed=3)


def test_a_recording_mode_without_the_environment_says_what_to_set(pytester, offline):
    pytester.makepyfile(test_recorded=WALK)

    result = record(pytester, "-k", "test_walk")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*set PVEMOCK_HOST (host or host:port) and either PVEMOCK_USER and PVEMOCK_PASSWORD*"])


def test_replay_of_a_missing_cassette_says_how_to_record_it(pytester, offline):
    pytester.makepyfile(test_recorded=WALK)

    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", "-k", "test_walk")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cassettes/test_recorded/test_walk.yaml does not exist*--pvemock-record-mode=once*"])


def test_an_unrecorded_request_fails_with_a_diff_and_the_command(pytester, pve_capture, real_cluster_env, monkeypatch):
    pytester.makepyfile(test_recorded=WALK)
    record(pytester, "-k", "test_walk").assert_outcomes(passed=1)
    pytester.makepyfile(
        test_recorded="""
import pytest

@pytest.mark.pve_cassette
def test_walk(pve_api):
    pve_api.version.get()
    pve_api.cluster.resources.get(type="node")
"""
    )
    monkeypatch.delenv("PVEMOCK_HOST")

    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*has no recorded answer for this request*",
            "*-  query type=vm*",
            "*+  query type=node*",
            "*pytest test_recorded.py::test_walk --pvemock-record-mode=new_episodes*",
        ]
    )


def test_a_named_cassette_is_shared_and_the_config_fixture_moves_it(pytester, pve_capture, real_cluster_env):
    pytester.makeconftest(
        """
import pytest

@pytest.fixture
def pvemock_vcr_config():
    return {"cassette_library_dir": "recorded", "serializer": "json", "anonymize_hosts": True}
"""
    )
    pytester.makepyfile(
        test_shared="""
import pytest

@pytest.mark.pve_cassette("cluster")
def test_one(pve_api):
    assert pve_api.version.get()["release"] == "8.4"

@pytest.mark.pve_cassette("cluster")
def test_two(pve_api):
    assert pve_api.version.get()["release"] == "8.4"
"""
    )

    record(pytester).assert_outcomes(passed=2)

    assert [p.name for p in (pytester.path / "recorded").iterdir()] == ["cluster.json"]


def test_validate_cassettes_fails_a_test_whose_cassette_breaks_the_schema(pytester, offline):
    """A hand-written cassette (no login recorded) replays too; the option then checks it against the schema."""
    cassette = pytester.path / "cassettes" / "test_drift" / "test_nodes.yaml"
    cassette.parent.mkdir(parents=True)
    bad = {"data": [{"node": "pve1", "status": "sleeping"}]}
    interaction = {
        "request": {"method": "GET", "uri": "https://pve1:8006/api2/json/nodes", "body": None, "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"json": bad}},
    }
    cassette.write_text(yaml.safe_dump({"version": 1, "interactions": [interaction]}))
    pytester.makepyfile(
        test_drift="""
import pytest

@pytest.mark.pve_cassette
def test_nodes(pve_api):
    assert pve_api.nodes.get()[0]["node"] == "pve1"
"""
    )

    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio").assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", "--pvemock-validate-cassettes")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*does not match the PVE schema*", "*/0/status: expected*actual 'sleeping'*"])


def test_pve_cassette_cluster_hydrates_a_fake_from_the_tests_cassette(pytester, pve_capture, real_cluster_env):
    pytester.makepyfile(test_recorded=WALK)
    record(pytester, "-k", "test_walk").assert_outcomes(passed=1)
    pytester.makepyfile(
        test_recorded="""
import pytest
import proxmoxer

@pytest.mark.pve_cassette("test_walk")
def test_fake(pve_cassette_cluster):
    cluster = pve_cassette_cluster
    api = proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user=cluster.user, password=cluster.password,
                               verify_ssl=False)
    api.nodes("node1").qemu(102).status.start.post()
    rows = {row["vmid"]: row["status"] for row in api.cluster.resources.get(type="vm")}
    assert rows == {100: "running", 101: "stopped", 102: "running", 200: "stopped"}
"""
    )

    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio").assert_outcomes(passed=1)
