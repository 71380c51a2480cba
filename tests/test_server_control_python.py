"""The control API in Python: ``pve_server.control`` in a user's suite (pytester), the same calls as over HTTP."""

from __future__ import annotations

USER_TESTS = """
import pytest
import requests

from pytest_pvemock.transports.control_api import ControlError


def nodes(server):
    login = requests.post(f"{server.url}/api2/json/access/ticket", data={"username": server.user,
                          "password": server.password}, verify=str(server.ca_file), timeout=30).json()["data"]
    answer = requests.get(f"{server.url}/api2/json/nodes", cookies={"PVEAuthCookie": login["ticket"]},
                          verify=str(server.ca_file), timeout=30)
    return {node["node"]: node["status"] for node in answer.json()["data"]}


@pytest.mark.pve_cluster("ha-three-node")
def test_fail_over_driven_from_python(pve_server, pve_cluster):
    control = pve_server.control
    assert control.power_off("pve2")["online"] is False
    assert nodes(pve_server)["pve2"] == "offline"
    control.advance(150)
    assert pve_cluster.primary_node(101) in ("pve1", "pve3")
    assert [e["path"] for e in control.requests(path="/nodes")] == ["/api2/json/nodes"]
    control.reset()
    assert nodes(pve_server)["pve2"] == "online" and pve_cluster.primary_node(101) == "pve2"


def test_faults_scenarios_and_refusals(pve_server, pve_cluster):
    control = pve_server.control
    control.inject_error("GET", "/nodes", code=503, times=1)
    with pytest.raises(TypeError):  # a 503 answer has no data
        nodes(pve_server)
    pve_cluster.assert_all_faults_used()
    text = control.dump_scenario()
    assert control.load_scenario(text.replace("name: web01", "name: web02"))["guests"] == 7
    assert pve_cluster.guest(100).config["name"] == "web02"
    with pytest.raises(ControlError, match="no such node"):
        control.maintenance("nosuch", True)
    with pytest.raises(ControlError, match="seconds"):
        control.advance(-5)
"""


def test_server_control_in_a_user_suite(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user=USER_TESTS)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
