"""Catalogue rows (docs/behaviour.md, "Access control") for users, passwords, API tokens, groups, roles, ACLs and
realms, read from pve-access-control at 5ccd07d9 and driven through a real proxmoxer client.

Errors raised inside ``lock_user_config`` carry the method's prefix (``create user failed: ...``,
AccessControl.pm lock_user_config 81-93); checks made before the lock do not."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)

PASSWORD = "bob-password"


def client(cluster, user="bob@pve", password=PASSWORD):
    return proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user=user, password=password, verify_ssl=False)


def token_client(cluster, tokenid, value):
    user, _, name = tokenid.partition("!")
    return proxmoxer.ProxmoxAPI(
        cluster.host, port=cluster.port, user=user, token_name=name, token_value=value, verify_ssl=False
    )


def refused(call, status):
    with pytest.raises(ResourceException) as caught:
        call()
    assert caught.value.status_code == status, caught.value
    return caught.value


def message(call, status=500):
    """PVE's message of a failed call (pveproxy sends it as the reason phrase, with the newline dropped)."""
    return refused(call, status).content.strip()


# ---- users ------------------------------------------------------------------------------------------------------


def test_access_user_create_and_read(pve_api):
    # User.pm create_user 338-359: enable defaults to 1, groups joined; read_user 410-419 (extract_user_data 137-151)
    pve_api.access.groups.post(groupid="ops")
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD, groups="ops", comment="Bob", email="b@x.lan")
    user = pve_api.access.users("bob@pve").get()
    assert user["enable"] == 1 and user["expire"] == 0 and user["groups"] == ["ops"]
    assert user["comment"] == "Bob" and user["email"] == "b@x.lan"
    assert pve_api.access.groups("ops").get()["members"] == ["bob@pve"]


def test_access_user_create_existing_refused(pve_api):
    # User.pm create_user 333, inside lock_user_config ("create user failed")
    text = message(lambda: pve_api.access.users.post(userid="root@pam"))
    assert text == "create user failed: user 'root@pam' already exists"


def test_access_user_create_unknown_group_refused(pve_api):
    # User.pm create_user 342-348: each group must exist; nothing is written
    text = message(lambda: pve_api.access.users.post(userid="bob@pve", groups="nope"))
    assert text == "create user failed: no such group 'nope'"
    assert "bob@pve" not in [user["userid"] for user in pve_api.access.users.get()]


def test_access_user_password_too_short(pve_api):
    # User.pm create_user 310-316: password minLength 8, a parameter error
    error = refused(lambda: pve_api.access.users.post(userid="bob@pve", password="short"), 400)
    assert "password" in (error.errors or {})


def test_access_user_update_groups_replace_or_append(pve_api):
    # User.pm update_user 468-479: groups replace the user's groups, append=1 adds to them
    for group in ("a", "b"):
        pve_api.access.groups.post(groupid=group)
    pve_api.access.users.post(userid="bob@pve", groups="a")
    pve_api.access.users("bob@pve").put(groups="b")
    assert pve_api.access.users("bob@pve").get()["groups"] == ["b"]
    pve_api.access.users("bob@pve").put(groups="a", append=1)
    assert pve_api.access.users("bob@pve").get()["groups"] == ["a", "b"]


def test_access_user_update_unknown_user_refused(pve_api):
    # User.pm update_user 461: check_user_exist inside lock_user_config ("update user failed")
    text = message(lambda: pve_api.access.users("nobody@pve").put(comment="x"))
    assert text == "update user failed: no such user ('nobody@pve')"


def test_access_user_update_unknown_group_refused(pve_api):
    # User.pm update_user 471-477
    pve_api.access.users.post(userid="bob@pve")
    text = message(lambda: pve_api.access.users("bob@pve").put(groups="nope"))
    assert text == "update user failed: no such group 'nope'"


def test_access_user_disabled_cannot_log_in(pve_cluster, pve_api):
    # AccessControl.pm check_user_enabled 683-703 (authenticate_user 753): a disabled user's login fails
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    client(pve_cluster).version.get()
    pve_api.access.users("bob@pve").put(enable=0)
    with pytest.raises(proxmoxer.AuthenticationError):
        client(pve_cluster)


