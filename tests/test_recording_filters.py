"""Scrubbing: what PVE puts where, replaced by placeholders that keep their shape; filters users add."""

from __future__ import annotations

import json
from urllib.parse import quote_plus, urlencode

import pytest

from pytest_pvemock.cassette.file_format import CassetteFile, response_document
from pytest_pvemock.cassette.filters import (
    DEFAULT_FILTERS,
    HostPlaceholders,
    apply_filters,
    replace_known_secrets,
)

TICKET = "PVE:alice@pve:64E10CBA::c2lnbmF0dXJl+c2VjcmV0/VGlja2V0=="
CSRF = "64E10CBA:YDNz71IKnE0sWsm1SbV1PGwz3hAyprvygQ7SBkxHVtE"


def interaction(method="GET", uri="https://pve1:8006/api2/json/nodes", body=None, headers=None, answer=None, **kw):
    return {
        "request": {"method": method, "uri": uri, "body": body, "headers": headers or {}},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": kw.get("response_headers", {}),
            "body": {"string": json.dumps({"data": answer}).encode()},
        },
    }


def scrubbed(item):
    return apply_filters(item, DEFAULT_FILTERS)


def test_the_login_request_and_its_answer_are_scrubbed_and_keep_their_shape():
    item = interaction(
        "POST",
        "https://pve1:8006/api2/json/access/ticket",
        body="username=alice%40pve&password=hunter2%26more",
        answer={"username": "alice@pve", "ticket": TICKET, "CSRFPreventionToken": CSRF, "cap": {}},
        response_headers={"Set-Cookie": [f"PVEAuthCookie={TICKET}; path=/; secure; SameSite=Strict"]},
    )

    result = scrubbed(item)

    assert result["request"]["body"] == "username=alice%40pve&password=PVEMOCK-SCRUBBED"
    data = response_document(result["response"])["data"]
    assert data["ticket"] == "PVE:alice@pve:64E10CBA::PVEMOCK-SCRUBBED"
    assert data["CSRFPreventionToken"] == "64E10CBA:PVEMOCK-SCRUBBED"
    assert result["response"]["headers"]["Set-Cookie"] == [
        "PVEAuthCookie=PVE:alice@pve:64E10CBA::PVEMOCK-SCRUBBED; path=/; secure; SameSite=Strict"
    ]


def test_cookie_csrf_and_token_headers_are_scrubbed():
    headers = {
        "Cookie": [f"lang=en; PVEAuthCookie={quote_plus(TICKET)}"],
        "CSRFPreventionToken": [CSRF],
        "Authorization": ["PVEAPIToken=ci@pve!deploy=5f0c2a8e-1d3b-4c8e-9f1a-2b3c4d5e6f70"],
    }

    result = scrubbed(interaction("PUT", headers=headers, answer=None))["request"]["headers"]

    assert result["Cookie"] == ["lang=en; PVEAuthCookie=PVE:alice@pve:64E10CBA::PVEMOCK-SCRUBBED"]
    assert result["CSRFPreventionToken"] == ["64E10CBA:PVEMOCK-SCRUBBED"]
    assert result["Authorization"] == ["PVEAPIToken=ci@pve!deploy=00000000-0000-0000-0000-000000000000"]


def test_passwords_in_json_bodies_queries_and_guest_creation_are_scrubbed():
    body = json.dumps({"vmid": 100, "cipassword": "s3cret", "nested": {"password": "x1"}})
    item = interaction("POST", "https://pve1:8006/api2/json/access/password?password=abc&userid=a@pve", body=body)

    result = scrubbed(item)["request"]

    assert json.loads(result["body"]) == {
        "vmid": 100,
        "cipassword": "PVEMOCK-SCRUBBED",
        "nested": {"password": "PVEMOCK-SCRUBBED"},
    }
    assert result["uri"].endswith("/access/password?password=PVEMOCK-SCRUBBED&userid=a%40pve")


