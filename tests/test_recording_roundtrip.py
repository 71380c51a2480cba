"""Record over real HTTPS on 127.0.0.1, replay with the network gone, validate, and never leak a secret."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from support.capture_server import PASSWORD, TASK_UPID

from pytest_pvemock.cassette.file_format import response_document
from pytest_pvemock.cassette.validation import validate_cassette
from pytest_pvemock.transports.recording.cassette import CassetteMismatchError
from pytest_pvemock.transports.recording.recorder import (
    CassetteMissingError,
    RecordingOptions,
    RecordingSetupError,
    open_cassette,
)


@pytest.fixture
def no_network(monkeypatch):
    """Replay must not open a single connection."""

    def refuse(self, address):
        raise AssertionError(f"replay tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def walk(api) -> dict:
    """What the test under record and replay does: reads, a write with a form body, and a polled task."""
    seen = {
        "version": api.version.get()["version"],
        "vms": sorted(row["vmid"] for row in api.cluster.resources.get(type="vm")),
        "upid": api.nodes("node1").qemu(101).status.start.post(timeout=30, skiplock=1),
        "token": api.access.users("root@pam").token("ci-new").post(privsep=0)["full-tokenid"],
    }
    polls = 0
    while api.nodes("node1").tasks(TASK_UPID).status.get()["status"] == "running":
        polls += 1
    seen["polls"] = polls
    return seen


def record(pve_capture, path: Path, auth: str = "password", mode: str = "once", **options) -> dict:
    pve_capture.cluster.task_polls = 0  # the task runs for one poll after each recording starts
    with open_cassette(path, RecordingOptions(record_mode=mode, **options), environ=pve_capture.environment(auth)) as s:
        assert s.recording
        return walk(s.client())


@pytest.mark.parametrize("auth", ["password", "token"])
def test_a_recording_replays_offline_with_the_same_answers(pve_capture, tmp_path, no_network, auth, monkeypatch):
    path = tmp_path / "walk.yaml"
    monkeypatch.undo()  # recording needs the network
    recorded = record(pve_capture, path, auth)

    monkeypatch.setattr(socket.socket, "connect", lambda self, address: pytest.fail(f"connected to {address}"))
    with open_cassette(path, environ={}) as session:
        assert not session.recording
        replayed = walk(session.client())

    assert replayed == recorded
    assert recorded["polls"] == 1  # the task was running once, then stopped
    assert recorded["version"] == "8.4.1"


@pytest.mark.parametrize("auth", ["password", "token"])
def test_the_cassette_holds_none_of_the_secrets(pve_capture, tmp_path, auth):
    path = tmp_path / f"{auth}.yaml"
    record(pve_capture, path, auth)

    text = path.read_text()
    secrets = pve_capture.cluster.known_secrets  # password, token secret, ticket, CSRF token, the new token's secret
    assert [secret for secret in secrets if secret in text] == []
    assert PASSWORD not in text
    placeholder = "PVEMOCK-SCRUBBED" if auth == "password" else "00000000-0000-0000-0000-000000000000"
    assert placeholder in text


def test_scrubbed_placeholders_keep_their_shape(pve_capture, tmp_path):
    path = tmp_path / "shapes.yaml"
    record(pve_capture, path)

    interactions = yaml.safe_load(path.read_text())["interactions"]
    login = interactions[0]
    assert login["request"]["body"] == "username=root%40pam&password=PVEMOCK-SCRUBBED"
    data = response_document(login["response"])["data"]
    assert data["ticket"] == "PVE:root@pam:64E10CBA::PVEMOCK-SCRUBBED"
    assert data["CSRFPreventionToken"] == "64E10CBA:PVEMOCK-SCRUBBED"
    assert login["response"]["headers"]["Set-Cookie"] == [
        "PVEAuthCookie=PVE:root@pam:64E10CBA::PVEMOCK-SCRUBBED; path=/; secure"
    ]
    token = next(i for i in interactions if "/token/" in i["request"]["uri"])
    assert response_document(token["response"])["data"]["value"] == "00000000-0000-0000-0000-000000000000"


def test_token_recordings_keep_the_token_id_and_drop_the_secret(pve_capture, tmp_path):
    path = tmp_path / "token.yaml"
    record(pve_capture, path, "token")

    first = yaml.safe_load(path.read_text())["interactions"][0]["request"]
    assert first["headers"]["Authorization"] == ["PVEAPIToken=root@pam!ci=00000000-0000-0000-0000-000000000000"]


def test_answers_are_stored_decoded_and_pretty(pve_capture, tmp_path):
    path = tmp_path / "readable.yaml"
    record(pve_capture, path)

    text = path.read_text()
    assert "gzip" not in text.split("headers")[0]
    assert '      json_text: |-\n        {\n          "data": {\n' in text  # indented JSON, not an escaped string
    assert "Content-Length" not in text


def test_json_cassettes_are_pretty_json(pve_capture, tmp_path):
    path = tmp_path / "walk.json"
    record(pve_capture, path)

    text = path.read_text()
    assert text.startswith('{\n  "version": 1,\n  "interactions": [')
    with open_cassette(path, environ={}) as session:
        assert session.client().version.get()["release"] == "8.4"


def test_addresses_and_fingerprints_can_be_replaced_by_placeholders(pve_capture, tmp_path, no_network, monkeypatch):
    path = tmp_path / "anonymous.yaml"
    monkeypatch.undo()
    options = RecordingOptions(record_mode="once", anonymize_hosts=True)
    with open_cassette(path, options, environ=pve_capture.environment()) as session:
        api = session.client()
        real_status, real_nodes = api.cluster.status.get(), api.nodes.get()

    text = path.read_text()
    assert [row["ip"] for row in real_status if "ip" in row and row["ip"] in text] == []
    assert [row["ssl_fingerprint"] for row in real_nodes if row["ssl_fingerprint"] in text] == []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: pytest.fail(f"connected to {address}"))
    with open_cassette(path, environ={}) as session:
        status = session.client().cluster.status.get()
    by_name = {row["name"]: row["ip"] for row in status if row["type"] == "node"}
    assert sorted(by_name.values()) == ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]


def test_a_request_without_a_recording_fails_with_a_diff_and_the_command(
    pve_capture, tmp_path, no_network, monkeypatch
):
    path = tmp_path / "walk.yaml"
    monkeypatch.undo()
    record(pve_capture, path)
    options = RecordingOptions(rerecord_command="pytest tests/test_x.py::test_y")
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: pytest.fail(f"connected to {address}"))

    with open_cassette(path, options, environ={}) as session, pytest.raises(CassetteMismatchError) as raised:
        session.client().nodes("node1").qemu(101).status.start.post(timeout=60, skiplock=1)

    message = str(raised.value)
    assert "has no recorded answer for this request" in message
    assert "-  body  timeout=30" in message and "+  body  timeout=60" in message
    assert "pytest tests/test_x.py::test_y --pvemock-record-mode=new_episodes" in message


@pytest.mark.parametrize("where", ["query", "body"])
def test_a_replay_miss_never_prints_a_secret(pve_capture, tmp_path, no_network, monkeypatch, where):
    path = tmp_path / "walk.yaml"
    monkeypatch.undo()
    record(pve_capture, path)
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: pytest.fail(f"connected to {address}"))
    secret = "replay-miss-password-9c1e"

    with open_cassette(path, environ={}) as session, pytest.raises(CassetteMismatchError) as raised:
        if where == "query":
            session.client().nodes("node1").scan.cifs.get(pve_capture="nas", password=secret)
        else:
            session.client().cluster.notifications.endpoints.gotify("g").put(token=secret, comment="x")

    message = str(raised.value)
    assert "has no recorded answer for this request" in message
    assert secret not in message
    assert "PVEMOCK-SCRUBBED" in message


def test_body_and_query_match_by_meaning_not_by_order(pve_capture, tmp_path):
    path = tmp_path / "walk.yaml"
    record(pve_capture, path)

    with open_cassette(path, environ={}) as session:
        api = session.client()
        assert api.nodes("node1").qemu(101).status.start.post(skiplock="1", timeout="30").startswith("UPID:node1:")
        assert api.cluster.resources.get(type="vm")


def test_new_episodes_records_only_what_is_missing_and_logs_in_for_real(pve_capture, tmp_path):
    path = tmp_path / "grow.yaml"
    record(pve_capture, path)
    before = len(yaml.safe_load(path.read_text())["interactions"])

    with open_cassette(
        path, RecordingOptions(record_mode="new_episodes"), environ=pve_capture.environment()
    ) as session:
        api = session.client()
        api.version.get()  # replayed
        api.nodes.get()  # new: recorded, which needs the real (not the scrubbed) ticket

    paths = [i["request"]["uri"] for i in yaml.safe_load(path.read_text())["interactions"]]
    assert len(paths) == before + 2  # the new login and GET /nodes
    assert paths[-1].endswith("/api2/json/nodes")


def test_rewrite_records_the_cassette_anew(pve_capture, tmp_path):
    path = tmp_path / "walk.yaml"
    path.write_text("version: 1\ninteractions: []\n")
    with open_cassette(path, RecordingOptions(record_mode="rewrite"), environ=pve_capture.environment()) as session:
        session.client().version.get()

    assert len(yaml.safe_load(path.read_text())["interactions"]) == 2


def test_a_recorded_cassette_validates_against_the_recorded_version(pve_capture, tmp_path):
    path = tmp_path / "walk.yaml"
    record(pve_capture, path)

    report = validate_cassette(path)

    assert report.ok, report.violations
    assert report.pve_version == "8.4.2"  # the recorded 8.4 is its last release
    assert report.checked["GET /nodes/{node}/tasks/{upid}/status"] == 2


def test_recording_without_the_environment_says_which_variables_to_set(tmp_path):
    options = RecordingOptions(record_mode="once")
    expected = r"set PVEMOCK_HOST .* PVEMOCK_USER and PVEMOCK_PASSWORD, or PVEMOCK_TOKEN"
    with pytest.raises(RecordingSetupError, match=expected), open_cassette(tmp_path / "x.yaml", options, environ={}):
        pass
    assert not (tmp_path / "x.yaml").exists()


def test_replaying_a_cassette_that_was_never_recorded_says_how_to_record_it(tmp_path):
    expected = r"does not exist.*PVEMOCK_HOST=.*--pvemock-record-mode=once"
    with pytest.raises(CassetteMissingError, match=expected), open_cassette(tmp_path / "never.yaml", environ={}):
        pass


def test_credentials_never_appear_in_reprs_or_the_cassette_path(pve_capture):
    from pytest_pvemock.transports.recording.environment import RealCluster

    target = RealCluster.from_environ(pve_capture.environment("token"))
    assert pve_capture.cluster.token_secret not in repr(target)
    assert PASSWORD not in repr(RealCluster.from_environ(pve_capture.environment()))


def test_once_replays_an_existing_cassette_without_needing_the_cluster(pve_capture, tmp_path, no_network, monkeypatch):
    path = tmp_path / "walk.yaml"
    monkeypatch.undo()
    recorded = record(pve_capture, path)
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: pytest.fail(f"connected to {address}"))

    with open_cassette(path, RecordingOptions(record_mode="once"), environ={}) as session:
        assert not session.recording
        assert walk(session.client()) == recorded
