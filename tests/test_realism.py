"""The realism check: GET answers hold nothing a real PVE node of that cluster would never send.

``pvemock realism`` walks every GET of every version in every built-in scenario and counts the answers with
placeholder words, empty objects in lists, ids the cluster does not have, or times off its clock. Not every method
is real yet (the command prints the remaining count); the methods listed here are, and must stay so.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from pytest_pvemock.api.realism_check import SCENARIOS, VERSIONS, measure, problems_in, walk_gets
from pytest_pvemock.errors import PVEError
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


# console (issue 11): pending cloud-init changes against the drive the VM was started with; the websockets with the
# ticket their proxy or tunnel call answered; schedule-analyze from the cluster's clock
REAL |= {
    "/nodes/{node}/qemu/{vmid}/cloudinit",
    "/nodes/{node}/vncwebsocket",
    "/nodes/{node}/qemu/{vmid}/vncwebsocket",
    "/nodes/{node}/lxc/{vmid}/vncwebsocket",
    "/nodes/{node}/qemu/{vmid}/mtunnelwebsocket",
    "/nodes/{node}/lxc/{vmid}/mtunnelwebsocket",
    "/cluster/jobs/schedule-analyze",
}


# console (issue 11): the agent asked about what it has, a process production's setup started in the Windows VM
# (judged there) and a file of the guest's OS (C:\Windows\win.ini on Windows, /etc/hostname ... on Debian)
AGENT_OBJECTS = {"/nodes/{node}/qemu/{vmid}/agent/exec-status", "/nodes/{node}/qemu/{vmid}/agent/file-read"}


def test_the_walk_asks_an_agent_about_its_own_processes_and_files():
    cluster = FakeCluster.from_scenario("production")
    answers = {answer.template: answer for answer in walk_gets(cluster) if answer.template in AGENT_OBJECTS}
    status, read = (answers[template] for template in sorted(AGENT_OBJECTS))
    assert (status.status, status.judged, status.problems) == (200, True, [])
    assert status.path == "/nodes/pve3/qemu/103/agent/exec-status"  # the pid its setup's exec answered
    assert (read.status, read.judged, read.problems) == (200, True, [])
    # a VM whose agent ran nothing: no pid to name, so not judged (qga's 'Invalid parameter' is all PVE says)
    fresh = {answer.template: answer for answer in walk_gets(FakeCluster.default()) if answer.template in AGENT_OBJECTS}
    assert (fresh[sorted(AGENT_OBJECTS)[0]].unfilled, fresh[sorted(AGENT_OBJECTS)[1]].status) == (("pid",), 200)


# lead: the node's certificates (the cluster CA and pve-ssl.pem it signed)
REAL |= {"/nodes/{node}/certificates/info"}


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
# acme helper (issue 11): ACME (third_party/pve-acme), TFA, node certificates, realm sync jobs
REAL |= {
    "/cluster/acme/account",
    "/cluster/acme/challenge-schema",
    "/cluster/acme/directories",
    "/cluster/acme/meta",
    "/cluster/acme/plugins",
    "/cluster/acme/plugins/{id}",
    "/cluster/acme/tos",
    "/cluster/jobs/realm-sync",
    "/access/tfa",
    "/access/tfa/{userid}",
}
# A fresh cluster has no ACME account (production registered one): PVE's 400 'ACME account config file ...
# does not exist.' (ACMEAccount.pm 317)
ABSENT = {"/cluster/acme/account/{name}"}
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


# sdn (issue 11): a node's zones and their vnets from the applied SDN config (production applies an EVPN and a simple
# zone; the other scenarios none: empty, as PVE answers before any apply), the SDN objects the cluster has, the PVE
# IPAM's entries; 9.x's dry-run diff and its fabric and prefix-list lists (tests/test_api_sdn.py,
# tests/test_api_sdn_objects.py). The objects only production holds (a node's fabric status, route maps, the EVPN
# MAC and IP VRFs ...) are judged by the whole walk below.
REAL |= {
    "/nodes/{node}/sdn/zones",
    "/nodes/{node}/sdn/zones/{zone}/content",
    "/cluster/sdn/ipams",
    "/cluster/sdn/ipams/{ipam}",
    "/cluster/sdn/ipams/{ipam}/status",
}
SDN_9 = {
    "/cluster/sdn/dry-run",
    "/cluster/sdn/fabrics/all",
    "/cluster/sdn/fabrics/fabric",
    "/cluster/sdn/fabrics/node",
    "/cluster/sdn/prefix-lists",
}

# scans helper (issue 11): storage servers (scan/nfs, cifs, glusterfs and pbs of a server no storage names answer
# PVE's error of a host that does not answer, judged by the whole walk below)
REAL |= {
    "/nodes/{node}/scan/iscsi",
}
# scans helper (issue 11): storage replication run on the cluster clock (model/replication.py); a job's own methods
# (/cluster/replication/{id}, /nodes/{node}/replication/{id} and its log and status) are judged by the whole walk on
# production's job 104-0
REAL |= {"/cluster/replication", "/nodes/{node}/replication"}


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


def test_what_a_fresh_cluster_does_not_hold_answers_pves_error(answers):
    expected = 200 if answers["scenario"] == "production" else 400  # production registered an account in setup
    assert {template: answers[template].status for template in ABSENT} == dict.fromkeys(ABSENT, expected)


def test_ceph_reads_answer_where_ceph_is_set_up(answers):
    judged = {template: answers[template] for template in CEPH}
    if answers["scenario"] == "ceph":
        assert {template: answer.status for template, answer in judged.items() if answer.status != 200} == {}
        assert {template: answer.problems for template, answer in judged.items() if answer.problems} == {}
    else:
        assert {answer.status for answer in judged.values()} == {500}


def test_the_sdn_reads_of_9x_answer_without_placeholders(answers):
    if "/cluster/sdn/dry-run" not in answers:
        pytest.skip("8.x has no SDN dry-run, fabrics or prefix lists")
    judged = {template: answers[template] for template in SDN_9}
    assert {template: answer.problems or answer.status for template, answer in judged.items()
            if answer.status != 200 or answer.problems} == {}  # fmt: skip


def test_agent_calls_answer_where_a_vm_runs_its_agent(answers):
    expected = 200 if answers["scenario"] in ("default", "production") else 500  # the others have no VM with an agent
    assert {answers[template].status for template in AGENT} == {expected}


def test_the_check_flags_what_a_real_node_never_sends():
    cluster = FakeCluster.default()
    now = cluster.clock.now()
    assert problems_in([{"vmid": 100, "node": "pve1", "time": now - 60, "storage": "local"}], cluster) == []
    found = problems_in(
        [{"nextduedate": "example"}, {}, {"vmid": 4242}, {"node": "nowhere"}, {"time": now + 10 * 86400}], cluster
    )
    assert [problem.split()[0] for problem in found] == ["placeholder", "empty", "vmid", "node", "time"]


# The end state of issue 11, with no exception: every GET of every version in every built-in scenario answers what
# PVE answers for that cluster (no placeholder, and an error only where PVE sends it for the cluster: Ceph reads
# without Ceph, agent calls without an agent, HA groups after PVE 9 moved them to rules: realism_check.expected_error),
# and each method is judged on objects the cluster has (path values taken from its own lists) in at least one
# scenario of each version.


@pytest.fixture(scope="module")
def whole_walk():
    failing: dict[str, list[str]] = defaultdict(list)
    judged: dict[str, set[str]] = defaultdict(set)
    asked: set[tuple[str, str]] = set()
    for scenario, version, answer in measure():
        asked.add((answer.template, version))
        if answer.judged:
            judged[answer.template].add(version)
        if answer.problems:
            failing[answer.template].append(f"{scenario} {version} {answer.path}: {answer.problems[0]}")
    never_judged = {template: version for template, version in asked if version not in judged[template]}
    return failing, never_judged


def test_every_get_answers_as_pve_does_on_objects_the_cluster_has(whole_walk):
    failing, never_judged = whole_walk
    assert dict(failing) == {}
    assert never_judged == {}


def test_the_walk_asks_about_objects_the_cluster_has():
    cluster = FakeCluster.default()
    cluster.guest(100).snapshot("before-upgrade", "Debian 13.1")  # VM 103 (running, with its agent) has none
    answers = {answer.template: answer for answer in walk_gets(cluster)}
    config = answers["/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config"]
    assert (config.path, config.status, config.judged) == (
        "/nodes/pve1/qemu/100/snapshot/before-upgrade/config",
        200,
        True,
    )
    assert answers["/nodes/{node}/qemu/{vmid}/agent/info"].path == "/nodes/pve3/qemu/103/agent/info"
    group = answers["/access/groups/{groupid}"]  # no group to ask about: made up, PVE's 500, not judged
    assert (group.status, group.judged, group.unfilled, group.problems) == (500, False, ("groupid",), [])


def test_an_error_pve_would_not_answer_for_the_cluster_is_a_problem():
    cluster = FakeCluster.default()

    def broken(ctx):
        raise PVEError("unable to parse config", 500)

    cluster.api_override("GET", "/nodes/{node}/qemu/{vmid}/config", broken)
    cluster.api_override("GET", "/nodes/{node}/ceph/status", broken)  # no Ceph, but not PVE's message for it
    answers = {answer.template: answer for answer in walk_gets(cluster)}
    assert answers["/nodes/{node}/qemu/{vmid}/config"].problems == ["HTTP 500: unable to parse config"]
    assert answers["/nodes/{node}/ceph/status"].problems == ["HTTP 500: unable to parse config"]
    assert answers["/nodes/{node}/ceph/pool"].expected == "Ceph is not installed on the node"
    assert answers["/nodes/{node}/ceph/pool"].problems == []
