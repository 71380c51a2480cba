"""Second factors as PVE answers them (pve-access-control src/PVE/API2/TFA.pm at
5ccd07d9302562b73374d331b63d25b04b86766c over proxmox-tfa src/api/methods.rs): descriptions only, never a secret but
the recovery keys once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct

import pytest
from support.clients import proxmoxer_client, refused

from pytest_pvemock import mock
from pytest_pvemock.model import tfa
from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario_dump import scenario_yaml

SECRET = b"12345678901234567890"  # RFC 6238's test key
URI = f"otpauth://totp/pve:root@pam?secret={base64.b32encode(SECRET).decode()}&issuer=pve"


def code_at(epoch):
    mac = hmac.new(SECRET, struct.pack(">Q", epoch // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**6:06d}"


def test_without_second_factors_the_lists_are_empty(pve_api):
    # list_tfa lists the users tfa.cfg holds, list_user_tfa an empty list for a user without any (methods.rs)
    assert pve_api.access.tfa.get() == []
    assert pve_api.access.tfa("root@pam").get() == []
    error = refused(pve_api.access.tfa("root@pam")("recovery").get)
    assert error.status_code == 404 and "No such tfa entry 'recovery'" in error.content  # TFA.pm 192


def test_a_totp_entry_needs_the_current_code_and_keeps_no_secret(pve_api, pve_cluster):
    user = pve_api.access.tfa("root@pam")
    # add_totp verifies the code against the URI now, one step either way (methods.rs add_totp)
    assert "failed to verify TOTP challenge" in refused(user.post, type="totp", description="phone", totp=URI,
                                                        value="000000").content  # fmt: skip
    answer = user.post(type="totp", description="phone", totp=URI, value=code_at(pve_cluster.clock.now() - 30))
    assert set(answer) == {"id"} and re.fullmatch(r"[0-9a-f-]{36}", answer["id"])
    (entry,) = user.get()
    assert entry == {"type": "totp", "id": answer["id"], "description": "phone", "created": pve_cluster.clock.now()}
    assert pve_api.access.tfa.get() == [{"userid": "root@pam", "entries": [entry]}]
    assert "GEZDGNBV" not in str(pve_api.access.tfa.get()) + str(user.get())  # the secret is never answered
    # update_tfa_entry: enable shows only when false (TfaInfo skips the default)
    user(answer["id"]).put(enable=0, description="old phone")
    assert user(answer["id"]).get() == {**entry, "description": "old phone", "enable": 0}
    user(answer["id"]).delete()
    assert pve_api.access.tfa.get() == []  # the last factor gone, the user drops out


def test_recovery_keys_are_answered_once_and_listed_first(pve_api, pve_cluster):
    user = pve_api.access.tfa("root@pam")
    user.post(type="totp", description="phone", totp=URI, value=code_at(pve_cluster.clock.now()))
    answer = user.post(type="recovery")
    # Recovery::generate: ten keys of four 4-digit hex groups; TfaUpdateInfo id 'recovery'
    assert answer["id"] == "recovery" and len(answer["recovery"]) == 10
    assert all(re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4}){3}", key) for key in answer["recovery"])
    assert [entry["type"] for entry in user.get()] == ["recovery", "totp"]  # to_data: recovery first
    assert user("recovery").get() == {"type": "recovery", "id": "recovery", "created": pve_cluster.clock.now()}
    listed = str(pve_api.access.tfa.get()) + str(user.get()) + str(user("recovery").get())
    assert not any(key in listed for key in answer["recovery"])
    assert "user already has recovery keys" in refused(user.post, type="recovery").content


def test_other_users_confirm_their_password_and_root_is_theirs_alone(pve_api, pve_cluster):
    pve_cluster.access.add_user("alice@pve", password="alice-password")
    import proxmoxer

    alice = proxmoxer.ProxmoxAPI(pve_cluster.host, user="alice@pve", password="alice-password", verify_ssl=False)
    # reauth_user_for_user_modification (pve-access-control src/PVE/RPCEnvironment.pm 657-683)
    error = refused(alice.access.tfa("alice@pve").post, type="recovery")
    assert error.status_code == 400 and error.errors == {"password": "password is required to modify user"}
    assert "invalid credentials" in refused(alice.access.tfa("alice@pve").post, type="recovery",
                                            password="wrong-password").content  # fmt: skip
    assert len(alice.access.tfa("alice@pve").post(type="recovery", password="alice-password")["recovery"]) == 10
    # list_tfa: without User.Modify/Sys.Audit on /access/groups only the caller's own entry
    assert [row["userid"] for row in alice.access.tfa.get()] == ["alice@pve"]
    assert [row["userid"] for row in pve_api.access.tfa.get()] == ["alice@pve"]


def test_webauthn_and_yubico_need_their_configuration(pve_api):
    user = pve_api.access.tfa("root@pam")
    assert "webauthn not configured" in refused(user.post, type="webauthn", description="key").content
    # validate_yubico_otp (TFA.pm 400-420): the realm has no Yubico setting
    error = refused(user.post, type="yubico", description="yk", value="cccccc")
    assert "no yubico otp configuration available for realm pam" in error.content


@pytest.mark.pve_cluster("production", validate=True)
def test_the_production_administrator_has_a_totp_app_and_recovery_keys(pve_api):
    entries = pve_api.access.tfa("jdoe@pve").get()
    assert [entry["type"] for entry in entries] == ["recovery", "totp"]  # methods.rs list_user_tfa: recovery first
    totp = entries[1]
    assert pve_api.access.tfa("jdoe@pve")(totp["id"]).get() == totp and totp["description"] == "Phone"
    assert "GEZDGNBV" not in str(pve_api.access.tfa.get())


@pytest.mark.pve_cluster("production")
def test_a_dump_keeps_second_factors_as_tfa_cfg_does_without_a_secret(pve_api, pve_cluster):
    before = pve_api.access.tfa("jdoe@pve").get()
    dumped = scenario_yaml(pve_cluster)
    assert (
        "/etc/pve/priv/tfa.cfg" in dumped
        and "GEZDGNBV" not in dumped
        and "secret" not in dumped.split("tfa.cfg")[1][:400]
    )
    loaded = build_from_text(dumped, "dump.yaml")
    with mock(loaded):
        client = proxmoxer_client(loaded)
        assert client.access.tfa("jdoe@pve").get() == before


@pytest.mark.pve_cluster("production", validate=True)
def test_failed_totp_logins_lock_the_user_out_until_an_admin_unlocks(pve_api, pve_cluster):
    # pve-docs pveum.adoc (96a0d131) "Limits and lockout": 8 failed TOTP attempts lock TOTP, more than 100 failed
    # second-factor attempts block all of them for an hour; User.pm 652-683 unlock_tfa answers whether it was locked
    user = pve_api.access.users("jdoe@pve")
    assert user("unlock-tfa").put() == 0  # not locked
    for _ in range(tfa.TOTP_FAILURE_LIMIT - 1):
        tfa.record_failure(pve_cluster, "jdoe@pve", "totp")
    (listed,) = pve_api.access.tfa.get()
    assert "totp-locked" not in listed
    tfa.record_failure(pve_cluster, "jdoe@pve", "totp")  # the eighth
    (listed,) = pve_api.access.tfa.get()
    assert listed["totp-locked"] == 1 and "tfa-locked-until" not in listed  # TFA.pm 272-282
    (row,) = [row for row in pve_api.access.users.get() if row["userid"] == "jdoe@pve"]
    assert row["totp-locked"] == 1  # User.pm 269-275
    for _ in range(tfa.TFA_FAILURE_LIMIT - tfa.TOTP_FAILURE_LIMIT + 1):
        tfa.record_failure(pve_cluster, "jdoe@pve", "recovery")
    (listed,) = pve_api.access.tfa.get()
    assert listed["tfa-locked-until"] == pve_cluster.clock.now() + 3600
    assert user("unlock-tfa").put() == 1
    (listed,) = pve_api.access.tfa.get()
    assert "totp-locked" not in listed and "tfa-locked-until" not in listed
    assert user("unlock-tfa").put() == 0
    # a user without second factors was never locked
    assert pve_api.access.users("prometheus@pve")("unlock-tfa").put() == 0


@pytest.mark.pve_cluster("production", validate=True)
def test_a_users_tfa_types_name_the_realms_and_the_users_factors(pve_api):
    # User.pm 567-648: the realm must exist; 'realm' is the realm's enforced TFA type
    assert pve_api.access.users("jdoe@pve").tfa.get() == {}
    # with 'multiple' PVE's code and schema disagree (see api/handlers/tfa.py): the schema's 'types', no recovery
    assert pve_api.access.users("jdoe@pve").tfa.get(multiple=1) == {"types": ["totp"]}
    pve_api.access.domains("pve").put(tfa="type=oath")
    assert pve_api.access.users("jdoe@pve").tfa.get() == {"realm": "oath"}
    error = refused(pve_api.access.users("jdoe@nowhere").tfa.get)
    assert (error.status_code, error.content) == (500, "auth domain 'nowhere' does not exist")
