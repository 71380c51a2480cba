"""Matching by meaning, and the playback rules for repeated requests (task polling)."""

from __future__ import annotations

import json

import pytest
import requests
from vcr.request import Request

from pytest_pvemock.cassette.file_format import CassetteFile
from pytest_pvemock.transports.recording.matchers import pve_body, pve_path, pve_query, request_key
from pytest_pvemock.transports.recording.recorder import RecordingOptions, open_cassette

BASE = "https://pve1:8006/api2/json"


def req(method="POST", path="/nodes/pve1/qemu/100/config", query="", body=None, headers=None):
    uri = f"{BASE}{path}" + (f"?{query}" if query else "")
    return Request(method, uri, body, headers or {})


def matches(matcher, left, right) -> bool:
    try:
        matcher(left, right)
    except AssertionError:
        return False
    return True


def test_form_and_json_bodies_match_by_meaning_in_any_order():
    form = req(body="cores=2&memory=2048&onboot=1")
    reordered = req(body="onboot=1&cores=2&memory=2048")
    as_json = req(body=json.dumps({"memory": 2048, "cores": "2", "onboot": True}))

    assert matches(pve_body, form, reordered)
    assert matches(pve_body, form, as_json)
    assert not matches(pve_body, form, req(body="cores=4&memory=2048&onboot=1"))


def test_queries_match_in_any_order_and_paths_after_decoding():
    assert matches(pve_query, req("GET", query="type=vm&full=1"), req("GET", query="full=1&type=vm"))
    assert not matches(pve_query, req("GET", query="type=vm"), req("GET", query="type=node"))
    assert matches(pve_path, req(path="/access/users/ci%40pve"), req(path="/access/users/ci@pve"))
    other_host = Request("POST", "https://10.0.0.9:443/api2/json/nodes/pve1/qemu/100/config", None, {})
    assert matches(pve_path, req(), other_host)


def test_credentials_and_headers_do_not_take_part():
    recorded = req(path="/access/ticket", body="username=root%40pam&password=PVEMOCK-SCRUBBED")
    replayed = req(path="/access/ticket", body="username=alice%40pve&password=whatever", headers={"X": "1"})

    assert request_key(recorded.method, recorded.uri, recorded.body) == request_key(
        replayed.method, replayed.uri, replayed.body
    )


def polling_cassette(tmp_path, statuses):
    """A cassette with the same task-status request answered once per status, in order."""
    url = f"{BASE}/nodes/pve1/tasks/UPID:pve1:0000A1B2:00C0FFEE:6553F100:qmstart:100:root@pam:/status"
    requests_ = [Request("GET", url, None, {}) for _ in statuses]
    responses = [
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": json.dumps({"data": {"status": status}}).encode()},
        }
        for status in statuses
    ]
    path = tmp_path / "poll.yaml"
    CassetteFile().save_cassette(path, {"requests": requests_, "responses": responses})
    return path, url


def test_repeated_requests_replay_in_order_then_repeat_the_last_answer(tmp_path):
    path, url = polling_cassette(tmp_path, ["running", "running", "stopped"])

    with open_cassette(path, RecordingOptions(), environ={}), requests.Session() as session:
        seen = [session.get(url).json()["data"]["status"] for _ in range(5)]

    assert seen == ["running", "running", "stopped", "stopped", "stopped"]


def test_replay_does_not_rewrite_the_cassette(tmp_path):
    path, url = polling_cassette(tmp_path, ["stopped"])
    before = path.read_text()

    with open_cassette(path, RecordingOptions(), environ={}), requests.Session() as session:
        session.get(url)

    assert path.read_text() == before


def test_custom_matchers_can_be_named_or_given_as_functions(tmp_path):
    path, url = polling_cassette(tmp_path, ["stopped"])

    def same_upid_node(r1, r2):
        assert r1.path.split("/")[5] == r2.path.split("/")[5], "other node"

    options = RecordingOptions(match_on=("method", "pve_path", same_upid_node))
    with open_cassette(path, options, environ={}), requests.Session() as session:
        assert session.get(url, params={"ignored": "1"}).json()["data"]["status"] == "stopped"


def test_an_unknown_record_mode_is_refused_with_the_list():
    with pytest.raises(ValueError, match="unknown record mode 'sometimes'; use one of none, once, new_episodes"):
        RecordingOptions(record_mode="sometimes")
