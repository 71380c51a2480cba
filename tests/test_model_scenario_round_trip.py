"""A cluster built through the PVE API, dumped as scenario YAML and loaded again answers every GET the same, and the
dump never holds a secret."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

import proxmoxer
import pytest
import yaml

from pytest_pvemock import FakeCluster, mock
from pytest_pvemock.api.app import PveApi
from pytest_pvemock.api.messages import ApiRequest
from pytest_pvemock.api.realism_check import walk_gets
from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario import builtin_scenarios
from pytest_pvemock.model.builders.scenario_dump import scenario_yaml
from tests.support.replication import zfs_vm

#: Secret values written through the API below: none may reach the dump.
SECRETS = ("alice-Passw0rd", "metrics-SECRET-1", "gotify-SECRET-2", "smtp-SECRET-3", "ldap-SECRET-4",
           "acme-SECRET-5", "webhook-SECRET-6", "ci-Passw0rd-7")  # fmt: skip
ACME_DATA = base64.b64encode(b"CF_Token=acme-SECRET-5\n").decode()
WEBHOOK_SECRET = "name=hook,value=" + base64.b64encode(b"webhook-SECRET-6").decode()


#: What a dump leaves out that PVE answers: the ACME plugin's DNS API credentials and the cloud-init password
#: (and so the digest over them), and a PowerDNS server's API key (sdn/dns.cfg: pve-network API2/Network/SDN/Dns.pm
#: read answers it). Everything else must answer the same.
NOT_DUMPED = {"data", "cipassword", "digest"}


#: History, not state: what happened before the dump (tasks, the cluster log, the journal, the HA manager's memory of
#: its last rounds) is not part of a scenario, as restoring /etc/pve on a new node does not restore its logs.
HISTORY = {
    "/cluster/tasks", "/nodes/{node}/tasks", "/nodes/{node}/tasks/{upid}", "/nodes/{node}/tasks/{upid}/log",
    "/nodes/{node}/tasks/{upid}/status", "/cluster/log", "/nodes/{node}/syslog", "/nodes/{node}/journal",
    "/cluster/ha/status/manager_status",
}  # fmt: skip


def public(answer: Any) -> Any:
    """``answer`` without what a dump leaves out (:data:`NOT_DUMPED`), in every object of it."""
    if isinstance(answer, dict):
        powerdns = answer.get("type") == "powerdns"
        return {
            key: public(value)
            for key, value in answer.items()
            if key not in NOT_DUMPED and not (powerdns and key == "key")
        }
    if isinstance(answer, (list, tuple)):
        return [public(item) for item in answer]
    if isinstance(answer, str) and "\ncipassword: " in answer:  # the report quotes the VM's config
        return "\n".join(line for line in answer.split("\n") if not line.startswith("cipassword: "))
    return answer


def secret_keys(data: Any) -> dict[str, list[Any]]:
    """The values under keys that name a secret, anywhere in ``data``."""
    found: dict[str, list[Any]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("password", "secret", "token", "cipassword", "data", "value"):
                found.setdefault(key, []).append(value)
            for name, values in secret_keys(value).items():
                found.setdefault(name, []).extend(values)
    elif isinstance(data, list):
        for item in data:
            for name, values in secret_keys(item).items():
                found.setdefault(name, []).extend(values)
    return found


def get(cluster: FakeCluster, path: str, query: dict[str, Any] | None = None) -> tuple[int, Any]:
    """The status and data of ``GET path`` as root@pam sees it."""
    api = PveApi(cluster)
    cookie = f"PVEAuthCookie={quote(api.auth.signer.ticket('root@pam'), safe='')}"
    answer = api.handle(ApiRequest("GET", "/api2/json" + path, urlencode(query or {}), {"Cookie": cookie}, b""))
    return answer.status, answer.json().get("data") if answer.status == 200 else answer.body


def post_json(cluster: FakeCluster, path: str, body: dict[str, Any]) -> None:
    """``POST path`` with a JSON body, as a client sends array parameters (proxmoxer sends forms)."""
    api = PveApi(cluster)
    headers = {
        "Cookie": f"PVEAuthCookie={quote(api.auth.signer.ticket('root@pam'), safe='')}",
        "CSRFPreventionToken": api.auth.signer.csrf_token("root@pam"),
        "Content-Type": "application/json",
    }
    answer = api.handle(ApiRequest("POST", "/api2/json" + path, "", headers, json.dumps(body).encode()))
    assert answer.status == 200, answer.body


def every_get(cluster: FakeCluster, loaded: FakeCluster) -> dict[str, tuple[Any, Any]]:
    """Every GET of the walk of ``pvemock realism`` (api/realism_check.py: path values naming the objects the
    cluster has), asked of both clusters: ``{template: (answer of cluster, answer of loaded)}``."""
    return {answer.template: (get(cluster, answer.path), get(loaded, answer.path)) for answer in walk_gets(cluster)}


def build_by_hand(cluster: FakeCluster, api: proxmoxer.ProxmoxAPI) -> list[str]:
    """Write one of every kind of object a scenario now holds; the GET paths that read them back."""
    api.access.groups.post(groupid="devs", comment="Developers")
    api.access.roles.post(roleid="Deployer", privs="VM.Audit,VM.PowerMgmt")
    api.access.users.post(userid="alice@pve", password=SECRETS[0], groups="devs", email="alice@lab.test",
                          firstname="Alice", comment="on call")  # fmt: skip
    api.access.users("alice@pve").token("ci").post(privsep=1, comment="CI", expire=4102444800)
    api.access.acl.put(path="/vms/100", roles="Deployer", users="alice@pve")
    api.access.acl.put(path="/", roles="PVEAuditor", groups="devs")
    api.access.acl.put(path="/vms/101", roles="PVEVMUser", tokens="alice@pve!ci", propagate=0)
    api.access.domains.post(realm="corp", type="ldap", server1="ldap.lab.test", base_dn="dc=lab,dc=test",
                            user_attr="uid", password=SECRETS[4])  # fmt: skip
    api.cluster.firewall.options.put(enable=1, policy_in="DROP")
    api.cluster.firewall.rules.post(type="in", action="ACCEPT", proto="tcp", dport="22", enable=1, comment="ssh")
    api.cluster.firewall.rules.post(type="in", action="ACCEPT", proto="icmp", enable=1, pos=1)
    api.cluster.firewall.groups.post(group="web", comment="Web servers")
    api.cluster.firewall.groups("web").post(type="in", action="ACCEPT", proto="tcp", dport="80,443")
    api.cluster.firewall.aliases.post(name="lan", cidr="10.0.0.0/8", comment="office")
    api.cluster.firewall.ipset.post(name="blocked")
    api.cluster.firewall.ipset("blocked").post(cidr="192.0.2.1", nomatch=1)
    api.nodes("pve1").firewall.options.put(enable=1, log_level_in="info")
    api.nodes("pve1").firewall.rules.post(type="in", action="DROP", enable=1, source="+blocked")
    guest = api.nodes("pve1").qemu(100)
    guest.firewall.options.put(enable=1, dhcp=1)
    guest.firewall.rules.post(type="out", action="REJECT", enable=1)
    guest.firewall.aliases.post(name="db", cidr="10.0.0.5")
    guest.firewall.ipset.post(name="peers")
    guest.firewall.ipset("peers").post(cidr="10.0.0.6")
    guest.config.put(cipassword=SECRETS[7], ciuser="deploy")
    api.cluster.sdn.zones.post(zone="zone1", type="simple")
    api.cluster.sdn.vnets.post(vnet="vnet1", zone="zone1", alias="lab")
    api.cluster.sdn.vnets("vnet1").subnets.post(subnet="10.1.0.0/24", type="subnet", gateway="10.1.0.1")
    api.cluster.backup.post(id="nightly", schedule="daily", storage="local", vmid="100,101", mode="snapshot")
    zfs_vm(cluster)
    api.cluster.replication.post(id="120-0", target="pve2", type="local", schedule="*/15")
    api.cluster.metrics.server("influx").post(type="influxdb", server="10.0.0.9", port=8086, token=SECRETS[1])
    endpoints = api.cluster.notifications.endpoints
    endpoints.gotify.post(name="gotify1", server="https://gotify.lab.test", token=SECRETS[2])
    endpoints.smtp.post(name="smtp1", server="mail.lab.test", **{"from-address": "pve@lab.test"},
                        username="pve", password=SECRETS[3])  # fmt: skip
    post_json(
        cluster,
        "/cluster/notifications/endpoints/webhook",
        {"name": "hook1", "url": "https://hooks.lab.test/pve", "method": "post", "secret": [WEBHOOK_SECRET]},
    )
    post_json(
        cluster,
        "/cluster/notifications/matchers",
        {"name": "match1", "comment": "everything", "mode": "all", "target": ["gotify1", "smtp1"]},
    )
    api.cluster.notifications.matchers("default-matcher").delete()
    post_json(cluster, "/cluster/mapping/pci", {"id": "gpu", "map": ["node=pve1,path=0000:01:00.0,id=10de:2204"]})
    api.cluster.acme.plugins.post(id="cloudflare", type="dns", api="cf", data=ACME_DATA)
    api.cluster.options.put(keyboard="de", console="html5")
    api.nodes("pve2").dns.put(search="lab.test", dns1="10.0.0.53")
    api.pools.post(poolid="lab", comment="Lab")
    api.pools.put(poolid="lab", storage="local")
    if cluster.release.major >= 9:
        api.cluster.ha.resources.post(sid="vm:100", state="started")
        api.cluster.ha.resources.post(sid="vm:101", state="started")
        api.cluster.ha.rules.post(rule="stay-home", type="node-affinity", resources="vm:100", nodes="pve1")
    return [
        "/access/users/alice@pve", "/access/users/alice@pve/token/ci", "/access/groups/devs", "/access/roles/Deployer",
        "/access/domains/corp", "/cluster/firewall/groups/web", "/cluster/firewall/ipset/blocked",
        "/nodes/pve1/qemu/100/firewall/rules", "/nodes/pve1/qemu/100/firewall/options",
        "/nodes/pve1/qemu/100/firewall/aliases", "/nodes/pve1/qemu/100/firewall/ipset/peers",
        "/nodes/pve1/qemu/100/firewall/refs", "/nodes/pve1/qemu/100/config", "/cluster/sdn/vnets/vnet1/subnets",
        "/cluster/backup/nightly", "/cluster/metrics/server/influx", "/cluster/notifications/endpoints/smtp/smtp1",
        "/cluster/notifications/endpoints/webhook/hook1", "/cluster/notifications/matchers",
        "/cluster/mapping/pci/gpu", "/cluster/acme/plugins/cloudflare", "/nodes/pve2/dns", "/pools/lab",
        "/cluster/ha/resources", "/cluster/ha/rules", "/nodes/pve2/replication",
    ]  # fmt: skip


@pytest.mark.parametrize("version", ["9.1", "8.4"])
def test_a_cluster_built_through_the_api_answers_the_same_after_a_dump_and_a_load(version: str) -> None:
    cluster = FakeCluster.default(version=version)
    with mock(cluster):
        api = proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user="root@pam", password="pvemock",
                                   verify_ssl=False)  # fmt: skip
        paths = build_by_hand(cluster, api)
    text = scenario_yaml(cluster)
    loaded = build_from_text(text, "dump.yaml")
    for path in paths:
        assert public(get(loaded, path)) == public(get(cluster, path)), path
    answers = every_get(cluster, loaded)
    differ = [template for template, (before, after) in answers.items() if public(before) != public(after)]
    assert [template for template in differ if template not in HISTORY] == []
    # and the loaded cluster dumps to the same text (the walk above read built-in records: they are written now)
    assert scenario_yaml(loaded) == scenario_yaml(cluster)


def test_a_dump_never_holds_a_secret() -> None:
    cluster = FakeCluster.default()
    with mock(cluster):
        api = proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user="root@pam", password="pvemock",
                                   verify_ssl=False)  # fmt: skip
        build_by_hand(cluster, api)
        secret = api.access.users("root@pam").token("deploy").post(privsep=0)["value"]
    text = scenario_yaml(cluster)
    for value in (*SECRETS, ACME_DATA, WEBHOOK_SECRET, secret, cluster.access.ticket_secret.hex()):
        assert value not in text
    found = dict(secret_keys(yaml.safe_load(text)))
    assert found == {"secret": [["name=hook"]]}  # a webhook's secrets by name, as PVE answers them: no value


@pytest.mark.parametrize("read_first", [False, True], ids=["fresh", "read"])
@pytest.mark.parametrize("name", builtin_scenarios())
def test_every_builtin_scenario_answers_the_same_after_a_dump_and_a_load(name: str, read_first: bool) -> None:
    cluster = FakeCluster.from_scenario(name)
    if read_first:  # answers the setup writes and seeds the built-in records (realms, a node's interfaces ...)
        list(walk_gets(cluster))
    text = scenario_yaml(cluster)  # a scenario's setup writes not answered yet are written as setup
    loaded = build_from_text(text, "dump.yaml")
    answers = every_get(cluster, loaded)
    differ = [template for template, (before, after) in answers.items() if public(before) != public(after)]
    assert [template for template in differ if template not in HISTORY] == []


def test_a_cluster_that_lived_answers_the_same_times_after_a_dump_and_a_load() -> None:
    cluster = FakeCluster.from_scenario("default")
    cluster.clock.advance(3600)
    guest = cluster.guest(100)
    guest.stop()
    guest.start()
    cluster.node("pve3").power_off()
    cluster.clock.advance(300)
    cluster.node("pve3").power_on()
    cluster.clock.advance(600)
    text = scenario_yaml(cluster)
    loaded = build_from_text(text, "dump.yaml")
    assert loaded.clock.now() == cluster.clock.now() and loaded.clock.start == cluster.clock.start
    answers = every_get(cluster, loaded)
    differ = [template for template, (before, after) in answers.items() if public(before) != public(after)]
    assert [template for template in differ if template not in HISTORY] == []
    # uptimes, start times and usage figures of what ran on are the same, not drawn anew
    assert get(loaded, f"/nodes/{guest.node}/{guest.kind}/{guest.vmid}/status/current")[1]["uptime"] == 600 + 300
    assert get(loaded, "/nodes/pve3/status")[1]["uptime"] == get(cluster, "/nodes/pve3/status")[1]["uptime"] < 700
