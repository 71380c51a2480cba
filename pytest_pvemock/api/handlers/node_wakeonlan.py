"""``POST /nodes/{node}/wakeonlan``: the node answering the request sends a Wake-on-LAN packet to ``{node}``.

pve-manager PVE/API2/Nodes.pm ``wakeonlan`` lines 716-792 at 14a22df3 (not proxied: the node the client talks to
sends it): not the local node, a node of the cluster, the target's ``wakeonlan`` MAC from its node config (``PUT
/nodes/{node}/config``, PVE/NodeConfig.pm ``get_wakeonlan_config``), the local node's ``bind-interface`` and
``broadcast-address``; the answer is the MAC. A powered-off node whose NIC gets the packet boots (about 90 s of
firmware and boot on the clock); a running one ignores it.
"""

from __future__ import annotations

from pytest_pvemock.api.collections import config_store, store_name
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.guest_config import property_option

BOOT_SECONDS = 90


def _wakeonlan_config(ctx: HandlerContext, node: str) -> str:
    stored = config_store(ctx.cluster).option_set(store_name("/nodes/{node}/config", {"node": node}))
    return str(stored.get("wakeonlan") or "")


def _mac(config: str) -> str | None:
    """The ``mac`` of a ``wakeonlan`` property string (its default key: ``AA:BB:...`` alone names it)."""
    first = config.split(",")[0]
    return property_option(config, "mac") or (first if first and "=" not in first else None)


@handles("POST", "/nodes/{node}/wakeonlan")
def wakeonlan(ctx: HandlerContext) -> str:
    """The MAC the magic packet was built from; the node boots if it was powered off."""
    cluster, node = ctx.cluster, str(ctx.params["node"])
    local = ctx.entry_node
    if node in ("localhost", local):
        raise PVEError(f"'{node}' is local node, cannot wake my self!", 500)
    target = cluster.find_node(node)
    if target is None:
        raise PVEError(f"no such cluster node '{node}'", 500)
    mac = _mac(_wakeonlan_config(ctx, node))
    if not mac:
        raise PVEError(f"No wake on LAN MAC address defined for '{node}'!", 500)
    powered = cluster.ha.power.get(node, target.online)
    if not powered:

        def boot() -> None:
            if not cluster.ha.power.get(node, target.online):
                target.power_on()

        if cluster.clock.instant:
            boot()
        else:
            cluster.clock.call_at(cluster.clock.now() + BOOT_SECONDS, boot)
    return mac
