"""Nothing a client writes as a secret comes back where PVE would not send it back.

For every write method of the 8.4 and 9.1 schemas with a parameter that carries a secret (by the schema's secret
classification, ``pytest_pvemock/schema/secrets.py``), a
marker is written through the API; then every GET method of the cluster is read (with the ids of the prepared
cluster and those the writes named) and no answer may hold a marker, except where PVE itself returns the value
(``RETURNED_BY_PVE``, each with the handler that returns it). Where PVE masks, the fake masks the same way.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from support.surface import SurfaceRig, prepare_ha

from pytest_pvemock.schema.registry import get_registry
from pytest_pvemock.schema.secrets import load_secret_index

# Secret parameters PVE only checks and never stores (a login, a ticket check): a marker cannot pass the check.
CHECKED_ONLY = {
    ("POST", "/access/ticket"),
    ("POST", "/access/vncticket"),
    ("POST", "/access/openid/login"),
    # a TOTP code must match the URI's secret (proxmox-tfa src/api/methods.rs add_totp), a Yubico OTP its key;
    # no marker passes, and PVE keeps neither (nor the password it checks)
    ("POST", "/access/tfa/{userid}"),
    # the remote's API token is only used to connect (qemu-server Qemu.pm remote_migrate_vm 5697-5712, pve-container
    # LXC.pm 1342-1357), and no remote answers the fake: the call fails, nothing is kept
    ("POST", "/nodes/{node}/qemu/{vmid}/remote_migrate"),
    ("POST", "/nodes/{node}/lxc/{vmid}/remote_migrate"),
}
# Where PVE returns the value it was given, as written (so the fake does too).
RETURNED_BY_PVE = {
    # OpenID client-key is a plain domains.cfg property (pve-access-control src/PVE/Auth/OpenId.pm:31) and
    # GET /access/domains/{realm} returns the realm's section (src/PVE/API2/Domains.pm read, at 5ccd07d9)
    ("client-key", "/access/domains/{realm}"),
    # ACME plugin data is returned by both GETs (pve-manager PVE/API2/ACMEPlugin.pm $modify_cfg_for_api, 14a22df3)
    ("data", "/cluster/acme/plugins"),
    ("data", "/cluster/acme/plugins/{id}"),
    # IPAM tokens and DNS keys live in sdn/ipams.cfg and sdn/dns.cfg and are returned whole
    # (pve-network src/PVE/API2/Network/SDN/Ipams.pm $api_sdn_ipams_config, Dns.pm $api_sdn_dns_config, ecf98c5d)
    ("token", "/cluster/sdn/ipams"),
    ("token", "/cluster/sdn/ipams/{ipam}"),
    ("key", "/cluster/sdn/dns"),
    ("key", "/cluster/sdn/dns/{dns}"),
    # the Yubico API key of a realm's TFA setting is part of its domains.cfg section (read, as above); the
    # world-readable list shows only the TFA type
    ("tfa{key}", "/access/domains/{realm}"),
    # a user's TFA keys are copied into both user answers (pve-access-control src/PVE/API2/User.pm:142)
    ("keys", "/access/users"),
    ("keys", "/access/users/{userid}"),
    # the subscription key is shown to those permitted (pve-manager PVE/API2/Subscription.pm)
    ("key", "/nodes/{node}/subscription"),
}
# A custom certificate's key must match it (pve-manager PVE/CertHelpers.pm set_cert_files 87-107, 14a22df3) and be
# PEM alone (pem-string): the real key of a real pair is its own marker
trustme = pytest.importorskip("trustme")
_LEAF = trustme.CA().issue_cert("pve1.example.com")
# What a write needs beside its required parameters to be accepted with its secret.
EXTRA: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/nodes/{node}/certificates/custom"): {"certificates": _LEAF.cert_chain_pems[0].bytes().decode()},
    ("POST", "/cluster/acme/account"): {"eab-kid": "kid-1"},
    # a DNS plugin needs its API (proxmox-acme DNSChallenge.pm options; SectionConfig check_config)
    ("POST", "/cluster/acme/plugins"): {"type": "dns", "api": "cf"},
    ("POST", "/nodes/{node}/qemu"): {"vmid": 4250},
    # chpasswd sets the password of an account the guest has (qga/commands-posix.c qmp_guest_set_user_password)
    ("POST", "/nodes/{node}/qemu/{vmid}/agent/set-user-password"): {"username": "root"},
    ("POST", "/access/domains"): {
        "realm": "ldap1",
        "type": "ldap",
        "server1": "ldap.example.com",
        "base_dn": "dc=example,dc=com",
    },
}
# A storage takes only the secrets its type's plugin declares (pve-storage plugindata 'sensitive-properties'):
# each such set is written to a storage of a type that takes it, created for the write.
STORAGE_SECRETS: dict[tuple[str, ...], dict[str, Any]] = {
    ("encryption-key", "master-pubkey", "password"): {
        "type": "pbs", "server": "192.0.2.7", "datastore": "store1", "username": "backup@pbs",
    },
    ("keyring",): {"type": "rbd", "pool": "rbd", "monhost": "192.0.2.8"},
}  # fmt: skip
STORAGE_TEMPLATES = ("/storage", "/storage/{storage}")
# Secrets that must take a certain form, made from the marker.
FORMS = {
    ("/cluster/notifications/endpoints/webhook", "secret"): "webhook",
    ("/cluster/notifications/endpoints/webhook/{name}", "secret"): "webhook",
    ("/nodes/{node}/certificates/custom", "key"): "pem",
    ("/access/domains", "tfa{key}"): "yubico",
    ("/access/domains/{realm}", "tfa{key}"): "yubico",
    ("/nodes/{node}/qemu/{vmid}/remote_migrate", "target-endpoint{apitoken}"): "endpoint",
    ("/nodes/{node}/lxc/{vmid}/remote_migrate", "target-endpoint{apitoken}"): "endpoint",
    ("/nodes/{node}/subscription", "key"): "subscription",
    ("/storage", "encryption-key"): "pbs-key",
    ("/storage/{storage}", "encryption-key"): "pbs-key",
}


def secret_value(template: str, name: str, marker: str) -> Any:
    form = FORMS.get((template, name))
    if form == "webhook":  # name=<name>,value=<base64 of value> (pve-manager Notifications.pm)
        return [f"name=hdr,value={base64.b64encode(marker.encode()).decode()}"]
    if form == "pbs-key":  # a key file's JSON (pve-storage PBSPlugin.pm on_add_hook 523-526)
        return json.dumps({"kdf": None, "data": marker, "fingerprint": "aa:bb"})
    if form == "pem":
        return _LEAF.private_key_pem.bytes().decode()
    if form == "yubico":
        return f"type=yubico,id=42,key={marker}"
    if form == "subscription":  # pve<sockets><level>-<10 hex digits>: the value is the marker
        return "pve4c-5ec2e7d0a9"
    if form == "endpoint":
        return f"host=192.0.2.50,apitoken=PVEAPIToken=root@pam!migrate={marker}"
    return marker


@dataclass
class Write:
    method: str
    template: str
    names: list[str]
    status: int = 0
    reason: str = ""
    markers: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def secret_writes(version: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, template, secret parameters) of every write method of ``version`` that carries a secret, by the
    schema's secret classification (``pytest_pvemock/schema/secrets.py``): top-level names and keys inside a
    property string (``tfa{key}``)."""
    registry = get_registry(version)
    index = load_secret_index()
    writes = []
    for method, template in registry.endpoints():
        if method not in ("POST", "PUT") or (method, template) in CHECKED_ONLY:
            continue
        properties = registry.endpoint(method, template).parameters_schema.get("properties") or {}
        locations, _ = index.locations(method, template)
        names = sorted(where for where in locations if where.partition("{")[0] in properties and "/" not in where)
        if names and template in STORAGE_TEMPLATES:
            writes.extend((method, template, secrets) for secrets in STORAGE_SECRETS if set(secrets) <= set(names))
        elif names:
            writes.append((method, template, tuple(names)))
    return writes