def test_access_user_expired_cannot_log_in(pve_cluster, pve_api):
    # AccessControl.pm check_user_enabled 694-699: expire in the past ends the account
    now = pve_cluster.clock.now()
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD, expire=now + 60)
    client(pve_cluster).version.get()
    pve_cluster.clock.advance(120)
    with pytest.raises(proxmoxer.AuthenticationError):
        client(pve_cluster)


def test_access_user_delete_drops_acl_and_membership(pve_api):
    # User.pm delete_user 544-556: the user goes, with its group memberships and ACL entries
    pve_api.access.groups.post(groupid="ops")
    pve_api.access.users.post(userid="bob@pve", groups="ops")
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="bob@pve")
    pve_api.access.users("bob@pve").delete()
    assert "bob@pve" not in [user["userid"] for user in pve_api.access.users.get()]
    assert pve_api.access.groups("ops").get()["members"] == []
    assert [entry for entry in pve_api.access.acl.get() if entry["ugid"] == "bob@pve"] == []


def test_access_user_list_limited_to_own_user(pve_cluster, pve_api):
    # User.pm index 235-245: without User.Modify/Sys.Audit on /access/groups only the caller's own entry
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    pve_api.access.users.post(userid="carol@pve")
    assert [user["userid"] for user in client(pve_cluster).access.users.get()] == ["bob@pve"]
    pve_api.access.acl.put(path="/access/groups", roles="PVEAuditor", users="bob@pve")
    assert {"root@pam", "carol@pve"} <= {user["userid"] for user in client(pve_cluster).access.users.get()}


# ---- passwords ------------------------------------------------------------------------------------------------


def test_access_password_own_needs_confirmation(pve_cluster, pve_api):
    # RPCEnvironment.pm reauth_user_for_user_modification 668-670: users other than root confirm their password
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    bob = client(pve_cluster)
    error = refused(lambda: bob.access.password.put(userid="bob@pve", password="new-password"), 400)
    assert error.errors == {"confirmation-password": "password is required to modify user"}
    bob.access.password.put(userid="bob@pve", password="new-password", **{"confirmation-password": PASSWORD})
    client(pve_cluster, password="new-password").version.get()


def test_access_password_wrong_confirmation_refused(pve_cluster, pve_api):
    # RPCEnvironment.pm 679 -> Auth/PVE.pm authenticate_user 83: a wrong confirmation fails before any change
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    bob = client(pve_cluster)
    confirm = {"confirmation-password": "not-my-password"}
    text = message(lambda: bob.access.password.put(userid="bob@pve", password="new-password", **confirm))
    assert text == "invalid credentials"
    client(pve_cluster).version.get()


def test_access_password_of_root_refused(pve_cluster, pve_api):
    # AccessControl.pm (API2) change_password 404-420: neither 'self' nor Realm.AllocateUser -> 403
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    bob = client(pve_cluster)
    confirm = {"confirmation-password": PASSWORD}
    refused(lambda: bob.access.password.put(userid="root@pam", password="new-password", **confirm), 403)


def test_access_password_of_pam_user_refused_for_others(pve_cluster, pve_api):
    # AccessControl.pm (API2) change_password 459-464: even with User.Modify, a pam user's password is root's
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    pve_api.access.users.post(userid="carol@pam")
    pve_api.access.users.post(userid="dave@pve", password="dave-password")
    pve_api.access.acl.put(path="/", roles="Administrator", users="bob@pve")
    bob = client(pve_cluster)
    confirm = {"confirmation-password": PASSWORD}
    refused(lambda: bob.access.password.put(userid="carol@pam", password="new-password", **confirm), 403)
    bob.access.password.put(userid="dave@pve", password="new-password", **confirm)
    client(pve_cluster, "dave@pve", "new-password").version.get()


