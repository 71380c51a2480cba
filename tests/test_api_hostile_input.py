"""Bombs in request bodies get pveproxy's answers, and a stream of internal errors keeps a bounded record.

pve-http-server (src/PVE/APIServer/AnyEvent.pm, commit 5c9e4ea773364bdb7ae0e2faec5750fe58129a47): a body longer
than $limit_max_post (512 KiB, line 54) is refused with 501 "for data too large" (line 1706); a JSON body is read
by decode_json (line 934), JSON::XS with max_depth 512, inside handle_api2_request's eval, whose error is a 500
with the die message (line 1068). Python's decoder would raise RecursionError near 1000 levels instead.
"""

from __future__ import annotations

import json
import warnings

import pytest

from pytest_pvemock.api.app import INTERNAL_ERRORS_KEPT, MAX_POST, InternalErrorWarning, PveApi
from pytest_pvemock.api.handler import Principal
from pytest_pvemock.api.messages import ApiRequest
from pytest_pvemock.json_nesting import MAX_DEPTH, NestingError, loads

NESTING_MESSAGE = "json text or perl structure exceeds maximum nesting level (max_depth set too low?)"


def _post_json(session, url, body: str):
    return session.post(url, data=body.encode(), headers={"Content-Type": "application/json"})


def test_json_nested_1000_deep_is_pves_500_not_a_recursion_error(pve_cluster, ticket_session):
    body = '{"comment": ' + "[" * 1000 + "]" * 1000 + "}"
    answer = _post_json(ticket_session, f"{pve_cluster.url}/api2/json/access/users", body)
    assert answer.status_code == 500
    assert answer.reason.startswith(NESTING_MESSAGE)
    assert "at character offset 523 " in answer.reason  # the 512th "[" opens level 513 (after the "{")


def test_json_within_the_depth_limit_reaches_the_parameter_check(pve_cluster, ticket_session):
    body = '{"userid": "bob@pve", "comment": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    answer = _post_json(ticket_session, f"{pve_cluster.url}/api2/json/access/users", body)
    assert (answer.status_code, answer.reason) == (400, "Parameter verification failed.")
    assert answer.json()["errors"] == {"comment": "type check ('string') failed - got ARRAY"}


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"comment": "[" * 5000, "quoted": '\\"[[[' * 300})
    assert loads(text)["comment"] == "[" * 5000
    with pytest.raises(NestingError):
        loads("[" * 513 + "]" * 513)
    assert loads("[" * 512 + "]" * 512) is not None


def test_body_over_pveproxys_limit_is_refused_with_501(pve_cluster, ticket_session):
    body = "comment=" + "x" * MAX_POST
    answer = ticket_session.post(
        f"{pve_cluster.url}/api2/json/access/users",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (answer.status_code, answer.reason, answer.text) == (501, "for data too large", "for data too large")


def test_deep_json_in_a_command_batch_parameter_is_a_format_error(pve_cluster, ticket_session):
    commands = "[" * 2000 + "]" * 2000
    answer = ticket_session.post(f"{pve_cluster.url}/api2/json/nodes/pve1/execute", data={"commands": commands})
    assert answer.status_code == 400
    assert answer.json()["errors"]["commands"].startswith(
        f"invalid format - commands param did not contain valid JSON: {NESTING_MESSAGE}"
    )


def test_internal_errors_are_all_answered_and_counted_but_only_the_last_kept(pve_cluster, monkeypatch):
    calls = iter(range(10_000))

    def broken(ctx):
        raise RuntimeError(f"boom {next(calls)}")

    pve_cluster.api_override("GET", "/access/domains", broken)
    api = PveApi(pve_cluster)
    monkeypatch.setattr(api.auth, "authenticate", lambda *args: Principal(userid="root@pam"))
    sent = INTERNAL_ERRORS_KEPT + 50
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answers = [api.handle(ApiRequest("GET", "/api2/json/access/domains")) for _ in range(sent)]
    assert {(answer.status, answer.reason) for answer in answers} == {(500, answer.reason) for answer in answers}
    assert answers[-1].reason == f"RuntimeError: boom {sent - 1}"
    assert api.internal_error_count == sent
    assert len(api.internal_errors) == INTERNAL_ERRORS_KEPT
    assert f"RuntimeError: boom {sent - 1}" in api.internal_errors[-1]
    assert "RuntimeError: boom 50\n" in api.internal_errors[0]
    assert sum(issubclass(w.category, InternalErrorWarning) for w in caught) == sent
