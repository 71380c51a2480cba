"""Authentication as a real proxmoxer client (and plain requests) sees it: tickets, CSRF, API tokens."""

from __future__ import annotations

import re

import pytest
import requests

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer import AuthenticationError, ResourceException  # noqa: E402
from support.clients import proxmoxer_client as login  # noqa: E402
from support.clients import token_client  # noqa: E402

TICKET = re.compile(r"^PVE:root@pam:[0-9A-F]{8}::[A-Za-z0-9+/]+=*$")
CSRF = re.compile(r"^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$")


def test_password_login_returns_pve_shaped_ticket(pve_cluster):
    answer = requests.post(
        f"{pve_cluster.url}/api2/json/access/ticket", data={"username": "root@pam", "password": pve_cluster.password}
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json;charset=UTF-8"
    data = answer.json()["data"]
    assert TICKET.match(data["ticket"])
    assert CSRF.match(data["CSRFPreventionToken"])
    assert data["username"] == "root@pam"
    assert data["clustername"] == pve_cluster.name
    assert data["cap"]["vms"]["VM.PowerMgmt"] == 1
    assert data["cap"]["nodes"]["Sys.Audit"] == 1


def test_realm_can_be_sent_separately(pve_cluster):
    answer = requests.post(
        f"{pve_cluster.url}/api2/json/access/ticket",
        data={"username": "root", "realm": "pam", "password": pve_cluster.password},
    )
    assert answer.json()["data"]["username"] == "root@pam"


def test_proxmoxer_logs_in_and_reads(pve_api):
    realms = {entry["realm"] for entry in pve_api.access.domains.get()}
    assert realms == {"pam", "pve"}


def test_wrong_password_is_refused_as_pve_does(pve_cluster):
    answer = requests.post(
        f"{pve_cluster.url}/api2/json/access/ticket", data={"username": "root@pam", "password": "wrong"}
    )
    assert (answer.status_code, answer.reason) == (401, "authentication failure")
    assert answer.json() == {"data": None, "message": "authentication failure\n"}
    with pytest.raises(AuthenticationError, match="Couldn't authenticate user: root@pam"):
        login(pve_cluster, password="wrong")


def test_unauthenticated_call_gets_401_no_ticket(pve_cluster):
    answer = requests.get(f"{pve_cluster.url}/api2/json/access/users")
    assert (answer.status_code, answer.reason, answer.content) == (401, "No ticket", b"")


def test_domains_and_login_need_no_ticket(pve_cluster):
    assert requests.get(f"{pve_cluster.url}/api2/json/access/domains").status_code == 200
    assert requests.get(f"{pve_cluster.url}/api2/json/access/ticket").json() == {"data": None}


def test_forged_ticket_is_refused(pve_cluster):
    forged = "PVE:root@pam:6553F00D::" + "A" * 88
    answer = requests.get(f"{pve_cluster.url}/api2/json/access/users", cookies={"PVEAuthCookie": forged})
    assert (answer.status_code, answer.reason) == (401, "Authentication failed!")


def test_write_without_csrf_token_is_refused(pve_cluster, pve_api):
    ticket, _csrf = pve_api.get_tokens()
    session = requests.Session()
    session.cookies.set("PVEAuthCookie", ticket)
    answer = session.post(f"{pve_cluster.url}/api2/json/access/users", data={"userid": "eve@pve"})
    assert (answer.status_code, answer.reason) == (401, "Permission denied - invalid csrf token")
    assert "eve@pve" not in pve_cluster.access.users
    # reads need no CSRF token
    assert session.get(f"{pve_cluster.url}/api2/json/access/users").status_code == 200


def test_proxmoxer_with_a_bad_csrf_token_sees_401(pve_api):
    pve_api._backend.auth.csrf_prevention_token = "6553F00D:forged"
    with pytest.raises(ResourceException) as raised:
        pve_api.access.users.post(userid="eve@pve")
    assert raised.value.status_code == 401
    assert raised.value.content == "Permission denied - invalid csrf token"


def test_ticket_in_authorization_header_works(pve_cluster, pve_api):
    ticket, csrf = pve_api.get_tokens()
    answer = requests.post(
        f"{pve_cluster.url}/api2/json/access/users",
        headers={"Authorization": f"PVEAuthCookie={ticket}", "CSRFPreventionToken": csrf},
        data={"userid": "carol@pve"},
    )
    assert answer.status_code == 200
    assert "carol@pve" in pve_cluster.access.users


def test_ticket_expires_after_two_hours_of_cluster_time(pve_cluster, pve_api):
    pve_cluster.clock.advance(2 * 3600 - 1)
    assert pve_api.access.users.get()
    pve_cluster.clock.advance(1)
    with pytest.raises(ResourceException) as raised:
        pve_api.access.users.get()
    assert (raised.value.status_code, raised.value.content) == (401, "Authentication failed!")


def test_ticket_renewal_with_the_old_ticket_as_password(pve_cluster, pve_api):
    old_ticket, _ = pve_api.get_tokens()
    pve_cluster.clock.advance(3600)
    answer = requests.post(
        f"{pve_cluster.url}/api2/json/access/ticket", data={"username": "root@pam", "password": old_ticket}
    )
    new_ticket = answer.json()["data"]["ticket"]
    assert new_ticket != old_ticket
    pve_cluster.clock.advance(3600)  # the old ticket is now two hours old, the new one one hour
    assert (
        requests.get(f"{pve_cluster.url}/api2/json/access/users", cookies={"PVEAuthCookie": old_ticket}).status_code
        == 401
    )
    assert (
        requests.get(f"{pve_cluster.url}/api2/json/access/users", cookies={"PVEAuthCookie": new_ticket}).status_code
        == 200
    )


def test_api_token_writes_without_csrf(pve_cluster):
    secret = pve_cluster.access.add_token("root@pam", "deploy", privsep=False)
    client = token_client(pve_cluster, "root@pam", "deploy", secret)
    client.access.users.post(userid="ci@pve", comment="made with a token")
    assert pve_cluster.access.users["ci@pve"].comment == "made with a token"


def test_api_token_header_with_a_space_separator(pve_cluster):
    secret = pve_cluster.access.add_token("root@pam", "ci")
    answer = requests.get(
        f"{pve_cluster.url}/api2/json/access/users", headers={"Authorization": f"PVEAPIToken root@pam!ci={secret}"}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "PVEAPIToken=root@pam!ci=00000000-0000-4000-8000-000000000000",
        "PVEAPIToken=root@pam!nosuch=whatever",
        "PVEAPIToken=root@pam-ci-no-separator",
    ],
)
def test_bad_api_token_gets_authentication_failed(pve_cluster, header):
    pve_cluster.access.add_token("root@pam", "ci")
    answer = requests.get(f"{pve_cluster.url}/api2/json/access/users", headers={"Authorization": header})
    assert (answer.status_code, answer.reason) == (401, "Authentication failed!")