def test_access_password_not_with_api_token(pve_cluster, pve_api):
    # change_password allowtoken => 0 (AccessControl.pm 424); pve-manager HTTPServer.pm 170-171
    made = pve_api.access.users("root@pam").token("ci").post(privsep=0)
    api = token_client(pve_cluster, made["full-tokenid"], made["value"])
    error = refused(lambda: api.access.password.put(userid="root@pam", password="new-password"), 403)
    assert "not available with API token" in error.content


# ---- API tokens -----------------------------------------------------------------------------------------------


def test_access_token_secret_shown_once(pve_cluster, pve_api):
    # User.pm generate_token 803-828: the value only in the POST's answer; info holds what was set
    made = pve_api.access.users("root@pam").token("ci").post(comment="CI")
    assert made["full-tokenid"] == "root@pam!ci" and made["info"] == {"privsep": 1, "comment": "CI"}
    assert "value" not in pve_api.access.users("root@pam").token("ci").get()
    assert token_client(pve_cluster, "root@pam!ci", made["value"]).version.get()["release"]


def test_access_token_create_existing_refused(pve_api):
    # User.pm generate_token 797-801: a parameter error before the lock
    pve_api.access.users("root@pam").token("ci").post()
    error = refused(lambda: pve_api.access.users("root@pam").token("ci").post(), 400)
    assert error.errors == {"tokenid": "Token already exists."}


def test_access_token_for_unknown_user_refused(pve_api):
    # User.pm generate_token 800: check_user_exist, no prefix
    assert message(lambda: pve_api.access.users("nobody@pve").token("ci").post()) == "no such user ('nobody@pve')"


def test_access_token_update_and_delete_comment(pve_api):
    # User.pm update_token_info 902-917: privsep/expire/comment set, delete=comment removes it
    token = pve_api.access.users("root@pam").token("ci")
    token.post(comment="CI")
    answer = token.put(privsep=0, expire=4102444800)
    assert answer == {"privsep": 0, "expire": 4102444800, "comment": "CI"}
    assert token.put(delete="comment") == {"privsep": 0, "expire": 4102444800}


def test_access_token_update_delete_unknown_option(pve_api):
    # User.pm update_token_info 911-914: only 'comment' may be deleted
    token = pve_api.access.users("root@pam").token("ci")
    token.post()
    error = refused(lambda: token.put(delete="privsep"), 400)
    assert error.errors == {"delete": "unknown option 'privsep'"}


def test_access_token_missing_refused(pve_api):
    # User.pm update_token_info 889 and remove_token 962: check_token_exist before the lock, no prefix
    token = pve_api.access.users("root@pam").token("nope")
    assert message(lambda: token.put(comment="x")) == "no such token 'nope' for user 'root@pam'"
    assert message(lambda: token.delete()) == "no such token 'nope' for user 'root@pam'"


def test_access_token_regenerate_replaces_secret(pve_cluster, pve_api):
    # User.pm update_token_info 919, 927-931: a new value; the old one stops working
    token = pve_api.access.users("root@pam").token("ci")
    old = token.post()["value"]
    answer = token.put(regenerate=1)
    assert answer["full-tokenid"] == "root@pam!ci" and answer["value"] != old
    assert token_client(pve_cluster, "root@pam!ci", answer["value"]).version.get()
    refused(lambda: token_client(pve_cluster, "root@pam!ci", old).version.get(), 401)


def test_access_token_expired_refused(pve_cluster, pve_api):
    # AccessControl.pm verify_token 510-511: a token past its expire is refused
    value = pve_api.access.users("root@pam").token("ci").post(expire=pve_cluster.clock.now() + 60)["value"]
    api = token_client(pve_cluster, "root@pam!ci", value)
    api.version.get()
    pve_cluster.clock.advance(120)
    refused(lambda: api.version.get(), 401)


def test_access_token_delete(pve_cluster, pve_api):
    # User.pm remove_token 964-976: the token and its secret go
    token = pve_api.access.users("root@pam").token("ci")
    value = token.post()["value"]
    token.delete()
    assert pve_api.access.users("root@pam").token.get() == []
    refused(lambda: token_client(pve_cluster, "root@pam!ci", value).version.get(), 401)


