"""Backup coverage: ``/cluster/backup-info/not-backed-up``, the guests no backup job covers (pve-manager
PVE/API2/Cluster/BackupInfo.pm lines 65-141, commit 14a22df3), and ``/cluster/backup/{id}/included_volumes``, one
job's guests and which of their volumes it backs up (PVE/API2/Backup.pm lines 656-848)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.errors import ParameterError
from pytest_pvemock.model.backup_jobs import BACKUP_JOBS, backed_up_vmids, backup_volumes, included_guests
from pytest_pvemock.model.config_store import config_store_of


@handles("GET", "/cluster/backup-info/not-backed-up")
def guests_not_backed_up(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Guests outside every vzdump job, among those the caller may audit; ``name`` from the config when set."""
    cluster = ctx.cluster
    covered = backed_up_vmids(cluster)
    rows = []
    for guest in sorted(cluster.guests, key=lambda guest: guest.vmid):
        if guest.vmid in covered or "VM.Audit" not in privileges_of(
            cluster, ctx.principal.authid, f"/vms/{guest.vmid}"
        ):
            continue
        entry: dict[str, Any] = {"vmid": guest.vmid, "type": guest.kind}
        name = guest.config.get("name" if guest.kind == "qemu" else "hostname")
        if name is not None:
            entry["name"] = str(name)
        rows.append(entry)
    return rows


@handles("GET", "/cluster/backup/{id}/included_volumes")
def included_volumes(ctx: HandlerContext) -> dict[str, Any]:
    """The job's guests the caller may audit, each with its volumes and whether the job backs them up; a VMID
    whose guest is gone shows as ``unknown`` with no volumes."""
    cluster = ctx.cluster
    jobid = str(ctx.params["id"])
    job = config_store_of(cluster).section(BACKUP_JOBS).records.get(jobid)
    if job is None or job.get("type", "vzdump") != "vzdump":
        raise ParameterError({"id": f"No such job '{jobid}'"})
    children: list[dict[str, Any]] = []
    for vmids in included_guests(cluster, job).values():
        for vmid in vmids:
            if "VM.Audit" not in privileges_of(cluster, ctx.principal.authid, f"/vms/{vmid}"):
                continue
            guest = cluster.find_guest(vmid)
            if guest is None:
                children.append({"id": vmid, "type": "unknown", "leaf": 1})
                continue
            volumes = [
                {"id": f"{vmid}:{key}", "name": volume, "included": int(included), "reason": reason, "leaf": 1}
                for key, volume, included, reason in backup_volumes(guest)
            ]
            entry: dict[str, Any] = {"id": vmid, "type": guest.kind, "children": volumes}
            name = guest.config.get("name" if guest.kind == "qemu" else "hostname")
            if name is not None:  # PVE sends null for a guest without a name; the schema wants a string or nothing
                entry["name"] = str(name)
            children.append({**entry, "leaf": 0 if volumes else 1})
    return {"children": children}
