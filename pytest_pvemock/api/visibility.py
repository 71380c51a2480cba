"""What a caller sees of PVE's lists: the filters PVE's handlers apply in their code (``user => 'all'`` methods).

Each function takes the rows a view or handler built for everyone and keeps what the caller may see, as the Perl
handler does (pve-manager 14a22df3: PVE/API2/Cluster.pm resources 536-700, PVE/API2/Nodes.pm index 2985-2994 with
PVE/API2Tools.pm extract_node_stats 38-79; qemu-server e6352be6 Qemu.pm vmlist 1112-1113; pve-container 94f55852
LXC.pm vmlist 129; pve-storage 0c56bad8 Storage/Config.pm index 161-163, Storage/Status.pm index 243-245).
``root@pam`` sees everything; the rows are never changed in place (views cache them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_pvemock.api.handler import HandlerContext
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.model.access.acl import ROOT

__all__ = ["NODE_FIGURES", "Visibility"]

# API2Tools.pm extract_node_stats 54-67: the figures left out without Sys.Audit on the node
NODE_FIGURES = ("uptime", "cpu", "mem", "disk", "maxcpu", "maxmem", "maxdisk")


class Visibility:
    """The caller's view of one request: privileges looked up once per path."""

    def __init__(self, ctx: HandlerContext) -> None:
        self.authid = ctx.principal.authid
        self.everything = self.authid == ROOT
        self._checker = PermissionChecker(ctx.cluster) if not self.everything else None
        self._privileges: dict[str, set[str]] = {}

    def may(self, path: str, *privs: str) -> bool:
        """Whether the caller has any of ``privs`` on ``path`` (``$rpcenv->check_any(..., 1)``)."""
        if self._checker is None:
            return True
        have = self._privileges.get(path)
        if have is None:
            have = self._privileges[path] = self._checker.privileges(self.authid, path)
        return any(priv in have for priv in privs)

    def node_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """A node's row, without its figures unless the caller has Sys.Audit on the node."""
        if self.may(f"/nodes/{row.get('node')}", "Sys.Audit"):
            return row
        return {key: value for key, value in row.items() if key not in NODE_FIGURES}

    def guests(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Guest rows with VM.Audit on ``/vms/<vmid>``."""
        return [row for row in rows if self.may(f"/vms/{row.get('vmid')}", "VM.Audit")]

    def storages(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Storage rows with Datastore.Audit or Datastore.AllocateSpace on ``/storage/<id>``."""
        return [
            row
            for row in rows
            if self.may(f"/storage/{row.get('storage')}", "Datastore.Audit", "Datastore.AllocateSpace")
        ]

    def resources(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """``/cluster/resources`` rows as Cluster.pm resources filters them for the caller."""
        if self.everything:
            return list(rows)
        kept = []
        for row in rows:
            kind = row.get("type")
            if kind == "pool":
                if not self.may(f"/pool/{row.get('pool')}", "Pool.Audit"):
                    continue
            elif kind in ("qemu", "lxc"):
                if not self.may(f"/vms/{row.get('vmid')}", "VM.Audit"):
                    continue
                if row.get("pool") is not None and not self.may(f"/pool/{row['pool']}", "Pool.Audit"):
                    row = {key: value for key, value in row.items() if key != "pool"}
            elif kind == "node":
                row = self.node_row(row)
            elif kind == "storage":
                if not self.may(f"/storage/{row.get('storage')}", "Datastore.Audit"):
                    continue
            elif kind == "sdn":
                if not self.may(f"/sdn/zones/{row.get('sdn')}", "SDN.Audit"):
                    continue
            elif kind == "network":
                zone = row.get("network") if row.get("network-type") == "zone" else row.get("zone", row.get("network"))
                if not self.may(f"/sdn/zones/{zone}", "SDN.Audit"):
                    continue
            kept.append(row)
        return kept
