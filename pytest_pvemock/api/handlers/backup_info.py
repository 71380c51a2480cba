"""``/cluster/backup-info/not-backed-up``: the guests no backup job covers (pve-manager
PVE/API2/Cluster/BackupInfo.pm lines 65-141, commit 14a22df3)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import privileges_of
from pytest_pvemock.model.backup_jobs import backed_up_vmids


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