CASES = [(version, *write) for version in ("8.4", "9.1") for write in secret_writes(version)]


def send(rig: SurfaceRig, cluster: Any, api: Any, write: Write) -> None:
    prepare_ha(cluster, write.template)
    rig.create_parents(cluster, api, write.method, write.template)
    extra = EXTRA.get((write.method, write.template))
    storage = STORAGE_SECRETS.get(tuple(write.names)) if write.template in STORAGE_TEMPLATES else None
    if storage is not None:
        extra = {"storage": f"secret-{storage['type']}", **storage}
        if write.method == "PUT":  # the storage to change, created without its secrets
            assert api.handle(rig.request("POST", "/storage", extra)).status == 200
            extra = {"storage": extra["storage"]}
    path, params = rig.valid_params(cluster, write.method, write.template, given=extra)
    for number, name in enumerate(write.names):
        write.markers[name] = marker = f"Leak{number}{re.sub('[^a-z]', '', name)}Zq9x7"
        value = secret_value(write.template, name, marker)
        params[name.partition("{")[0]] = value
        if isinstance(value, str) and marker not in value:
            write.markers[name] = value
    write.values = {**rig.path_names_values(cluster, write.method, write.template), **params}
    response = api.handle(rig.request(write.method, path, params))
    write.status, write.reason = response.status, response.reason