# ---- ACL ---------------------------------------------------------------------------------------------------


def test_access_acl_put_propagates_by_default(pve_cluster, pve_api):
    # ACL.pm update_acl 177-181, 245: propagate defaults to 1; the role reaches paths below
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    pve_api.access.acl.put(path="/vms", roles="PVEVMUser", users="bob@pve")
    assert {"path": "/vms", "type": "user", "ugid": "bob@pve", "roleid": "PVEVMUser", "propagate": 1} in (
        pve_api.access.acl.get()
    )
    client(pve_cluster).nodes("pve1").qemu(100).status.stop.post()


def test_access_acl_put_without_propagate(pve_cluster, pve_api):
    # ACL.pm update_acl 180: propagate=0 applies on the path itself only
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    pve_api.access.acl.put(path="/vms", roles="PVEVMUser", users="bob@pve", propagate=0)
    refused(lambda: client(pve_cluster).nodes("pve1").qemu(100).status.stop.post(), 403)


def test_access_acl_delete_removes_entry(pve_api):
    # ACL.pm update_acl 229-231, 242-243: delete=1 removes the role of those users/groups on the path
    pve_api.access.users.post(userid="bob@pve")
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="bob@pve")
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="bob@pve", delete=1)
    assert [entry for entry in pve_api.access.acl.get() if entry["ugid"] == "bob@pve"] == []


def test_access_acl_needs_users_groups_or_tokens(pve_api):
    # ACL.pm update_acl 155-160
    error = refused(lambda: pve_api.access.acl.put(path="/", roles="PVEAuditor"), 400)
    required = "either 'users', 'groups' or 'tokens' is required."
    assert error.errors == {"users": required, "groups": required, "tokens": required}


def test_access_acl_invalid_path_refused(pve_api):
    # ACL.pm update_acl 165-167 (AccessControl.pm check_path 1281)
    error = refused(lambda: pve_api.access.acl.put(path="/nowhere", roles="PVEAuditor", users="root@pam"), 400)
    assert error.errors == {"path": "invalid ACL path '/nowhere'"}


def test_access_acl_unknown_role_or_user_refused(pve_api):
    # ACL.pm update_acl 186-187, 239 inside lock_user_config ("ACL update failed")
    put = pve_api.access.acl.put
    assert (
        message(lambda: put(path="/", roles="Nope", users="root@pam"))
        == "ACL update failed: role 'Nope' does not exist"
    )
    text = message(lambda: put(path="/", roles="PVEAuditor", users="nobody@pve"))
    assert text == "ACL update failed: user 'nobody@pve' does not exist"


# ---- groups ------------------------------------------------------------------------------------------------


def test_access_group_create_existing_refused(pve_api):
    # Group.pm create_group 107-108 inside lock_user_config ("create group failed")
    pve_api.access.groups.post(groupid="ops")
    assert (
        message(lambda: pve_api.access.groups.post(groupid="ops")) == "create group failed: group 'ops' already exists"
    )


def test_access_group_update_missing_refused(pve_api):
    # Group.pm update_group 153-154 ("update group failed"); read_group 201 has no prefix
    text = message(lambda: pve_api.access.groups("nope").put(comment="x"))
    assert text == "update group failed: group 'nope' does not exist"
    assert message(lambda: pve_api.access.groups("nope").get()) == "group 'nope' does not exist"


def test_access_group_delete_drops_its_acl(pve_api):
    # Group.pm delete_group 239-244: the group and its ACL entries go ("delete group failed" when missing)
    pve_api.access.groups.post(groupid="ops")
    pve_api.access.acl.put(path="/vms", roles="PVEVMUser", groups="ops")
    pve_api.access.groups("ops").delete()
    assert [entry for entry in pve_api.access.acl.get() if entry["ugid"] == "ops"] == []
    assert message(lambda: pve_api.access.groups("ops").delete()) == "delete group failed: group 'ops' does not exist"


# ---- roles -------------------------------------------------------------------------------------------------