def test_methods_closed_to_api_tokens_answer_403(pve_cluster):
    secret = pve_cluster.access.add_token("root@pam", "ci")
    client = token_client(pve_cluster, "root@pam", "ci", secret)
    with pytest.raises(ResourceException) as raised:
        client.access.password.put(userid="root@pam", password="new-password")
    assert raised.value.status_code == 403
    assert raised.value.content == (
        "Permission check failed (URI '/access/password' not available with API token, need proper ticket."
    )


def test_login_with_an_api_token_header_is_refused(pve_cluster):
    answer = requests.post(
        f"{pve_cluster.url}/api2/json/access/ticket",
        data={"username": "root@pam", "password": pve_cluster.password},
        headers={"Authorization": "PVEAPIToken=root@pam!ci=whatever"},
    )
    assert answer.status_code == 403
    assert answer.reason == (
        "Permission check failed (URI '/access/ticket' not available with API token, need proper ticket."
    )


def test_disabled_user_cannot_log_in(pve_cluster):
    pve_cluster.access.add_user("dave@pve", password="dave-password", enable=False)
    with pytest.raises(AuthenticationError):
        login(pve_cluster, "dave@pve", "dave-password")


def test_user_and_token_lifecycle_through_proxmoxer(pve_cluster, pve_api):
    pve_api.access.users.post(userid="alice@pve", password="alice-password", comment="ops", email="a@example.com")
    assert pve_api.access.users("alice@pve").get()["comment"] == "ops"
    pve_api.access.users("alice@pve").put(firstname="Alice", enable=0)
    entry = next(user for user in pve_api.access.users.get() if user["userid"] == "alice@pve")
    assert (entry["firstname"], entry["enable"], entry["realm-type"]) == ("Alice", 0, "pve")
    assert [user["userid"] for user in pve_api.access.users.get(enabled=1)] == ["root@pam"]

    created = pve_api.access.users("alice@pve").token("ci").post(comment="pipeline", privsep=0)
    assert created["full-tokenid"] == "alice@pve!ci"
    assert created["info"] == {"privsep": 0, "comment": "pipeline"}  # generate_token 812-815: expire when given
    assert re.fullmatch(r"[0-9a-f-]{36}", created["value"])
    assert pve_api.access.users("alice@pve").token("ci").get()["comment"] == "pipeline"
    with pytest.raises(ResourceException) as raised:
        pve_api.access.users("alice@pve").token("ci").post()
    assert raised.value.status_code == 400
    assert raised.value.errors == {"tokenid": "Token already exists."}

    pve_api.access.users("alice@pve").token("ci").delete()
    assert pve_api.access.users("alice@pve").token.get() == []
    pve_api.access.users("alice@pve").delete()
    with pytest.raises(ResourceException) as raised:
        pve_api.access.users("alice@pve").get()
    assert raised.value.status_code == 500
    assert raised.value.content == "no such user ('alice@pve')"


def test_creating_an_existing_user_fails_with_pve_wording(pve_api):
    with pytest.raises(ResourceException) as raised:
        pve_api.access.users.post(userid="root@pam")
    assert raised.value.content == "create user failed: user 'root@pam' already exists"


def test_pve_84_login_reports_the_pve_8_privileges(pve_cluster_factory):
    cluster = pve_cluster_factory(version="8.4")
    answer = requests.post(
        f"{cluster.url}/api2/json/access/ticket", data={"username": "root@pam", "password": cluster.password}
    )
    cap = answer.json()["data"]["cap"]
    assert "VM.Monitor" in cap["vms"]
    assert "mapping" not in cap


def test_password_change_takes_effect_at_the_next_login(pve_cluster, pve_api):
    pve_api.access.users.post(userid="alice@pve", password="first-password")
    pve_api.access.password.put(userid="alice@pve", password="second-password")
    with pytest.raises(AuthenticationError):
        login(pve_cluster, "alice@pve", "first-password")
    alice = login(pve_cluster, "alice@pve", "second-password")
    with pytest.raises(ResourceException) as raised:
        alice.access.password.put(userid="alice@pve", password="third-password")
    assert raised.value.errors == {"confirmation-password": "password is required to modify user"}
    alice.access.password.put(
        userid="alice@pve", password="third-password", **{"confirmation-password": "second-password"}
    )
    assert login(pve_cluster, "alice@pve", "third-password")
