"""The parts of a scenario file a dump writes besides guests and storage (``access``, ``config``, runtime figures,
``secret_env``): loaded as written and answered through proxmoxer, refused with the file and the line."""

from __future__ import annotations

import re
from pathlib import Path

import proxmoxer
import pytest

from pytest_pvemock import FakeCluster, mock
from pytest_pvemock.model.builders.scenario import ScenarioError, spec_from_text

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "scenarios.md").read_text(encoding="utf-8")
BASE = "nodes: [{name: pve1}, {name: pve2}]\nguests: [{vmid: 100, node: pve1, status: running}]\n"


def docs_config_example() -> str:
    return next(block for block in re.findall(r"```yaml\n(.*?)```", DOCS, re.S) if block.startswith("config:"))


def test_the_config_example_of_the_docs_loads_and_answers_as_written(tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(BASE + docs_config_example())
    cluster = FakeCluster.from_scenario(str(path))
    with mock(cluster):
        api = proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user="root@pam", password="pvemock",
                                   verify_ssl=False)  # fmt: skip
        rules = api.cluster.firewall.rules.get()
        assert [(rule["pos"], rule["action"], rule["dport"]) for rule in rules] == [(0, "ACCEPT", "22")]
        assert api.cluster.firewall.options.get()["policy_in"] == "DROP"
        assert api.nodes("pve1").qemu(100).firewall.rules.get()[0]["action"] == "REJECT"
        assert [subnet["subnet"] for subnet in api.cluster.sdn.vnets("vnet1").subnets.get()] == ["10.1.0.0/24"]
        assert {matcher["name"] for matcher in api.cluster.notifications.matchers.get()} == {"match1"}
        assert api.cluster.backup("nightly").get()["schedule"] == "daily"
        # proxmox-acme's parse_config always adds the standalone plugin
        assert {plugin["plugin"] for plugin in api.cluster.acme.plugins.get()} == {"cloudflare", "standalone"}
        # the guest's firewall follows it to another node
        api.nodes("pve1").qemu(100).migrate.post(target="pve2", online=1)
        assert api.nodes("pve2").qemu(100).firewall.rules.get()[0]["action"] == "REJECT"


def test_access_gives_groups_roles_and_acl_that_permissions_follow() -> None:
    text = (
        BASE
        + """\
users:
  - {userid: alice@pve, password: alicepass, groups: [ops]}
access:
  groups: [{groupid: ops, comment: Operations}]
  roles: [{roleid: Restarter, privs: "VM.Audit,VM.PowerMgmt"}]
  acl: [{path: /vms/100, type: group, ugid: ops, roleid: Restarter}]
"""
    )
    cluster = FakeCluster.from_spec(spec_from_text(text, "lab.yaml"))
    with mock(cluster):
        alice = proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user="alice@pve", password="alicepass",
                                     verify_ssl=False)  # fmt: skip
        assert [guest["vmid"] for guest in alice.cluster.resources.get(type="vm")] == [100]
        alice.nodes("pve1").qemu(100).status.shutdown.post()
        with pytest.raises(proxmoxer.ResourceException, match="403"):
            alice.nodes("pve1").qemu(100).config.put(cores=4)


def test_a_token_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE + "users: [{userid: root@pam, tokens: [{tokenid: ci, privsep: false, secret_env: LAB_CI_SECRET}]}]\n"
    monkeypatch.setenv("LAB_CI_SECRET", "0d9c8b7a-6f5e-4d3c-9b1a-0f9e8d7c6b5a")
    cluster = FakeCluster.from_spec(spec_from_text(text, "lab.yaml"))
    with mock(cluster):
        api = proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user="root@pam", token_name="ci",
                                   token_value="0d9c8b7a-6f5e-4d3c-9b1a-0f9e8d7c6b5a", verify_ssl=False)  # fmt: skip
        assert [node["node"] for node in api.nodes.get()] == ["pve1", "pve2"]


@pytest.mark.parametrize(
    ("part", "line", "message"),
    [
        ("config:\n  /cluster/nothing: {a: 1}\n", 4, "'config': no such API path '/cluster/nothing'"),
        ("config:\n  /nodes/pve9/firewall/options: {enable: 1}\n", 4, "names unknown node 'pve9'"),
        ("config:\n  /nodes/pve1/lxc/100/firewall/rules: []\n", 4, "names no such lxc guest"),
        ("config:\n  /cluster/firewall/rules: {a: 1}\n", 4, "holds firewall rules: a list of rules"),
        ("config:\n  /cluster/firewall/rules:\n    - {type: sideways, action: DROP}\n", 5, "'type' of a rule of"),
        ("config:\n  /cluster/firewall/options: {policy_in: MAYBE}\n", 4, "'policy_in' of 'config: /cluster/fire"),
        ("config:\n  /cluster/sdn/zones:\n    z1: {type: nosuch}\n", 5, "'type' of record 'z1'"),
        ("config:\n  /cluster/sdn/vnets/v1/subnets: {}\n", 4, "belongs to 'v1', which '/cluster/sdn/vnets' does not"),
        ("config:\n  /cluster/firewall/groups: {}\n  /cluster/firewall/groups/web: []\n", 5, "belongs to 'web'"),
        ("config:\n  /cluster/firewall/ipset/lan: {}\n", 4, "belongs to 'lan', which '/cluster/firewall/ipset'"),
        ("access:\n  roles: [{roleid: R, privs: [VM.Fly]}]\n", 4, "invalid privilege 'VM.Fly'"),
        ("access:\n  roles: [{roleid: PVEAdmin, privs: []}]\n", 4, "built-in roles"),
        ("access:\n  acl: [{path: /, type: group, ugid: ops, roleid: PVEAuditor}]\n", 4, "group 'ops' does not exist"),
        ("access:\n  acl: [{path: /, ugid: root@pam, roleid: Nobody}]\n", 4, "role 'Nobody' does not exist"),
        ("access:\n  acl: [{path: /, type: world, ugid: x, roleid: PVEAuditor}]\n", 4, "user, group or token"),
        ("users: [{userid: a@pve, tokens: [{tokenid: t, secret: s, secret_env: S}]}]\n", 3, "both 'secret' and"),
        ("users: [{userid: a@pve, password_env: 'not a name'}]\n", 3, "must name an environment variable"),
        ("cluster: {start_time: 1789378000, now: 1000}\n", 1, "'now' of 'cluster' must be an epoch not before"),
        ("pools: [{poolid: p, storage: [nosuch]}]\n", 3, "pool 'p' names unknown storage 'nosuch'"),
    ],
)
def test_a_mistake_names_the_file_and_the_line(part: str, line: int, message: str) -> None:
    with pytest.raises(ScenarioError) as error:
        spec_from_text(part + BASE if part.startswith("cluster") else BASE + part, "lab.yaml")
    assert str(error.value).startswith(f"lab.yaml, line {line}: ") and message in str(error.value), str(error.value)


def test_runtime_figures_are_for_running_guests() -> None:
    text = "nodes: [{name: pve1}]\nguests:\n  - {vmid: 100, node: pve1, uptime: 60}\n"
    with pytest.raises(ScenarioError, match=r"^lab.yaml, line 3: 'uptime' is for a running guest; guest 100 is"):
        spec_from_text(text, "lab.yaml")
    running = text.replace("uptime: 60", "status: running, uptime: 60, pid: 4321, boots: 3")
    cluster = FakeCluster.from_spec(spec_from_text("cluster: {start_time: 1789378000, now: 1789400000}\n" + running))
    guest = cluster.guest(100)
    assert (cluster.clock.now(), guest.uptime(), guest.pid) == (1789400000, 60, 4321)