def every_get_answer(
    rig: SurfaceRig, cluster: Any, api: Any, named: dict[str, Any], old_tasks: frozenset[str] = frozenset()
) -> dict[tuple[str, str], bytes]:
    """(template, path) -> body of every GET method, with the prepared cluster's ids, with the write's ids and, for
    the task methods, with every task the write started (its task log)."""
    answers: dict[tuple[str, str], bytes] = {}
    tasks = [{"upid": task.upid, "node": task.node} for task in cluster.tasks if task.upid not in old_tasks]
    for method, template in rig.registry.endpoints():
        if method != "GET":
            continue
        names = re.findall(r"\{([^}]+)\}", template)
        for given in ({}, named, *(tasks if "upid" in names else ())):
            values = rig.path_values(cluster, template)
            values.update({name: given[name] for name in names if name in given})
            path = template
            for name in names:
                path = path.replace(f"{{{name}}}", quote(str(values.get(name, "example")), safe=""))
            if (template, path) not in answers:
                answers[(template, path)] = api.handle(rig.request("GET", path, {})).body
    return answers


def forms_of(marker: str) -> list[bytes]:
    return [marker.encode(), base64.b64encode(marker.encode()).rstrip(b"=")]


@pytest.fixture(scope="module")
def rigs() -> dict[str, SurfaceRig]:
    return {}


def test_every_version_has_secret_writes_to_check():
    assert {version for version, *_ in CASES} == {"8.4", "9.1"}
    assert len(CASES) > 50


@pytest.mark.parametrize(("version", "method", "template", "names"), CASES, ids=[" ".join(c[:3]) for c in CASES])
def test_no_secret_written_comes_back_where_pve_hides_it(rigs, version, method, template, names):
    if version not in rigs:
        rigs[version] = SurfaceRig(version)
    rig = rigs[version]
    cluster, api = rig.fresh()
    write = Write(method, template, list(names))
    old_tasks = frozenset(task.upid for task in cluster.tasks)
    send(rig, cluster, api, write)
    assert write.status == 200, write.reason  # a refused write would prove nothing
    answers = every_get_answer(rig, cluster, api, write.values, old_tasks)
    assert len(answers) > 300
    leaks = [
        f"{name} -> GET {path}"
        for name, marker in write.markers.items()
        for (get_template, path), body in answers.items()
        if (name, get_template) not in RETURNED_BY_PVE and any(form in body for form in forms_of(marker))
    ]
    assert not leaks, "\n".join(leaks)


