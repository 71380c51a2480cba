"""Permissions as PVE enforces them for users and tokens that are not root@pam, seen through proxmoxer."""

from __future__ import annotations

import pytest

from pytest_pvemock.model.access.acl import AccessControl, builtin_roles

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer import ResourceException  # noqa: E402
from support.clients import token_client  # noqa: E402

PASSWORD = "alice-password"


def client(cluster, user="alice@pve", password=PASSWORD):
    return proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user=user, password=password, verify_ssl=False)


@pytest.fixture
def alice(pve_cluster):
    pve_cluster.access.add_user("alice@pve", password=PASSWORD)
    return client(pve_cluster)


def grant(pve_api, path, role, propagate=1, **who):
    pve_api.access.acl.put(path=path, roles=role, propagate=propagate, **who)


def denied(call):
    with pytest.raises(ResourceException) as caught:
        call()
    assert caught.value.status_code == 403
    return caught.value.content  # proxmoxer keeps the reason phrase, where pveproxy puts the message


def test_role_on_one_vm_allows_that_vm_only(pve_api, alice):
    grant(pve_api, "/vms/100", "PVEVMUser", users="alice@pve")
    assert alice.nodes("pve1").qemu(100).status.current.get()["vmid"] == 100
    alice.nodes("pve1").qemu(100).status.stop.post()
    message = denied(lambda: alice.nodes("pve1").qemu(101).status.stop.post())
    assert message == "Permission check failed (/vms/101, VM.PowerMgmt)"


def test_user_without_any_acl_is_refused_with_the_path_and_privilege(alice):
    assert denied(lambda: alice.nodes("pve1").status.get()) == "Permission check failed (/nodes/pve1, Sys.Audit)"
    assert alice.version.get()["release"]  # user => 'all'


def test_any_of_several_privileges_is_named_with_a_bar(alice):
    message = denied(lambda: alice.nodes("pve1").storage("local").content.get())
    assert message == "Permission check failed (/storage/local, Datastore.Audit|Datastore.AllocateSpace)"


def test_acl_propagates_only_when_asked(pve_api, alice):
    grant(pve_api, "/vms", "PVEAuditor", propagate=0, users="alice@pve")
    denied(lambda: alice.nodes("pve1").qemu(100).status.current.get())
    grant(pve_api, "/vms", "PVEAuditor", propagate=1, users="alice@pve")
    assert alice.nodes("pve1").qemu(100).status.current.get()["vmid"] == 100


def test_no_access_on_a_deeper_path_wins(pve_api, alice):
    grant(pve_api, "/", "PVEVMAdmin", users="alice@pve")
    grant(pve_api, "/vms/101", "NoAccess", users="alice@pve")
    alice.nodes("pve1").qemu(100).status.current.get()
    denied(lambda: alice.nodes("pve1").qemu(101).status.current.get())


def test_group_acl_reaches_its_members(pve_api, pve_cluster, alice):
    pve_api.access.groups.post(groupid="ops", comment="operators")
    pve_cluster.access.users["alice@pve"].groups.append("ops")
    grant(pve_api, "/nodes", "PVEAuditor", groups="ops")
    assert alice.nodes("pve1").status.get()
    assert pve_api.access.groups("ops").get()["members"] == ["alice@pve"]


def test_pool_acl_reaches_the_pool_members(pve_api, alice):
    grant(pve_api, "/pool/prod", "PVEVMUser", users="alice@pve")
    alice.nodes("pve1").qemu(100).status.current.get()  # VM 100 is in pool prod
    denied(lambda: alice.nodes("pve2").qemu(102).status.current.get())


