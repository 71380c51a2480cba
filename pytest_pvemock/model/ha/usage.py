"""Node usage for target-node selection (``PVE::HA::Usage``): the basic scheduler counts HA services per node."""

from __future__ import annotations

from typing import Any

_CURRENT_NODE_STATES = frozenset(
    {"started", "request_stop", "fence", "freeze", "error", "recovery", "migrate", "relocate"}
)
_TARGET_NODE_STATES = frozenset({"migrate", "relocate", "request_start_balance"})


def used_service_nodes(online_nodes: dict[str, Any] | set[str], sd: dict[str, Any]) -> tuple[str | None, str | None]:
    """The online nodes a service occupies: ``(current_node, target_node)``."""
    state = sd.get("state")
    if state in ("stopped", "request_start"):
        return None, None
    current = target = None
    node = sd.get("node")
    if state in _CURRENT_NODE_STATES and node in online_nodes:
        current = node
    if state in _TARGET_NODE_STATES:
        goal = sd.get("target")
        if goal is not None and goal in online_nodes:
            target = goal
    return current, target


class BasicUsage:
    """Score = number of HA services counted on the node (lower is better)."""

    def __init__(self) -> None:
        self.nodes: dict[str, set[str]] = {}
        self._where: dict[str, list[str]] = {}

    def add_node(self, node: str) -> None:
        self.nodes[node] = set()

    def list_nodes(self) -> list[str]:
        return list(self.nodes)

    def add_service_usage(self, sid: str, sd: dict[str, Any]) -> None:
        current, target = used_service_nodes(self.nodes, sd)
        for node in (current, target):
            if node is not None:
                self.nodes[node].add(sid)
                self._where.setdefault(sid, []).append(node)

    def remove_service_usage(self, sid: str) -> None:
        for node in self._where.pop(sid, ()):
            self.nodes[node].discard(sid)

    def score_nodes_to_start_service(self, sid: str) -> dict[str, float]:
        return {node: len(sids) for node, sids in self.nodes.items()}