def test_access_role_create_and_append(pve_api):
    # Role.pm create_role 103-111, update_role 154-156: privs replaced unless append=1
    pve_api.access.roles.post(roleid="Watcher", privs="VM.Audit")
    pve_api.access.roles("Watcher").put(privs="Sys.Audit", append=1)
    assert pve_api.access.roles("Watcher").get() == {"VM.Audit": 1, "Sys.Audit": 1}
    pve_api.access.roles("Watcher").put(privs="Datastore.Audit")
    assert pve_api.access.roles("Watcher").get() == {"Datastore.Audit": 1}


def test_access_role_pve_prefix_refused(pve_api):
    # Role.pm create_role 96-101: the PVE namespace is reserved, a parameter error
    error = refused(lambda: pve_api.access.roles.post(roleid="pveMine"), 400)
    assert error.errors == {"roleid": "cannot use role ID starting with the (case-insensitive) 'PVE' namespace"}


def test_access_role_invalid_privilege_refused(pve_api):
    # Role.pm create_role: privs has format pve-priv-list, AccessControl.pm verify_privname 1374-1378: a parameter error
    error = refused(lambda: pve_api.access.roles.post(roleid="Mine", privs="VM.Fly"), 400)
    assert error.errors == {"privs": "invalid format - invalid privilege 'VM.Fly'\n"}
    assert "Mine" not in [role["roleid"] for role in pve_api.access.roles.get()]


def test_access_role_builtin_refuses_changes(pve_api):
    # Role.pm update_role 145-146 and delete_role 222-223: before the lock, no prefix
    text = message(lambda: pve_api.access.roles("PVEAdmin").put(privs="VM.Audit"))
    assert text == "auto-generated role 'PVEAdmin' cannot be modified"
    assert (
        message(lambda: pve_api.access.roles("NoAccess").delete()) == "auto-generated role 'NoAccess' cannot be deleted"
    )


def test_access_role_missing_refused(pve_api):
    # Role.pm update_role 152 ("update role failed"), delete_role 229 ("delete role failed"), read_role 195
    text = message(lambda: pve_api.access.roles("Nope").put(privs="VM.Audit"))
    assert text == "update role failed: role 'Nope' does not exist"
    assert message(lambda: pve_api.access.roles("Nope").delete()) == "delete role failed: role 'Nope' does not exist"
    assert message(lambda: pve_api.access.roles("Nope").get()) == "role 'Nope' does not exist"


# ---- realms ------------------------------------------------------------------------------------------------


def test_access_realm_builtin_names_and_types_refused(pve_api):
    # Domains.pm create 152-159 inside lock_domain_config ("add auth server failed")
    text = message(lambda: pve_api.access.domains.post(realm="pam", type="pve"))
    assert text == "add auth server failed: domain 'pam' already exists"
    text = message(lambda: pve_api.access.domains.post(realm="second", type="pve"))
    assert text == "add auth server failed: unable to create builtin type 'pve'"


def test_access_realm_delete_missing_refused(pve_api):
    # Domains.pm delete 357 ("delete auth server failed")
    text = message(lambda: pve_api.access.domains("nope").delete())
    assert text == "delete auth server failed: authentication domain 'nope' does not exist"


def test_access_acl_role_needs_privilege_superset(pve_cluster, pve_api):
    # ACL.pm update_acl 189-201 inside lock_user_config: without Permissions.Modify only roles whose privileges
    # the caller holds on the path may be handed out
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    pve_api.access.users.post(userid="carol@pve")
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMAdmin", users="bob@pve")
    bob = client(pve_cluster)
    bob.access.acl.put(path="/vms/100", roles="PVEVMUser", users="carol@pve")
    text = message(lambda: bob.access.acl.put(path="/vms/100", roles="Administrator", users="carol@pve"))
    # the parameter exception stringified into the die: its first line is what the status line carries
    assert text == "ACL update failed: 400 Parameter verification failed."
    assert [entry["roleid"] for entry in pve_api.access.acl.get() if entry["ugid"] == "carol@pve"] == ["PVEVMUser"]
