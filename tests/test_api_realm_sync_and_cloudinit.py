"""Realm sync jobs and a VM's cloud-init values, as PVE answers them (made real for the realism walk, issue 11)."""

from __future__ import annotations

import pytest
from proxmoxer.core import ResourceException

pytestmark = pytest.mark.pve_cluster(validate=True)


def test_a_fresh_cluster_has_no_realm_sync_job_and_a_missing_one_is_a_parameter_error(pve_api):
    # pve-access-control src/PVE/API2/Jobs/RealmSync.pm (5ccd07d9): the jobs of jobs.cfg (none on a new cluster);
    # read_job of a missing id: raise_param_exc({id => "No such job '$id'"}) (147); pam/pve cannot sync (192-193)
    assert pve_api.cluster.jobs("realm-sync").get() == []
    with pytest.raises(ResourceException) as caught:
        pve_api.cluster.jobs("realm-sync")("nightly").get()
    assert (caught.value.status_code, caught.value.errors) == (400, {"id": "No such job 'nightly'"})
    with pytest.raises(ResourceException) as caught:
        # scope given: check_config (184) asks for it before the realm is looked at
        pve_api.cluster.jobs("realm-sync")("nightly").post(realm="pam", schedule="02:00", scope="users")
    assert caught.value.errors == {"realm": "Only LDAP/AD realms can be synced."}


@pytest.mark.pve_cluster("production", validate=True)
def test_the_production_clusters_directory_sync_reads_back(pve_api):
    (job,) = pve_api.cluster.jobs("realm-sync").get()
    assert (job["id"], job["realm"], job["schedule"], job["scope"]) == ("corp-users", "corp", "02:00", "users")
    assert pve_api.cluster.jobs("realm-sync")("corp-users").get()["remove-vanished"] == "acl;entry"


def test_cloudinit_lists_the_vms_cloud_init_values_the_password_masked(pve_api):
    # qemu-server src/PVE/API2/Qemu.pm 1967-2011 (e6352be6): the options of $cloudinitoptions (853-862) the config
    # sets, cipassword as '**********'; none set, none listed. Set after the drive was made (VM start), they are
    # pending ('added' in the [special:cloudinit] section); the start makes the drive with them
    vm = pve_api.nodes("pve2").qemu(102)
    assert vm.cloudinit.get() == []
    vm.config.put(ciuser="debian", cipassword="s3cret-pw", searchdomain="corp.pvemock.lan")
    rows = {row["key"]: row for row in vm.cloudinit.get()}
    assert rows == {
        "ciuser": {"key": "ciuser", "pending": "debian"},
        "cipassword": {"key": "cipassword", "pending": "**********"},
        "searchdomain": {"key": "searchdomain", "pending": "corp.pvemock.lan"},
    }
    vm.status.start.post()
    rows = {row["key"]: row for row in vm.cloudinit.get()}
    assert rows == {
        "ciuser": {"key": "ciuser", "value": "debian"},
        "cipassword": {"key": "cipassword", "value": "**********"},
        "searchdomain": {"key": "searchdomain", "value": "corp.pvemock.lan"},
    }
