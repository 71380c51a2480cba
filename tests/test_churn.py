"""Churn: a seeded stream of cluster events on the cluster clock, the same story for the same seed."""

from __future__ import annotations

import collections

import pytest
import requests

from pytest_pvemock.model.churn import Churn, ChurnSettings
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.transports.server import PveServer


def story(seed: int | str, scenario: str = "ha-three-node", hours: int = 6) -> tuple[list[dict], FakeCluster]:
    cluster = FakeCluster.from_scenario(scenario, task_mode="manual")
    churn = Churn(ChurnSettings(seed, rate=20))
    churn.attach(cluster)
    for _ in range(hours * 4):
        cluster.clock.advance(900)
    return [event.as_json() for event in churn.events], cluster


def test_the_same_seed_tells_the_same_story_and_another_seed_another() -> None:
    first, _ = story(7)
    assert first == story(7)[0]
    assert first != story(8)[0]


def test_the_story_holds_every_kind_of_event_and_leaves_its_marks() -> None:
    events, cluster = story(7, hours=12)
    kinds = collections.Counter(event["kind"] for event in events)
    for kind in ("ha-migrate", "node-loss", "node-return", "start-failure", "repair", "maintenance", "load-spike"):
        assert kinds[kind] > 0, kinds
    # the HA manager saw it: fencing after node losses, services in error after failing starts
    log = "\n".join(cluster.ha.log)
    assert "fence" in log and "error" in log
    # and the migrations ran as tasks, in the cluster's task list (so in /cluster/log and the nodes' syslog)
    assert any(task.type == "hamigrate" or task.type == "qmigrate" for task in cluster.tasks)


def test_plain_migrations_on_a_cluster_without_ha() -> None:
    events, cluster = story(3, scenario="default", hours=3)
    migrations = [event for event in events if event["kind"] == "migrate"]
    assert migrations and all(" from " in event["message"] for event in migrations)
    assert any(task.type in ("qmigrate", "vzmigrate") for task in cluster.tasks)


@pytest.mark.parametrize("settings", [{"rate": 0}, {"rate": 61}, {"max_down": -1}, {"seed": 1.5}])
def test_bad_settings_name_the_setting(settings: dict) -> None:
    options = {"seed": 1, **settings}
    with pytest.raises(ValueError, match=next(iter(settings))):
        ChurnSettings(**options)


def test_two_servers_with_the_same_seed_serve_the_same_events() -> None:
    pytest.importorskip("trustme")
    logs = []
    for _ in range(2):
        cluster = FakeCluster.from_scenario("ha-three-node")
        with PveServer(cluster, clock="manual", churn=ChurnSettings(11, rate=30)) as server:
            secret = server.cluster.access.add_token("root@pam", "ci", privsep=False)
            headers = {"Authorization": f"PVEAPIToken=root@pam!ci={secret}"}
            for _ in range(12):
                answer = requests.post(f"{server.control_url}/clock/advance", json={"seconds": 600}, headers=headers,
                                       verify=str(server.ca_file), timeout=30)  # fmt: skip
                assert answer.status_code == 200
            events = requests.get(f"{server.control_url}/events", headers=headers, verify=str(server.ca_file),
                                  timeout=30).json()  # fmt: skip
            assert events["churn"] == {"seed": 11, "rate": 30.0, "max_down": 1}
            logs.append(events["events"])
            # a reset starts the story over
            requests.post(f"{server.control_url}/reset", headers=headers, verify=str(server.ca_file), timeout=30)
            assert server.churn is not None and server.churn.events == []
    assert logs[0] == logs[1] and len(logs[0]) > 10
