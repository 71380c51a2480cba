"""A scenario's ``setup``: API writes an admin made before the test begins, answered as PVE answers them.

The built-in ``production`` scenario is the default cluster with what its admins configured since (users and a token,
the datacenter firewall, a guest's own firewall, a backup job, snapshots, a mail target, a metric server), so that
the objects only the API's collections keep exist as PVE made them.
"""

from __future__ import annotations

import pytest

from pytest_pvemock import mock
from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario import ScenarioError
from tests.support.clients import proxmoxer_client, task_log

pytestmark = pytest.mark.pve_cluster("production", validate=True)

NODES = """
nodes: [{name: pve1}]
storage: [{storage: local-lvm, type: lvmthin, content: [images, rootdir]}]
guests: [{vmid: 100, type: qemu, node: pve1, name: web01, status: running}]
"""


def test_the_production_cluster_holds_what_its_admins_set_up(pve_api, pve_cluster):
    assert [group["groupid"] for group in pve_api.access.groups.get()] == ["admins"]
    assert {(entry["ugid"], entry["roleid"]) for entry in pve_api.access.acl.get()} == {
        ("admins", "Administrator"),
        ("prometheus@pve", "PVEAuditor"),
    }
    assert pve_api.access.users("prometheus@pve").token("monitoring").get()["privsep"] == 0
    assert [rule["macro"] for rule in pve_api.cluster.firewall.groups("webserver").get()] == ["HTTP", "HTTPS"]
    assert pve_api.nodes("pve1").qemu(100).firewall.rules(0).get()["action"] == "webserver"
    (job,) = pve_api.cluster.backup.get()
    assert (job["id"], job["pool"], job["schedule"]) == ("backup-5e1b6c2a-7f3d", "prod", "21:00")
    targets = {(target["name"], target["type"]) for target in pve_api.cluster.notifications.targets.get()}
    assert targets == {("mail-to-root", "sendmail"), ("ops-mail", "smtp"), ("oncall-gotify", "gotify"),
                       ("oncall-ntfy", "webhook")}  # fmt: skip
    assert pve_cluster.requests.calls("POST", "/cluster/backup") == []  # the setup is not the test's traffic


def test_a_snapshot_taken_in_setup_left_its_finished_task_in_the_node_history(pve_api):
    snapshots = {row["name"]: row for row in pve_api.nodes("pve1").qemu(100).snapshot.get()}
    assert snapshots["current"]["parent"] == "before-upgrade"
    (task,) = pve_api.nodes("pve1").tasks.get(typefilter="qmsnapshot")
    assert task["upid"].startswith("UPID:pve1:") and ":qmsnapshot:100:root@pam:" in task["upid"]
    assert (task["status"], task["starttime"]) == ("OK", snapshots["before-upgrade"]["snaptime"])
    assert task_log(pve_api, task["upid"])[-1] == "TASK OK"


@pytest.mark.pve_cluster("production", task_mode="manual")
def test_setup_tasks_have_finished_whatever_the_task_mode(pve_api):
    assert pve_api.nodes("pve2").tasks.get(source="active") == []
    assert [row["name"] for row in pve_api.nodes("pve2").lxc(110).snapshot.get()] == ["before-upgrade", "current"]


def test_an_ip_set_entry_is_addressed_by_its_cidr_slash_and_all(pve_api):
    # pve-firewall src/PVE/API2/Firewall/IPSet.pm 765-767 (6f1311f3): '{name}' is registered with fragmentDelimiter
    # '' "because CIDR address contain a slash", so the rest of the path is the entry
    entry = pve_api.cluster.firewall.ipset("management")("192.168.100.0/24").get()
    assert entry["cidr"] == "192.168.100.0/24"
    pve_api.nodes("pve2").lxc(110).firewall.ipset("dns-clients")("192.168.100.0/24").delete()
    assert pve_api.nodes("pve2").lxc(110).firewall.ipset("dns-clients").get() == []


