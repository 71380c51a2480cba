"""The pve_server fixture as a user's test suite uses it, including under pytest-xdist."""

from __future__ import annotations

USER_TESTS = """
import requests


def login(server):
    data = {"username": server.user, "password": server.password}
    answer = requests.post(f"{server.url}/api2/json/access/ticket", data=data, verify=str(server.ca_file), timeout=30)
    return {"PVEAuthCookie": answer.json()["data"]["ticket"]}


def users(server, cookies):
    url = f"{server.url}/api2/json/access/users"
    answer = requests.get(url, cookies=cookies, verify=str(server.ca_file), timeout=30)
    return sorted(user["userid"] for user in answer.json()["data"])


def test_state_changed_by_the_test_is_seen_by_the_client(pve_server):
    cookies = login(pve_server)
    with pve_server.lock:
        pve_server.cluster.access.add_user("dave@pve")
    assert users(pve_server, cookies) == ["dave@pve", "root@pam"]


def test_each_test_gets_a_fresh_cluster(pve_server):
    assert users(pve_server, login(pve_server)) == ["root@pam"]


def test_servers_have_their_own_ports(pve_server, pve_server_session):
    assert pve_server.port != pve_server_session.port
"""


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def test_pve_server_in_a_user_suite(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(test_user=USER_TESTS)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_pve_server_under_xdist_picks_free_ports(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(test_user=USER_TESTS, test_user_copy=USER_TESTS)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=6)
