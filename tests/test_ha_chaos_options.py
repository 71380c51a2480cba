"""Seeded HA chaos (and the time zone) from a scenario (``ha: {chaos: ...}``), the marker and the cluster factory."""

from __future__ import annotations

import pytest

from pytest_pvemock.mocking import ClusterFactory
from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario import ScenarioError, scenario_text
from pytest_pvemock.model.cluster import FakeCluster

QUIET = ("-p", "no:hypothesispytest", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist", "-p", "no:cacheprovider")


def ha_three_node_with(chaos: str) -> str:
    """The built-in ha-three-node scenario with ``chaos`` (YAML) under its ``ha:`` section."""
    text = scenario_text("ha-three-node")[1]
    assert "\nha:\n" in text
    return text.replace("\nha:\n", f"\nha:\n  chaos: {chaos}\n")


def run_for(cluster: FakeCluster, steps: int = 60) -> list[str]:
    for _ in range(steps):
        cluster.clock.advance(10)
    return list(cluster.ha.log)


def calm_log(steps: int = 60) -> list[str]:
    return run_for(FakeCluster.from_scenario("ha-three-node"), steps)


def test_scenario_chaos_with_the_same_seed_gives_the_same_run():
    text = ha_three_node_with("{seed: 7, rate: 0.5, max_down: 1}")
    first = run_for(build_from_text(text, "lab.yaml"))
    second = run_for(build_from_text(text, "lab.yaml"))
    assert first == second
    assert first != calm_log(), "chaos injected nothing in 60 rounds at rate 0.5"
    other = run_for(build_from_text(ha_three_node_with("{seed: 8, rate: 0.5, max_down: 1}"), "lab.yaml"))
    assert other != first


def test_scenario_chaos_is_the_python_chaos_of_that_seed():
    from_scenario = build_from_text(ha_three_node_with("{seed: 7, rate: 0.5}"), "lab.yaml")
    from_python = FakeCluster.from_scenario("ha-three-node")
    from_python.ha.enable_chaos(7, rate=0.5)
    assert run_for(from_scenario) == run_for(from_python)


def test_a_bare_seed_is_chaos_with_the_default_rate():
    cluster = build_from_text(ha_three_node_with("7"), "lab.yaml")
    assert (cluster.ha.chaos.seed, cluster.ha.chaos.rate, cluster.ha.chaos.max_down) == (7, 0.3, 1)


def test_rate_zero_injects_nothing():
    cluster = build_from_text(ha_three_node_with("{seed: 7, rate: 0}"), "lab.yaml")
    assert run_for(cluster, 30) == calm_log(30)


def test_chaos_reaches_resources_added_after_it_began():
    cluster = build_from_text(ha_three_node_with("{seed: 3, rate: 1}"), "lab.yaml")
    cluster.ha.remove_resource("vm:100")
    cluster.add_vm(vmid=300, node="pve1", name="late01")
    cluster.ha.add_resource(300)
    cluster.add_node("pve4")
    run_for(cluster, 1)
    assert "vm:300" in cluster.ha.chaos.sids and "vm:100" not in cluster.ha.chaos.sids
    assert "pve4" in cluster.ha.chaos.nodes


# (the 'chaos' value, from line 3 of the file) -> (the line named, the problem)
BAD_CHAOS = {
    "\n    seed: 7\n    rate: 2": (5, "chaos 'rate' must be a number from 0 to 1, not 2"),
    "\n    seed: 7\n    speed: 2": (5, "unknown chaos setting(s) speed; known: seed, rate, max_down"),
    "\n    seed: yes": (4, "chaos 'seed' must be an integer or a string, not True"),
    "\n    seed: 7\n    max_down: -1": (5, "chaos 'max_down' must be an integer of 0 or more, not -1"),
    " {rate: 0.5}": (3, "chaos needs a 'seed' (an integer or a string)"),
    " [7]": (3, "chaos 'seed' must be an integer or a string, not [7]"),
}


@pytest.mark.parametrize("chaos", BAD_CHAOS)
def test_bad_chaos_settings_are_reported_with_file_and_line(chaos):
    line, problem = BAD_CHAOS[chaos]
    with pytest.raises(ScenarioError) as error:
        build_from_text(f"nodes: [{{name: pve1}}]\nha:\n  chaos:{chaos}\n", "lab.yaml")
    assert str(error.value) == f"lab.yaml, line {line}: 'ha: chaos': {problem}"


def test_the_factory_takes_chaos_like_the_marker():
    factory = ClusterFactory()
    try:
        first = factory("ha-three-node", ha_chaos={"seed": "lab", "rate": 0.5})
        second = factory("ha-three-node", ha_chaos={"seed": "lab", "rate": 0.5})
        assert first.ha.chaos is not None and first.ha.chaos.seed == "lab"
        assert run_for(first) == run_for(second)
    finally:
        factory.close()


def test_the_marker_turns_on_seeded_chaos(pytester):
    pytester.makepyfile(
        """
        import pytest
        from pytest_pvemock.model.cluster import FakeCluster

        def run_for(cluster):
            for _ in range(60):
                cluster.clock.advance(10)
            return list(cluster.ha.log)

        def expected(seed, rate):
            cluster = FakeCluster.from_scenario("ha-three-node")
            cluster.ha.enable_chaos(seed, rate=rate)
            return run_for(cluster)

        @pytest.mark.pve_cluster("ha-three-node", ha_chaos=7)
        def test_seed(pve_cluster):
            assert (pve_cluster.ha.chaos.seed, pve_cluster.ha.chaos.rate) == (7, 0.3)
            assert run_for(pve_cluster) == expected(7, 0.3)

        @pytest.mark.pve_cluster("ha-three-node", ha_chaos={"seed": 7, "rate": 0.5, "max_down": 1})
        def test_settings(pve_cluster):
            log = run_for(pve_cluster)
            assert log == expected(7, 0.5) and log != expected(8, 0.5)

        @pytest.mark.pve_cluster("ha-three-node", timezone="Europe/Vienna")
        def test_without(pve_cluster):
            assert pve_cluster.ha.chaos is None and pve_cluster.timezone == "Europe/Vienna"
        """
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=3)


BAD_MARKERS = {
    'ha_chaos={"seed": 7, "rate": 2}': "pve_cluster marker: ha_chaos: chaos 'rate' must be a number from 0 to 1, not 2",
    'ha_chaos={"rate": 0.5}': "pve_cluster marker: ha_chaos: chaos needs a 'seed' (an integer or a string)",
    "ha_chaos=1.5": "pve_cluster marker: ha_chaos: chaos 'seed' must be an integer or a string, not 1.5",
    'timezone="Mars/Olympus"': "pve_cluster marker: timezone: unknown timezone 'Mars/Olympus'*",
}


def test_bad_chaos_and_timezone_marker_arguments_are_one_line_errors(pytester):
    tests = "".join(
        f"""
@pytest.mark.pve_cluster("ha-three-node", {marker})
def test_{index}(pve_cluster):
    pass
"""
        for index, marker in enumerate(BAD_MARKERS)
    )
    pytester.makepyfile("import pytest\n" + tests)
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(errors=len(BAD_MARKERS))
    result.stdout.fnmatch_lines_random([f"*{message}*" for message in BAD_MARKERS.values()])
    result.stdout.no_fnmatch_line("*Traceback*")