def test_a_new_api_token_secret_in_an_answer_is_scrubbed():
    answer = {"full-tokenid": "ci@pve!deploy", "info": {"privsep": 1}, "value": "5f0c2a8e-1d3b-4c8e-9f1a-2b3c4d5e6f70"}
    item = interaction("POST", "https://pve1:8006/api2/json/access/users/ci@pve/token/deploy", answer=answer)

    data = response_document(scrubbed(item)["response"])["data"]

    assert data == {**answer, "value": "00000000-0000-0000-0000-000000000000"}


def test_known_secrets_are_replaced_everywhere_in_every_encoding():
    secret = "p@ss word/&="
    item = interaction(
        uri=f"https://pve1:8006/api2/json/x?note={quote_plus(secret)}",
        headers={"X-Debug": [f"pw={secret}"]},
        answer={"echo": secret},
    )

    result = replace_known_secrets([secret])(item)

    assert secret not in json.dumps(result, default=str)
    assert quote_plus(secret) not in result["request"]["uri"]
    assert response_document(result["response"])["data"] == {"echo": "PVEMOCK-SCRUBBED"}


def test_host_placeholders_are_consistent_across_answers():
    placeholders = HostPlaceholders()
    fingerprint = ":".join(["AB"] * 32)
    first = interaction(
        uri="https://pve1.corp.example:8006/api2/json/cluster/status",
        answer=[{"name": "pve1", "ip": "10.1.2.3"}, {"name": "pve2", "ip": "10.1.2.4"}],
    )
    second = interaction(
        uri="https://pve1.corp.example:8006/api2/json/nodes",
        answer=[{"node": "pve1", "ssl_fingerprint": fingerprint, "note": "see pve1.corp.example, 10.1.2.4"}],
    )

    one, two = placeholders(first), placeholders(second)

    assert one["request"]["uri"] == "https://pve-host-1.invalid:8006/api2/json/cluster/status"
    assert [row["ip"] for row in response_document(one["response"])["data"]] == ["192.0.2.1", "192.0.2.2"]
    row = response_document(two["response"])["data"][0]
    assert row["note"] == "see pve-host-1.invalid, 192.0.2.2"
    assert row["ssl_fingerprint"] == ":".join(["00"] * 31 + ["01"])


def test_a_users_filter_runs_after_the_scrubbing_and_may_drop_interactions(tmp_path):
    seen_passwords = []

    def drop_version_calls(item):
        seen_passwords.append(item["request"]["body"])
        return None if item["request"]["uri"].endswith("/version") else item

    persister = CassetteFile([*DEFAULT_FILTERS, drop_version_calls])
    login = interaction("POST", "https://pve1:8006/api2/json/access/ticket", body="username=a@pve&password=pw")
    version = interaction(uri="https://pve1:8006/api2/json/version", answer={"version": "9.1.1"})
    path = tmp_path / "c.yaml"

    persister.save_cassette(
        path,
        {"requests": [login["request"], version["request"]], "responses": [login["response"], version["response"]]},
    )

    assert seen_passwords[0] == "username=a%40pve&password=PVEMOCK-SCRUBBED"
    requests_, _responses = persister.load_cassette(path)
    assert [request.uri for request in requests_] == ["https://pve1:8006/api2/json/access/ticket"]


def test_secrets_classified_by_the_schema_are_scrubbed_in_queries_forms_json_and_property_strings():
    query = interaction("GET", "https://pve1:8006/api2/json/nodes/pve1/scan/pbs?server=pbs&password=q-secret-1")
    form = interaction(
        "PUT",
        "https://pve1:8006/api2/json/access/domains/corp",
        body="tfa=type%3Dyubico%2Cid%3D42%2Ckey%3Dyubi-secret-2&comment=x",
    )
    json_body = interaction(
        "POST", "https://pve1:8006/api2/json/cluster/acme/plugins", body=json.dumps({"id": "d", "data": "acme-3"})
    )

    assert scrubbed(query)["request"]["uri"].endswith("?server=pbs&password=PVEMOCK-SCRUBBED")
    assert scrubbed(form)["request"]["body"] == ("tfa=type%3Dyubico%2Cid%3D42%2Ckey%3DPVEMOCK-SCRUBBED&comment=x")
    assert json.loads(scrubbed(json_body)["request"]["body"]) == {"id": "d", "data": "PVEMOCK-SCRUBBED"}