def test_privilege_separated_token_gets_the_intersection(pve_api, pve_cluster):
    pve_cluster.access.add_user("bob@pve", password="bob-password")
    secret = pve_cluster.access.add_token("bob@pve", "ci", privsep=True)
    full = pve_cluster.access.add_token("bob@pve", "full", privsep=False)
    grant(pve_api, "/", "PVEVMAdmin", users="bob@pve")
    grant(pve_api, "/", "PVEAuditor", tokens="bob@pve!ci")
    separated = token_client(pve_cluster, "bob@pve", "ci", secret)
    assert separated.nodes("pve1").qemu(100).status.current.get()["vmid"] == 100  # VM.Audit: both have it
    message = denied(lambda: separated.nodes("pve1").qemu(100).status.stop.post())
    assert message == "Permission check failed (/vms/100, VM.PowerMgmt)"
    token_client(pve_cluster, "bob@pve", "full", full).nodes("pve1").qemu(100).status.stop.post()


def test_root_only_method_refuses_other_users(pve_api, alice):
    grant(pve_api, "/", "Administrator", users="alice@pve")
    message = denied(lambda: alice.cluster.config.post(clustername="other"))
    assert message == "Permission check failed (user != root@pam)"


def test_userid_param_self_lets_users_read_their_own_tokens(pve_cluster, alice):
    pve_cluster.access.add_user("carol@pve", password="carol-password")
    assert alice.access.users("alice@pve").token.get() == []
    denied(lambda: alice.access.users("carol@pve").token.get())


def test_custom_role_with_chosen_privileges(pve_api, alice):
    pve_api.access.roles.post(roleid="Watcher", privs="Sys.Audit")
    assert pve_api.access.roles("Watcher").get() == {"Sys.Audit": 1}
    grant(pve_api, "/nodes/pve1", "Watcher", users="alice@pve")
    assert alice.nodes("pve1").status.get()
    denied(lambda: alice.nodes("pve2").status.get())


def test_acl_listing_shows_what_was_granted(pve_api):
    grant(pve_api, "/vms/100", "PVEVMUser", users="root@pam", propagate=0)
    assert {"path": "/vms/100", "type": "user", "ugid": "root@pam", "roleid": "PVEVMUser", "propagate": 0} in (
        pve_api.access.acl.get()
    )
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="root@pam", delete=1)
    assert pve_api.access.acl.get() == []


def test_built_in_roles_hold_pve_privileges():
    BUILTIN_ROLES = builtin_roles()
    assert BUILTIN_ROLES["PVEVMUser"] == {
        "VM.Audit",
        "VM.GuestAgent.Audit",
        "VM.Config.CDROM",
        "VM.Config.Cloudinit",
        "VM.Console",
        "VM.Backup",
        "VM.GuestAgent.FileRead",
        "VM.GuestAgent.FileSystemMgmt",
        "VM.GuestAgent.FileWrite",
        "VM.PowerMgmt",
    }
    assert "Mapping.Modify" not in BUILTIN_ROLES["PVEAdmin"]
    assert "Permissions.Modify" in BUILTIN_ROLES["Administrator"]
    assert BUILTIN_ROLES["NoAccess"] == frozenset()
    assert BUILTIN_ROLES["PVETemplateUser"] == {"VM.Clone", "VM.Audit"}


# pve-access-control AccessControl.pm $privgroups (stable-7 f96a4de5, stable-bookworm 0f258e71, master 5ccd07d9) and
# each release's schema of GET /access/roles/{roleid} (create_priv_properties: every privilege it knows)
RELEASE_PRIVILEGES = [
    pytest.param({"VM.Monitor", "Permissions.Modify"}, {"SDN.Use", "Mapping.Use", "VM.GuestAgent.Audit"},
                 marks=pytest.mark.pve_cluster(version="7.4"), id="7.4"),
    pytest.param({"VM.Monitor", "Sys.AccessNetwork", "Mapping.Use"}, {"VM.GuestAgent.Audit", "VM.Replicate"},
                 marks=pytest.mark.pve_cluster(version="8.4"), id="8.4"),
    pytest.param({"VM.GuestAgent.Audit", "VM.Replicate", "Mapping.Use"}, {"VM.Monitor"},
                 marks=pytest.mark.pve_cluster(version="9.1"), id="9.1"),
]  # fmt: skip


