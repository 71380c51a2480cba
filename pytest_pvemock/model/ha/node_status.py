"""Node states as the master CRM tracks them (``manager_status.node_status``), and fencing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .states import FENCE_DELAY, NODE_STATES

if TYPE_CHECKING:
    from collections.abc import Callable

    from .environment import DaemonEnv

GONE_NODE_EXPIRY = 3600


class NodeStatus:
    """online / maintenance / unknown / fence / gone per node, with when each node was last seen online."""

    def __init__(self, env: DaemonEnv, status: dict[str, str], notify: Callable[[str, str, str], None]) -> None:
        self.env = env
        self.status = status
        self.last_online: dict[str, int] = {}
        self.notify = notify

    def get_node_state(self, node: str) -> str:
        return self.status.get(node, "unknown")

    def node_is_online(self, node: str) -> bool:
        return self.get_node_state(node) == "online"

    def node_is_operational(self, node: str) -> bool:
        return self.get_node_state(node) in ("online", "maintenance")

    def node_is_offline_delayed(self, node: str, delay: int = FENCE_DELAY) -> bool:
        """True once ``node`` has not been online for ``delay`` seconds (the timer starts at the first ask)."""
        if self.get_node_state(node) == "online":
            return False
        now = self.env.get_time()
        last = self.last_online.get(node)
        if last is None:
            self.last_online[node] = now
            return False
        return now - last >= delay

    def list_nodes(self) -> list[str]:
        return sorted(self.status)

    def list_online_nodes(self) -> list[str]:
        return [node for node in sorted(self.status) if self.status[node] == "online"]

    def changed_nodelist(self, node_info: dict[str, bool]) -> bool:
        return set(node_info) != set(self.status)

    def _set(self, node: str, state: str) -> None:
        assert state in NODE_STATES, state
        last = self.get_node_state(node)
        if state == last:
            return
        self.status[node] = state
        self.env.log("info", f"node '{node}': state changed from '{last}' => '{state}'")

    def update(self, node_info: dict[str, bool], lrm_modes: dict[str, str]) -> None:
        now = self.env.get_time()
        for node in sorted(node_info):
            if not node_info[node]:
                continue
            lrm_mode = lrm_modes.get(node, "unknown")
            self.last_online[node] = now
            state = self.get_node_state(node)
            if state == "online":
                if lrm_mode == "maintenance":
                    self._set(node, "maintenance")
            elif state in ("unknown", "gone") or (state == "maintenance" and lrm_mode != "maintenance"):
                self._set(node, "online")
        for node in sorted(self.status):
            if node_info.get(node):
                continue
            state = self.get_node_state(node)
            if state == "online":
                self._set(node, "unknown")
            elif state == "maintenance":
                if lrm_modes.get(node, "unknown") != "maintenance":
                    self._set(node, "unknown")
            elif state == "unknown":
                if node not in node_info:
                    self._set(node, "gone")
            elif state == "gone" and self.node_is_offline_delayed(node, GONE_NODE_EXPIRY):
                self.last_online.pop(node, None)
                del self.status[node]
                self.env.log("notice", f"deleting gone node '{node}', not a cluster member anymore.")

    def fence_node(self, node: str) -> bool:
        """Mark ``node`` for fencing; True once its agent lock is ours (the node is surely dead)."""
        if self.get_node_state(node) != "fence":
            self._set(node, "fence")
            self.notify("FENCE", f"Try to fence node '{node}'", node)
        success = self.env.get_ha_agent_lock(node)
        if success:
            msg = f"fencing: acknowledged - got agent lock for node '{node}'"
            self.env.log("info", msg)
            self._set(node, "unknown")
            self.notify("SUCCEED", msg, node)
        return success