def test_answers_classified_by_the_schema_are_scrubbed_and_tickets_keep_their_shape():
    spice = interaction(
        "POST",
        "https://pve1:8006/api2/json/nodes/pve1/qemu/100/spiceproxy",
        answer={"host": "pvespiceproxy:64E10CBA:100:pve1::abcdef", "password": "spice-pw-4", "type": "spice"},
    )
    vnc = interaction(
        "POST",
        "https://pve1:8006/api2/json/nodes/pve1/qemu/100/vncproxy",
        answer={"ticket": "PVEVNC:root@pam:64E10CBA::c2lnbmF0dXJl", "port": "5900", "password": "vnc-pw-5"},
    )

    assert response_document(scrubbed(spice)["response"])["data"] == {
        "host": "PVEMOCK-SCRUBBED",
        "password": "PVEMOCK-SCRUBBED",
        "type": "spice",
    }
    data = response_document(scrubbed(vnc)["response"])["data"]
    assert data == {
        "ticket": "PVEVNC:root@pam:64E10CBA::PVEMOCK-SCRUBBED",
        "port": "5900",
        "password": "PVEMOCK-SCRUBBED",
    }


def test_a_secret_sent_once_is_scrubbed_where_else_it_is_echoed(tmp_path):
    from pytest_pvemock.cassette.filters import remember_secrets

    persister = CassetteFile([*DEFAULT_FILTERS, remember_secrets()])
    echo = interaction(
        uri="https://pve1:8006/api2/json/cluster/notifications/endpoints/gotify/g",
        answer={"name": "g", "comment": "uses gotify-token-6 for alerts"},
    )
    sent = interaction(
        "PUT", "https://pve1:8006/api2/json/cluster/notifications/endpoints/gotify/g", body="token=gotify-token-6"
    )
    path = tmp_path / "c.yaml"

    persister.save_cassette(
        path, {"requests": [echo["request"], sent["request"]], "responses": [echo["response"], sent["response"]]}
    )

    assert "gotify-token-6" not in path.read_text()


