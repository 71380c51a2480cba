"""The request log of a cluster (``pve_cluster.requests``) and its responses-style assertions, as a user's suite uses
them in-process."""

from __future__ import annotations

USER_TESTS = """
import pytest


def test_calls_are_logged_with_secrets_masked(pve_api, pve_cluster):
    pve_api.nodes("pve2").qemu(102).status.start.post()
    pve_api.access.users.post(userid="ops@pve", password="very-secret-1")
    pve_cluster.assert_called("POST", "/nodes/{node}/qemu/{vmid}/status/start")
    pve_cluster.requests.assert_called("POST", "/access/users", times=1)
    pve_cluster.requests.assert_not_called("DELETE", "/access/users/{userid}")
    [create] = pve_cluster.requests.calls("POST", "/access/users")
    assert create.status == 200 and ("password", "PVEMOCK-SCRUBBED") in create.parameters
    assert "very-secret-1" not in repr(list(pve_cluster.requests))
    login = pve_cluster.requests.calls("POST", "/access/ticket")[0]
    assert ("password", "PVEMOCK-SCRUBBED") in login.parameters


def test_assert_called_names_what_was_called(pve_api, pve_cluster):
    pve_api.nodes.get()
    with pytest.raises(AssertionError, match="GET /cluster/resources.*GET /nodes \\\\(200\\\\)"):
        pve_cluster.assert_called("GET", "/cluster/resources")


def test_every_injected_fault_used(pve_api, pve_cluster):
    pve_cluster.inject_error("GET", "/nodes", code=503, message="busy", times=2)
    for _ in range(2):
        with pytest.raises(Exception, match="503"):
            pve_api.nodes.get()
    pve_cluster.assert_all_faults_used()


def test_unused_fault_fails(pve_api, pve_cluster):
    pve_cluster.inject_error("GET", "/version", times=None)
    with pytest.raises(AssertionError, match="GET /version \\\\(500\\\\): never used"):
        pve_cluster.assert_all_faults_used()
"""


def test_request_log_in_a_user_suite(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user=USER_TESTS)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=4)
