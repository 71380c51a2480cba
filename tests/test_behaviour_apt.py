"""APT writes (docs/behaviour.md, "APT"): pve-manager PVE/API2/APT.pm (commit 14a22df3) hands the repository writes
to proxmox-apt through Proxmox::RS::APT::Repositories (proxmox-perl-rs pve-rs/src/apt/repositories.rs at 1ae868ad,
whose code moved unchanged into proxmox-apt); ``apt/update`` forks an ``aptupdate`` worker running apt-get update."""

from __future__ import annotations

import proxmoxer
import pytest
from support.clients import refused, task_log, wait

pytestmark = pytest.mark.pve_cluster("default", validate=True)

PROXMOX = "/etc/apt/sources.list.d/proxmox.sources"
DEBIAN = "/etc/apt/sources.list.d/debian.sources"
ENTERPRISE = "/etc/apt/sources.list.d/pve-enterprise.sources"


def _files(answer):
    return {file["path"]: file["repositories"] for file in answer["files"]}


def _status(answer):
    return {row["handle"]: row.get("status") for row in answer["standard-repos"]}


def test_apt_disabling_enterprise_and_adding_no_subscription(pve_api):
    # APT.pm 719-773 (POST: change_repository), 681-717 (PUT: add_repository); repositories.rs 95-118, 146-152
    apt = pve_api.nodes("pve1").apt
    before = apt.repositories.get()
    assert apt.repositories.post(path=ENTERPRISE, index=0, enabled=0, digest=before["digest"]) is None
    assert apt.repositories.put(handle="no-subscription") is None
    after = apt.repositories.get()
    assert after["digest"] != before["digest"]
    assert _files(after)[ENTERPRISE][0]["Enabled"] is False
    assert [file["path"] for file in after["files"]] == [DEBIAN, PROXMOX, ENTERPRISE]
    added = _files(after)[PROXMOX][0]
    assert (added["URIs"], added["Suites"], added["Components"], added["FileType"], added["Enabled"]) == (
        ["http://download.proxmox.com/debian/pve"], ["trixie"], ["pve-no-subscription"], "sources", True)  # fmt: skip
    assert _status(after)["enterprise"] is False and _status(after)["no-subscription"] is True
    assert _status(after)["test"] is None
    warning = "The no-subscription repository is not recommended for production use"
    info = {"path": PROXMOX, "index": "0", "property": "Components", "kind": "warning", "message": warning}
    assert info in after["infos"]
    # another node's files are its own
    assert _status(pve_api.nodes("pve2").apt.repositories.get())["no-subscription"] is None


def test_apt_adding_a_configured_repository_enables_it(pve_api):
    # repositories.rs 79-93: a configured repository is set to enabled, not added twice
    apt = pve_api.nodes("pve1").apt
    apt.repositories.post(path=ENTERPRISE, index=0, enabled=0)
    apt.repositories.put(handle="enterprise")
    answer = apt.repositories.get()
    assert [repo["Enabled"] for repo in _files(answer)[ENTERPRISE]] == [True]
    assert [file["path"] for file in answer["files"]] == [DEBIAN, ENTERPRISE]


def test_apt_a_stale_digest_is_refused(pve_api):
    # repositories.rs 72-77 and 135-140: the digest of every file, checked before any change
    apt = pve_api.nodes("pve1").apt
    stale = apt.repositories.get()["digest"]
    apt.repositories.put(handle="test")
    error = refused(apt.repositories.post, path=ENTERPRISE, index=0, enabled=0, digest=stale)
    assert error.status_code == 500
    assert "detected modified configuration - file changed by other user? Try again." in str(error)
    assert _files(apt.repositories.get())[ENTERPRISE][0]["Enabled"] is True
    assert "detected modified configuration" in str(refused(apt.repositories.put, handle="enterprise", digest=stale))


def test_apt_an_unknown_path_or_index_is_refused(pve_api):
    # repositories.rs 146-158
    apt = pve_api.nodes("pve1").apt
    error = refused(apt.repositories.post, path="/etc/apt/sources.list.d/other.list", index=0, enabled=0)
    assert error.status_code == 500 and "invalid path - /etc/apt/sources.list.d/other.list" in str(error)
    error = refused(apt.repositories.post, path=ENTERPRISE, index=1, enabled=0)
    assert error.status_code == 500 and "invalid index - 1" in str(error)


def test_apt_one_line_lists_before_pve_9(pve_cluster_factory):
    # PVE 8 (bookworm): standard repositories go to one-line .list files, no-subscription into sources.list
    cluster = pve_cluster_factory(version="8.4", validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    apt = api.nodes("pve1").apt
    apt.repositories.put(handle="no-subscription")
    apt.repositories.put(handle="ceph-quincy-no-subscription")
    answer = apt.repositories.get()
    added = _files(answer)["/etc/apt/sources.list"][3]
    assert (added["URIs"], added["Suites"], added["Components"], added["FileType"]) == (
        ["http://download.proxmox.com/debian/pve"], ["bookworm"], ["pve-no-subscription"], "list")  # fmt: skip
    ceph = _files(answer)["/etc/apt/sources.list.d/ceph.list"]
    assert [(repo["URIs"], repo["Components"]) for repo in ceph] == [
        (["http://download.proxmox.com/debian/ceph-quincy"], ["no-subscription"])]  # fmt: skip
    assert _status(answer)["ceph-quincy-no-subscription"] is True


def test_apt_update_fails_on_the_enterprise_repository_without_subscription(pve_api, pve_cluster):
    # APT.pm 325-417: 'aptupdate' worker, "starting apt-get update", apt-get's output; run_command dies on exit 100
    pve_cluster.node("pve1").level = ""
    apt = pve_api.nodes("pve1").apt
    upid = apt.update.post()
    assert upid.split(":")[5] == "aptupdate"
    status = wait(pve_api, upid)
    assert status["exitstatus"] == "command 'apt-get update' failed: exit code 100"
    log = task_log(pve_api, upid)
    assert log[0] == "starting apt-get update"
    assert "Err:4 https://enterprise.proxmox.com/debian/pve trixie InRelease" in log
    assert "E: The repository 'https://enterprise.proxmox.com/debian/pve trixie InRelease' is not signed." in log
    # with the enterprise repository off and no-subscription on, the update succeeds
    apt.repositories.post(path=ENTERPRISE, index=0, enabled=0)
    apt.repositories.put(handle="no-subscription")
    upid = apt.update.post(quiet=0)
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert task_log(pve_api, upid) == [
        "starting apt-get update",
        "Hit:1 http://deb.debian.org/debian trixie InRelease",
        "Hit:2 http://deb.debian.org/debian trixie-updates InRelease",
        "Hit:3 http://security.debian.org/debian-security trixie-security InRelease",
        "Hit:4 http://download.proxmox.com/debian/pve trixie InRelease",
        "Reading package lists...",
        "TASK OK",
    ]
    # the node's packages are its release's: nothing to upgrade (APT.pm list_updates)
    assert apt.update.get() == []


def test_apt_update_quiet_logs_nothing_but_the_end(pve_api, pve_cluster):
    # APT.pm 347-351: quiet drops apt-get's output and the start line; a subscribed node reaches enterprise
    pve_cluster.node("pve1").level = "c"
    upid = pve_api.nodes("pve1").apt.update.post(quiet=1)
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    assert task_log(pve_api, upid) == ["TASK OK"]
