"""Matcher fields and their known values as pve-manager answers them (PVE/API2/Cluster/Notifications.pm lines
90-228, commit 14a22df3): three fixed fields; values are the five notification types, the backup job ids (only
with Sys.Audit on ``/``), the replication jobs the caller may audit, then the node names."""

from __future__ import annotations

from tests.support.replication import zfs_vm


def test_fields_are_pves_fixed_list(pve_api):
    assert pve_api.cluster.notifications("matcher-fields").get() == [
        {"name": "type"},
        {"name": "hostname"},
        {"name": "job-id"},
    ]


def test_values_follow_the_backup_jobs_replication_jobs_and_nodes(pve_api, pve_cluster):
    pve = pve_api
    zfs_vm(pve_cluster)
    pve.cluster.backup.post(id="nightly", schedule="02:00", storage="local", all=1, comment="every guest")
    pve.cluster.replication.post(id="120-0", target="pve2", type="local")
    values = pve.cluster.notifications("matcher-field-values").get()
    assert [value["value"] for value in values if value["field"] == "type"] == [
        "package-updates", "fencing", "replication", "vzdump", "system-mail",
    ]  # fmt: skip
    jobs = [value for value in values if value["field"] == "job-id"]
    assert {"value": "nightly", "comment": "every guest", "field": "job-id"} in jobs
    assert "120-0" in [job["value"] for job in jobs]
    assert [value["value"] for value in values if value["field"] == "hostname"] == ["pve1", "pve2", "pve3"]
    # the fields come in PVE's order: types, jobs, hostnames
    assert [value["field"] for value in values] == sorted(
        (value["field"] for value in values), key=["type", "job-id", "hostname"].index
    )