# -- PVE's own masks, through proxmoxer ------------------------------------------------------------------------------
def test_the_cloud_init_password_is_masked_in_config_pending_and_snapshots_as_pve_masks_it(pve_api):
    # qemu-server src/PVE/API2/Qemu.pm (e6352be6): vm_config 1851 (snapshots too), vm_pending 1913-1915 (a pending
    # value with a trailing blank)
    stopped = pve_api.nodes("pve2").qemu(102)
    stopped.config.put(cipassword="Hunter2Secret")
    stopped.snapshot.post(snapname="with_password")
    assert stopped.config.get()["cipassword"] == "**********"
    assert stopped.config.get(snapshot="with_password")["cipassword"] == "**********"
    assert {"key": "cipassword", "value": "**********"} in stopped.pending.get()

    running = pve_api.nodes("pve1").qemu(100)
    running.config.put(cipassword="Hunter2Secret")
    running.config.put(cipassword="NextSecret")
    # cloud-init options are 'fast plug': a running VM's config takes them at once (QemuServer.pm 4609-4611)
    assert {"key": "cipassword", "value": "**********"} in running.pending.get()
    assert running.config.get()["cipassword"] == "**********"
    answers = str([stopped.config.get(), stopped.pending.get(), running.config.get(), running.pending.get()])
    assert "Hunter2Secret" not in answers and "NextSecret" not in answers


def test_notification_targets_come_back_without_token_password_or_secret_values(pve_api):
    endpoints = pve_api.cluster.notifications.endpoints
    endpoints.gotify.post(name="phone", server="https://gotify.example.com", token="GotifyToken1")
    endpoints.smtp.post(
        name="relay",
        server="smtp.example.com",
        username="alerts",
        password="SmtpPassword1",
        **{"from-address": "a@b.c"},
    )
    value = base64.b64encode(b"WebhookSecret1").decode()
    secrets = [f"name=auth,value={value}", f"name=tenant,value={value}"]
    endpoints.webhook.post(name="hook", url="https://hook.example.com/", method="post", secret=secrets)
    gotify, smtp, webhook = (
        endpoints.gotify("phone").get(),
        endpoints.smtp("relay").get(),
        endpoints.webhook("hook").get(),
    )
    assert "token" not in gotify and gotify["server"] == "https://gotify.example.com"
    assert "password" not in smtp and smtp["username"] == "alerts"
    assert webhook["secret"] == ["name=auth", "name=tenant"]  # the names, never the values


def test_an_ldap_bind_password_is_never_returned_and_can_be_deleted(pve_api):
    pve_api.access.domains.post(
        realm="corp", type="ldap", server1="ldap.example.com", base_dn="dc=example,dc=com", password="BindPassword1"
    )
    realm = pve_api.access.domains("corp").get()
    assert realm["server1"] == "ldap.example.com" and "password" not in realm
    # the list is world-readable (the login box): realm, type, comment, default and TFA type only
    # (pve-access-control src/PVE/API2/Domains.pm index, at 5ccd07d9)
    assert {"realm": "corp", "type": "ldap"} in pve_api.access.domains.get()
    pve_api.access.domains("corp").put(delete="password")
    assert "password" not in pve_api.access.domains("corp").get()


def test_secrets_the_cluster_makes_are_shown_once_and_never_by_a_get(rigs):
    # an API token's secret is in the answer to its creation only (pve-access-control src/PVE/API2/User.pm
    # generate_token); tickets and CSRF tokens only in the answer to the login
    if "9.1" not in rigs:
        rigs["9.1"] = SurfaceRig("9.1")
    rig = rigs["9.1"]
    cluster, api = rig.fresh()
    made = api.handle(rig.request("POST", "/access/users/surface@pve/token/made", {"privsep": 0}))
    login = api.handle(rig.request("POST", "/access/ticket", {"username": "root@pam", "password": "pvemock"}))
    secret = json.loads(made.body)["data"]["value"]
    ticket = json.loads(login.body)["data"]
    shown = [secret, ticket["ticket"], ticket["CSRFPreventionToken"].partition(":")[2]]
    answers = every_get_answer(rig, cluster, api, {"tokenid": "made", "userid": "surface@pve"})
    assert json.loads(api.handle(rig.request("GET", "/access/users/surface@pve/token/made", {})).body)["data"]
    leaks = [path for (_, path), body in answers.items() for value in shown if value.encode() in body]
    assert not leaks, leaks