@pytest.mark.parametrize("present, absent", RELEASE_PRIVILEGES)
def test_each_release_knows_its_own_privileges(pve_api, present, absent):
    administrator = set(pve_api.access.roles("Administrator").get())
    assert present <= administrator and not absent & administrator
    pve_api.access.roles.post(roleid="Ops", privs=",".join(sorted(present)))
    assert set(pve_api.access.roles("Ops").get()) == present
    with pytest.raises(ResourceException) as caught:
        pve_api.access.roles.post(roleid="Old", privs=sorted(absent)[0])
    assert f"invalid privilege '{sorted(absent)[0]}'" in str(caught.value)


def test_user_entries_override_group_entries_on_the_same_level():
    control = AccessControl()
    control.grant("/", "PVEAdmin", group="admins")
    control.grant("/", "PVEAuditor", user="dave@pve")

    def groups_of(_userid):
        return ["admins"]

    assert "VM.PowerMgmt" not in control.privileges("dave@pve", "/vms/100", groups_of)
    assert "VM.Audit" in control.privileges("dave@pve", "/vms/100", groups_of)


def test_acl_and_group_lists_show_only_what_the_caller_may_manage(pve_api, alice):
    grant(pve_api, "/vms/100", "PVEVMAdmin", users="alice@pve")
    grant(pve_api, "/vms/101", "PVEVMUser", users="root@pam")
    pve_api.access.groups.post(groupid="ops")
    pve_api.access.groups.post(groupid="dev")
    grant(pve_api, "/access/groups/dev", "PVEAuditor", users="alice@pve")
    assert {entry["path"] for entry in alice.access.acl.get()} == {"/vms/100"}
    assert [group["groupid"] for group in alice.access.groups.get()] == ["dev"]
    assert len(pve_api.access.acl.get()) == 3


def test_effective_permissions_of_the_caller(pve_api, alice):
    grant(pve_api, "/vms/100", "PVEVMUser", users="alice@pve")
    mine = alice.access.permissions.get()
    assert set(mine) == {"/vms/100"}
    assert mine["/vms/100"]["VM.PowerMgmt"] == 1
    assert alice.access.permissions.get(path="/vms/101") == {}
    assert denied(lambda: alice.access.permissions.get(userid="root@pam")) == (
        "Permission check failed (/access, Sys.Audit)"
    )
    assert "Sys.Modify" in pve_api.access.permissions.get()["/"]


def failure(call):
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value


def test_acl_updates_are_checked_as_pve_checks_them(pve_api, alice):
    error = failure(lambda: pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser"))
    assert error.status_code == 400
    assert error.errors["users"] == "either 'users', 'groups' or 'tokens' is required."
    error = failure(lambda: pve_api.access.acl.put(path="/nope", roles="PVEAuditor", users="alice@pve"))
    assert error.errors == {"path": "invalid ACL path '/nope'"}
    error = failure(lambda: pve_api.access.acl.put(path="/", roles="Nope", users="alice@pve"))
    assert error.content == "ACL update failed: role 'Nope' does not exist"
    assert pve_api.access.acl.get() == []  # nothing was written


def test_without_permissions_modify_only_a_subset_of_ones_own_privileges_can_be_granted(pve_api, pve_cluster, alice):
    pve_cluster.access.add_user("bob@pve", password="bob-password")
    grant(pve_api, "/vms/100", "PVEVMAdmin", users="alice@pve")  # VM.Allocate: may manage ACLs on /vms/100
    alice.access.acl.put(path="/vms/100", roles="PVEVMUser", users="bob@pve")
    error = failure(lambda: alice.access.acl.put(path="/vms/100", roles="Administrator", users="bob@pve"))
    assert error.content == "ACL update failed: 400 Parameter verification failed."
    assert denied(lambda: alice.access.acl.put(path="/vms/101", roles="PVEVMUser", users="bob@pve")) == (
        "Permission check failed (/vms/101, Permissions.Modify|VM.Allocate)"
    )
