"""The realism check: GET answers hold nothing a real PVE node of that cluster would never send.

``pvemock realism`` walks every GET of every version in every built-in scenario and counts the answers with
placeholder words, empty objects in lists, ids the cluster does not have, or times off its clock. Not every method
is real yet (the command prints the remaining count); the methods listed here are, and must stay so.
"""

from __future__ import annotations

import pytest

from pytest_pvemock.api.realism_check import SCENARIOS, VERSIONS, problems_in, walk_gets
from pytest_pvemock.model.cluster import FakeCluster

REAL = {
    "/nodes/{node}/subscription",
    "/cluster/backup-info/not-backed-up",
    "/cluster/resources",
    "/cluster/status",
    "/nodes/{node}/status",
    "/nodes/{node}/qemu",
    "/nodes/{node}/lxc",
    "/nodes/{node}/qemu/{vmid}/status/current",
    "/nodes/{node}/lxc/{vmid}/status/current",
    "/nodes/{node}/storage",
    "/nodes/{node}/tasks",
    "/cluster/ha/status/current",
    "/version",
    "/nodes/{node}/rrddata",
    "/nodes/{node}/rrd",
    "/nodes/{node}/qemu/{vmid}/rrddata",
    "/nodes/{node}/qemu/{vmid}/rrd",
    "/nodes/{node}/lxc/{vmid}/rrddata",
    "/nodes/{node}/lxc/{vmid}/rrd",
    "/nodes/{node}/storage/{storage}/rrddata",
    "/nodes/{node}/storage/{storage}/rrd",
}


@pytest.fixture(scope="module", params=[(scenario, version) for scenario in SCENARIOS for version in VERSIONS])
def answers(request):
    scenario, version = request.param
    cluster = FakeCluster.from_scenario(scenario, version=version)
    return {answer.template: answer for answer in walk_gets(cluster)}


def test_the_methods_made_real_answer_without_placeholders(answers):
    judged = {template: answers[template] for template in REAL if template in answers}
    assert len(judged) == len(REAL)
    failing = {template: answer.problems or [f"HTTP {answer.status}"] for template, answer in judged.items()
               if answer.status != 200 or answer.problems}  # fmt: skip
    assert not failing


def test_the_check_flags_what_a_real_node_never_sends():
    cluster = FakeCluster.default()
    now = cluster.clock.now()
    assert problems_in([{"vmid": 100, "node": "pve1", "time": now - 60, "storage": "local"}], cluster) == []
    found = problems_in(
        [{"nextduedate": "example"}, {}, {"vmid": 4242}, {"node": "nowhere"}, {"time": now + 10 * 86400}], cluster
    )
    assert [problem.split()[0] for problem in found] == ["placeholder", "empty", "vmid", "node", "time"]
