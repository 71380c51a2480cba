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
    # nodedata: per-release node data (third_party/pve-packages) and what the node derives from its state
    "/nodes/{node}/aplinfo",
    "/nodes/{node}/apt/changelog",
    "/nodes/{node}/apt/repositories",
    "/nodes/{node}/apt/update",
    "/nodes/{node}/apt/versions",
    "/nodes/{node}/capabilities/qemu/cpu",
    "/nodes/{node}/capabilities/qemu/machines",
    "/nodes/{node}/hardware/pci",
    "/nodes/{node}/hardware/pci/{pci-id-or-mapping}/mdev",
    "/nodes/{node}/hardware/usb",
    "/nodes/{node}/journal",
    "/nodes/{node}/netstat",
    "/nodes/{node}/report",
    "/nodes/{node}/vzdump/defaults",
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
    "/nodes/{node}/lxc/{vmid}/interfaces",
    "/nodes/{node}/services",
    "/nodes/{node}/services/{service}/state",
    "/nodes/{node}/syslog",
    "/cluster/log",
    "/nodes/{node}/dns",
    "/nodes/{node}/hosts",
    # firewall data and logs (lead)
    "/cluster/firewall/macros",
    "/cluster/firewall/refs",
    "/nodes/{node}/firewall/log",
    "/nodes/{node}/qemu/{vmid}/firewall/log",
    "/nodes/{node}/qemu/{vmid}/firewall/refs",
    "/nodes/{node}/lxc/{vmid}/firewall/log",
    "/nodes/{node}/lxc/{vmid}/firewall/refs",
    "/cluster/metrics/export",
    "/cluster/notifications/matcher-fields",
    "/cluster/notifications/matcher-field-values",
    "/cluster/config/join",
    "/cluster/config/nodes",
    "/cluster/config/totem",
    "/nodes/{node}/qemu/{vmid}/feature",
    "/nodes/{node}/qemu/{vmid}/cloudinit/dump",
}
# Answered only where a VM runs with ``agent: 1`` (the default scenario's win11); PVE's 500 elsewhere.
AGENT = {
    f"/nodes/{{node}}/qemu/{{vmid}}/agent/{command}"
    for command in ("get-fsinfo", "get-host-name", "get-memory-block-info", "get-memory-blocks", "get-osinfo",
                    "get-time", "get-timezone", "get-users", "get-vcpus", "info", "network-get-interfaces")
}  # fmt: skip


# ceph helper (issue 11): disks and LVM agreeing with the storages and the OSDs
REAL |= {
    "/nodes/{node}/disks/directory",
    "/nodes/{node}/disks/list",
    "/nodes/{node}/disks/lvm",
    "/nodes/{node}/disks/lvmthin",
    "/nodes/{node}/disks/zfs",
    "/nodes/{node}/scan/lvm",
    "/nodes/{node}/scan/lvmthin",
    "/nodes/{node}/scan/zfs",
}
# ceph (issue 11): answered where Ceph is set up (the ceph scenario), PVE's 500 'binary not installed' elsewhere.
CEPH = {
    "/cluster/ceph/flags",
    "/cluster/ceph/flags/{flag}",
    "/cluster/ceph/metadata",
    "/cluster/ceph/status",
    "/nodes/{node}/ceph/cfg/db",
    "/nodes/{node}/ceph/cfg/raw",
    "/nodes/{node}/ceph/cfg/value",
    "/nodes/{node}/ceph/cmd-safety",
    "/nodes/{node}/ceph/crush",
    "/nodes/{node}/ceph/fs",
    "/nodes/{node}/ceph/log",
    "/nodes/{node}/ceph/mds",
    "/nodes/{node}/ceph/mgr",
    "/nodes/{node}/ceph/mon",
    "/nodes/{node}/ceph/osd",
    "/nodes/{node}/ceph/osd/{osdid}/lv-info",
    "/nodes/{node}/ceph/osd/{osdid}/metadata",
    "/nodes/{node}/ceph/pool",
    "/nodes/{node}/ceph/pool/{name}/status",
    "/nodes/{node}/ceph/rules",
    "/nodes/{node}/ceph/status",
}


@pytest.fixture(scope="module", params=[(scenario, version) for scenario in SCENARIOS for version in VERSIONS])
def answers(request):
    scenario, version = request.param
    cluster = FakeCluster.from_scenario(scenario, version=version)
    answers = {answer.template: answer for answer in walk_gets(cluster)}
    answers["scenario"] = scenario
    return answers


def test_the_methods_made_real_answer_without_placeholders(answers):
    judged = {template: answers[template] for template in REAL | AGENT}
    assert len(judged) == len(REAL | AGENT)
    failing = {template: answer.problems or [f"HTTP {answer.status}"] for template, answer in judged.items()
               if (answer.status != 200 and template not in AGENT) or answer.problems}  # fmt: skip
    assert not failing


def test_ceph_reads_answer_where_ceph_is_set_up(answers):
    judged = {template: answers[template] for template in CEPH}
    if answers["scenario"] == "ceph":
        assert {template: answer.status for template, answer in judged.items() if answer.status != 200} == {}
        assert {template: answer.problems for template, answer in judged.items() if answer.problems} == {}
    else:
        assert {answer.status for answer in judged.values()} == {500}


def test_agent_calls_answer_where_a_vm_runs_its_agent(answers):
    expected = 200 if answers["scenario"] == "default" else 500  # ha-three-node and ceph have no VM with an agent
    assert {answers[template].status for template in AGENT} == {expected}


def test_the_check_flags_what_a_real_node_never_sends():
    cluster = FakeCluster.default()
    now = cluster.clock.now()
    assert problems_in([{"vmid": 100, "node": "pve1", "time": now - 60, "storage": "local"}], cluster) == []
    found = problems_in(
        [{"nextduedate": "example"}, {}, {"vmid": 4242}, {"node": "nowhere"}, {"time": now + 10 * 86400}], cluster
    )
    assert [problem.split()[0] for problem in found] == ["placeholder", "empty", "vmid", "node", "time"]
