"""Firewall answers read from PVE's data and the node's log: ``/cluster/firewall/macros`` (pve-firewall's macro
table, ``third_party/pve-firewall``) and the firewall logs of a node and of a guest
(:mod:`pytest_pvemock.model.firewall_log`), paged as ``dump_fw_logfile`` pages them (pve-firewall
src/PVE/Firewall/Helpers.pm lines 77-150, pve-common src/PVE/Tools.pm ``dump_logfile_by_filehandle`` lines
751-800; commits 6f1311f3 and f665029e)."""

from __future__ import annotations

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.api.handlers.log_pages import dump_logfile
from pytest_pvemock.model.firewall_log import FirewallLogLine, firewall_log
from pytest_pvemock.pve_data import pve_data


@handles("GET", "/cluster/firewall/macros")
def list_firewall_macros(ctx: HandlerContext) -> list[dict[str, str]]:
    """Every macro with its description (its own name when PVE has none), as ``get_macros`` lists them."""
    macros: dict[str, str] = pve_data("pve-firewall", "macros.json")["macros"]
    return [{"macro": name, "descr": descr} for name, descr in macros.items()]


def _paged(ctx: HandlerContext, lines: list[FirewallLogLine]) -> Result:
    """``dump_fw_logfile``: the current file only, unless ``since``/``until`` ask for a period (then the rotated
    files too, oldest first); ``limit`` 0 reads to the end; one ``no content`` line when nothing matches."""
    since, until = ctx.params.get("since"), ctx.params.get("until")
    if since is None and until is None:
        lines = [line for line in lines if line.file == 0]
    else:
        lines = [
            line
            for line in lines
            if (since is None or line.time >= int(since)) and (until is None or line.time <= int(until))
        ]
    return dump_logfile([line.text for line in lines], ctx.params)


@handles("GET", "/nodes/{node}/firewall/log")
def read_node_firewall_log(ctx: HandlerContext) -> Result:
    """The node's firewall log: the logger's start and stop lines (the fake routes no packets)."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    return _paged(ctx, firewall_log(ctx.cluster, node))


@handles("GET", "/nodes/{node}/qemu/{vmid}/firewall/log")
@handles("GET", "/nodes/{node}/lxc/{vmid}/firewall/log")
def read_guest_firewall_log(ctx: HandlerContext) -> Result:
    """The node's firewall log lines that begin with the guest's VMID: none, since no packet was logged."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    prefix = f"{int(ctx.params['vmid'])} "
    return _paged(ctx, [line for line in firewall_log(ctx.cluster, node) if line.text.startswith(prefix)])