# The leaks measured in issue 12 (vcrpy 9, name-list scrubber), one case each: (method, path, where, secret).
ISSUE_12_LEAKS = [
    ("POST", "/cluster/acme/plugins", "form", {"id": "dns1", "data": "CF_Token=acme-data-secret"}),
    ("GET", "/cluster/acme/plugins/dns1", "answer", {"plugin": "dns1", "data": "CF_Token=acme-data-secret"}),
    ("POST", "/cluster/acme/account", "form", {"eab-hmac-key": "eab-hmac-secret", "contact": "a@b.c"}),
    ("POST", "/cluster/notifications/endpoints/gotify", "json", {"name": "g", "token": "gotify-token-secret"}),
    ("PUT", "/cluster/metrics/server/influx", "form", {"token": "influx-token-secret"}),
    ("PUT", "/cluster/sdn/ipams/netbox", "form", {"token": "ipam-token-secret"}),
    ("POST", "/cluster/notifications/endpoints/webhook", "form", {"secret": "name=k,value=d2ViaG9vaw"}),
    ("POST", "/storage", "form", {"storage": "pbs", "encryption-key": "pbs-encryption-secret"}),
    ("PUT", "/storage/rbd", "form", {"keyring": "[client.admin] key = rbd-keyring-secret"}),
    ("POST", "/access/domains", "form", {"realm": "oidc", "client-key": "openid-client-secret"}),
    ("POST", "/access/openid/login", "json", {"code": "openid-code-secret", "state": "s"}),
    ("POST", "/nodes/pve1/certificates/custom", "form", {"key": "-----BEGIN PRIVATE KEY-----\nMIIE"}),
    ("POST", "/access/tfa/root@pam", "form", {"type": "totp", "totp": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"}),
    ("POST", "/access/tfa/root@pam", "answer", {"id": "r1", "recovery": ["recovery-key-1", "recovery-key-2"]}),
    ("GET", "/nodes/pve1/qemu/100/vncwebsocket", "query", {"port": "5900", "vncticket": "PVEVNC:x:64E10CBA::vnc-sig"}),
    ("POST", "/nodes/pve1/qemu/100/vncproxy", "answer", {"port": "5900", "password": "vnc-password-secret"}),
    (
        "POST",
        "/nodes/pve1/lxc/101/spiceproxy",
        "answer",
        {"host": "pvespiceproxy:spice-proxy-ticket", "password": "s-pw"},
    ),
    ("GET", "/nodes/pve1/scan/pbs", "query", {"server": "pbs", "password": "query-password-secret"}),
    ("POST", "/cluster/config/nodes/pve2", "answer", {"corosync_authkey": "corosync-authkey-secret"}),
]


def _leak_case(method, path, where, values):
    uri = f"https://pve1:8006/api2/json{path}"
    if where == "query":
        return interaction(method, uri + "?" + urlencode(values)), values
    if where == "form":
        return interaction(method, uri, body=urlencode(values)), values
    if where == "json":
        return interaction(method, uri, body=json.dumps(values)), values
    return interaction(method, uri, answer=values), values


@pytest.mark.parametrize(("method", "path", "where", "values"), ISSUE_12_LEAKS, ids=lambda v: str(v)[:40])
def test_each_leak_of_issue_12_is_scrubbed(method, path, where, values):
    item, _ = _leak_case(method, path, where, values)
    secret = next(
        value for key, value in values.items() if key not in ("id", "name", "storage", "realm", "port", "server",
                                                              "contact", "plugin", "state", "type")
    )  # fmt: skip
    secret_text = secret[-1] if isinstance(secret, list) else secret
    secret_core = secret_text.split("=")[-1].split("::")[-1].split(":")[-1].strip()

    text = json.dumps(apply_filters(item, DEFAULT_FILTERS), default=lambda b: b.decode())

    assert secret_core not in text
    assert quote_plus(secret_core) not in text


def test_a_replay_miss_never_prints_a_secret():
    from pytest_pvemock.transports.recording.matchers import describe_request

    described = describe_request(
        "GET", "https://pve1:8006/api2/json/nodes/pve1/scan/cifs?server=s&password=miss-password-secret", None
    )

    assert "miss-password-secret" not in described
    assert "query password=PVEMOCK-SCRUBBED" in described


def test_scrubbed_answers_still_validate_where_the_schema_restricts_the_secret():
    from pytest_pvemock.schema.registry import get_registry

    users = [{"userid": "alice@pve", "enable": 1, "keys": "x!JBSWY3DPEHPK3PXP"}]
    item = interaction(uri="https://pve1:8006/api2/json/access/users", answer=users)

    data = response_document(scrubbed(item)["response"])["data"]

    assert data[0]["keys"] == "PVEMOCKSCRUBBED"
    endpoint = get_registry("9.1").endpoint("GET", "/access/users")
    assert list(endpoint.schema.returns_validator().iter_errors(data)) == []


def test_a_spice_config_file_answer_is_scrubbed():
    config = (
        "[virt-viewer]\r\ntype=spice\r\nhost=pvespiceproxy:6512AB:100:pve1::c2lnbmF0dXJl\r\n"
        "password=spice-ticket-secret\r\nproxy=http://pve1:3128\r\n"
    )
    item = interaction("POST", "https://pve1:8006/api2/spiceconfig/nodes/pve1/qemu/100/spiceproxy")
    item["response"]["body"] = {"string": config.encode()}

    text = scrubbed(item)["response"]["body"]["string"].decode()

    assert "spice-ticket-secret" not in text and "c2lnbmF0dXJl" not in text
    assert "password=PVEMOCK-SCRUBBED\r\n" in text and "type=spice\r\n" in text
    assert "proxy=http://pve1:3128" in text