def test_a_setup_request_is_checked_as_pve_checks_it_when_the_file_is_read():
    with pytest.raises(ScenarioError) as error:
        build_from_text(NODES + "setup:\n  - POST /cluster/firewall/aliases: {name: mgmt, cidr: 'not an address'}\n")
    assert str(error.value).startswith("<scenario>, line 6: setup request 'POST /cluster/firewall/aliases': cidr: ")
    with pytest.raises(ScenarioError, match=r"line 6: setup request 'POST /cluster/nope': PVE 9\.1 has no method POST"):
        build_from_text(NODES + "setup:\n  - POST /cluster/nope: {}\n")
    with pytest.raises(ScenarioError, match="line 6: setup request 'GET /version': the method must be one of POST"):
        build_from_text(NODES + "setup:\n  - GET /version: {}\n")


def test_a_setup_request_pve_refuses_names_its_line_when_the_cluster_first_answers():
    text = NODES + "setup:\n" + "  - POST /cluster/firewall/aliases: {name: mgmt, cidr: 192.168.100.0/24}\n" * 2
    cluster = build_from_text(text, "lab.yaml")
    with pytest.raises(ScenarioError) as error, mock(cluster):
        pass
    assert str(error.value) == (
        "lab.yaml, line 7: setup request 'POST /cluster/firewall/aliases': alias 'mgmt' already exists"
    )


def test_a_backup_jobs_retention_reads_back_as_an_object(pve_api):
    # pve-manager PVE/API2/Backup.pm 158-173 (14a22df3): property strings in POST and PUT, objects in the answers
    (job,) = pve_api.cluster.backup.get()
    assert job["prune-backups"] == {"keep-daily": 7, "keep-weekly": 4}
    assert pve_api.cluster.backup(job["id"]).get()["prune-backups"] == {"keep-daily": 7, "keep-weekly": 4}


@pytest.mark.pve_cluster("ha-three-node", version="8.4", validate=True)
def test_a_node_affinity_rule_is_the_group_it_came_from_before_pve_9(pve_api):
    # PVE 9 migrates HA groups to node-affinity rules (pve-ha-manager src/PVE/HA/Manager.pm 862ff, b71218f2); a PVE 8
    # cluster of the same kind holds the group, its resources in it, and answers no rules (501)
    assert pve_api.cluster.ha.groups("db-prefers-pve3").get()["nodes"] == "pve3:2,pve1:1"
    assert pve_api.cluster.ha.resources("vm:102").get()["group"] == "db-prefers-pve3"
    assert "group" not in pve_api.cluster.ha.resources("vm:100").get()


@pytest.mark.parametrize("version", ["7.0", "7.4", "8.0", "8.4", "9.1"])
def test_the_production_scenario_answers_on_every_major_what_that_release_could_set_up(pve_cluster_factory, version):
    cluster = pve_cluster_factory("production", version=version)
    with mock(cluster):
        api = proxmoxer_client(cluster)
        assert [alias["name"] for alias in api.cluster.firewall.aliases.get()] == ["mgmt-net"]
        targets = {target["name"] for target in api.cluster.notifications.targets.get()} if version >= "8.1" else set()
        jobs = [job["id"] for job in api.cluster.backup.get()]
    assert ("ops-mail" in targets) == (version >= "8.1")  # notification targets came with 8.1
    assert jobs == ([] if version == "7.0" else ["backup-5e1b6c2a-7f3d"])  # a job's 'schedule' came with 7.1


def test_a_setup_request_since_a_later_release_is_skipped_on_an_older_cluster():
    text = (
        NODES + "setup:\n  - POST /cluster/firewall/aliases: {name: mgmt, cidr: 192.168.100.0/24}\n    since: '9.1'\n"
    )
    assert len(build_from_text(text, version="9.1").setup_requests) == 1
    assert build_from_text(text, version="8.4").setup_requests == []
    with pytest.raises(ScenarioError, match=r"line 7: setup request 'since: soon' must be a PVE release such as 8\.1"):
        build_from_text(text.replace("'9.1'", "soon"))
