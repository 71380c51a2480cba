"""Catalogue rows (docs/behaviour.md, "Realm sync"): pve-access-control ``PVE/API2/Domains.pm`` ``sync`` at 5ccd07d9
(the checks 549-563, the worker 565-607, ``$update_users`` 374-427, ``$update_groups`` 429-475) reading the realm's
directory as ``PVE/Auth/LDAP.pm`` ``get_users`` 277-350 and ``get_groups`` 352-389 do, through proxmoxer."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from support.clients import refused  # noqa: E402
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)


@pytest.fixture
def corp(pve_api, pve_cluster):
    """An AD realm whose server holds two users (one in the 'ops' group) and the 'ops' group."""
    pve_api.access.domains.post(realm="corp", type="ad", domain="corp.test", server1="dc1.corp.test",
                                sync_attributes="email=mail,firstname=givenName")  # fmt: skip
    directory = pve_cluster.directories.of("corp")
    directory.add_user("alice", password="s3cret-alice", mail="alice@corp.test", givenName="Alice", sn="Admin")
    directory.add_user("bob", mail="bob@corp.test")
    directory.add_group("ops", ["alice"])
    return directory


def users_of(api, realm):
    return {row["userid"]: row for row in api.access.users.get() if row["userid"].endswith(f"@{realm}")}


def test_realm_sync_adds_users_and_groups_from_the_directory(pve_api, corp):
    # Domains.pm 565-607: get_users/get_groups, then $update_users/$update_groups under the user.cfg lock;
    # LDAP.pm 296-303: sync_attributes map the directory's attribute names to user.cfg's
    upid = pve_api.access.domains("corp").sync.post(scope="both")
    assert ":auth-realm-sync:corp:root@pam:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert log_of(pve_api, upid)[:8] == [
        "starting sync for realm corp", "got data from server, updating users and groups", "syncing users",
        "adding user 'alice@corp'", "adding user 'bob@corp'", "syncing groups", "adding group 'ops-corp'",
        "successfully updated users and groups configuration",
    ]  # fmt: skip
    users = users_of(pve_api, "corp")
    assert users["alice@corp"]["email"] == "alice@corp.test" and users["alice@corp"]["firstname"] == "Alice"
    assert "lastname" not in users["alice@corp"]  # 'sn' is not mapped: only what sync_attributes names
    assert users["bob@corp"]["enable"] == 1  # enable-new defaults to 1
    assert pve_api.access.groups("ops-corp").get()["members"] == ["alice@corp"]


def test_realm_sync_dry_run_writes_nothing(pve_api, corp):
    # Domains.pm 566, 594-598, 604: 'auth-realm-sync-test', the NOTE, and user.cfg left as it was
    upid = pve_api.access.domains("corp").sync.post(scope="users", **{"dry-run": 1})
    assert ":auth-realm-sync-test:corp:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    log = log_of(pve_api, upid)
    assert log[0] == "(dry test run) starting sync for realm corp" and "adding user 'alice@corp'" in log
    assert "NOTE: Dry test run, changes were NOT written to the configuration." in log
    assert users_of(pve_api, "corp") == {}


def test_realm_sync_remove_vanished_drops_users_and_their_acl(pve_api, corp):
    # Domains.pm 386-401: remove-vanished 'entry' deletes realm users the directory no longer has, 'acl' their ACLs
    finish(pve_api, pve_api.access.domains("corp").sync.post(scope="users"))
    pve_api.access.acl.put(path="/vms", roles="PVEVMUser", users="bob@corp")
    corp.remove_user("bob")
    upid = pve_api.access.domains("corp").sync.post(scope="users", **{"remove-vanished": "acl;entry"})
    assert finish(pve_api, upid)["exitstatus"] == "OK"
    log = log_of(pve_api, upid)
    assert "syncing users (remove-vanished opts: acl;entry)" in log and "remove user 'bob@corp'" in log
    assert "purge users 'bob@corp' ACL entries" in log
    assert list(users_of(pve_api, "corp")) == ["alice@corp"]
    assert [row for row in pve_api.access.acl.get() if row["ugid"] == "bob@corp"] == []


def test_realm_sync_keeps_local_changes_unless_properties_is_removed(pve_api, corp):
    # Domains.pm 403-426: an existing user is updated attribute by attribute; 'properties' overwrites it whole,
    # keeping only enable and tokens
    finish(pve_api, pve_api.access.domains("corp").sync.post(scope="users"))
    pve_api.access.users("alice@corp").put(comment="on call", enable=0)
    upid = pve_api.access.domains("corp").sync.post(scope="users")
    assert "updating user 'alice@corp'" in log_of(pve_api, finish(pve_api, upid) and upid)
    assert pve_api.access.users("alice@corp").get()["comment"] == "on call"
    upid = pve_api.access.domains("corp").sync.post(scope="users", **{"remove-vanished": "properties"})
    finish(pve_api, upid)
    assert "overwriting user 'alice@corp'" in log_of(pve_api, upid)
    alice = pve_api.access.users("alice@corp").get()
    assert "comment" not in alice and alice["enable"] == 0


def test_realm_sync_refuses_what_pve_refuses(pve_api, corp):
    # Domains.pm 553-563: an unknown realm is a 400 on 'realm', a pve realm cannot sync, a scope must be given
    error = refused(pve_api.access.domains("nowhere").sync.post, scope="users")
    assert error.status_code == 400 and error.errors == {"realm": "Realm does not exist."}
    error = refused(pve_api.access.domains("pve").sync.post, scope="users")
    assert error.status_code == 500 and "Cannot sync realm type 'pve'! Only LDAP/AD realms can be synced." in str(
        error.content
    )
    error = refused(pve_api.access.domains("corp").sync.post)
    assert error.errors == {"scope": "Not passed as parameter and not defined in realm default sync options."}
    pve_api.access.domains("corp").put(**{"sync-defaults-options": "scope=users"})
    assert ":auth-realm-sync:corp:" in pve_api.access.domains("corp").sync.post()


def test_realm_sync_fails_in_the_task_when_the_server_is_unreachable(pve_api, corp):
    # Domains.pm 569 get_users -> LDAP.pm connect_and_bind -> PVE::LDAP::ldap_connect dies inside the worker;
    # lock_user_config is not reached, so the message is the connection error itself
    corp.reachable = False
    upid = pve_api.access.domains("corp").sync.post(scope="users")
    assert finish(pve_api, upid)["exitstatus"] == "Connection refused"
    assert users_of(pve_api, "corp") == {}


def test_realm_sync_then_login_against_the_directory(pve_api, corp):
    # PVE::AccessControl::authenticate_user: the user must be in user.cfg, then the LDAP plugin binds as it
    finish(pve_api, pve_api.access.domains("corp").sync.post(scope="users"))
    client = proxmoxer.ProxmoxAPI("pve.test", user="alice@corp", password="s3cret-alice", verify_ssl=False)
    assert client.version.get()["release"]
    with pytest.raises(proxmoxer.AuthenticationError):
        proxmoxer.ProxmoxAPI("pve.test", user="alice@corp", password="wrong", verify_ssl=False)


def test_realm_sync_job_runs_at_its_schedule_once_per_turn(pve_api, pve_cluster, corp):
    # pve-manager PVE/Jobs.pm run_jobs 285-335 (14a22df3): every node's pvescheduler checks the job each minute;
    # pve-access-control src/PVE/Jobs/RealmSync.pm run 31-93: the first node whose turn came runs the sync as root@pam,
    # the others see its task in the state file; API2/Jobs/RealmSync.pm 17-32, 98-110: last-run is that task's start
    pve_api.cluster.jobs("realm-sync")("nightly").post(schedule="02:30", realm="corp", scope="both")
    assert pve_cluster.clock.now() % 86400 == 9 * 3600 + 27 * 60 + 53  # 09:27:53 UTC: the next run is tomorrow
    pve_cluster.clock.advance(18 * 3600)  # past 02:30; a new login, the first ticket has expired
    pve_api = proxmoxer.ProxmoxAPI(pve_cluster.host, user="root@pam", password="pvemock", verify_ssl=False)
    tasks = [row for row in pve_api.cluster.tasks.get() if row["type"] == "auth-realm-sync"]
    assert [(row["node"], row["user"], row["id"], row["status"]) for row in tasks] == [
        ("pve1", "root@pam", "corp", "OK")
    ]
    assert sorted(users_of(pve_api, "corp")) == ["alice@corp", "bob@corp"]
    job = pve_api.cluster.jobs("realm-sync").get()[0]
    assert job["last-run"] == tasks[0]["starttime"] and job["next-run"] - job["last-run"] == 86400
    assert job["last-run"] % 86400 == 2 * 3600 + 30 * 60  # pvescheduler wakes at the start of each minute
