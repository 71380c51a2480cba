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


# TOPSIS criteria of PVE's static scheduler (proxmox-resource-scheduling ``pve_static``): weight, maximise.
_STATIC_CRITERIA = ((1.0, False), (2.0, False), (5.0, False), (10.0, False))


def _topsis_scores(matrix: list[list[float]], criteria: tuple[tuple[float, bool], ...]) -> list[float]:
    """Closeness of each alternative to the ideal one (higher is better)."""
    count = len(criteria)
    total_weight = sum(weight for weight, _ in criteria)
    weights = [weight / total_weight for weight, _ in criteria]
    normalised = [list(row) for row in matrix]
    for n in range(count):
        divisor = sum(row[n] * row[n] for row in normalised) ** 0.5
        if divisor != 0.0:
            for row in normalised:
                row[n] /= divisor
    best, worst = [], []
    for n, (_weight, maximise) in enumerate(criteria):
        column = [row[n] for row in normalised]
        low, high = min(column), max(column)
        best.append(high if maximise else low)
        worst.append(low if maximise else high)
    scores = []
    for row in normalised:
        to_best = sum(((row[n] - best[n]) * weights[n]) ** 2 for n in range(count)) ** 0.5
        to_worst = sum(((row[n] - worst[n]) * weights[n]) ** 2 for n in range(count)) ** 0.5
        divisor = to_best + to_worst
        scores.append(0.0 if divisor == 0.0 else to_worst / divisor)
    return scores


class StaticUsageError(Exception):
    """The static scheduler lacks node or service figures."""


class StaticUsage:
    """PVE's ``static`` CRS: scores nodes by configured CPU and memory of the services they would hold."""

    def __init__(self, node_stats: dict[str, dict[str, Any]], service_stats: dict[str, dict[str, Any]]) -> None:
        self.node_stats = node_stats
        self.service_stats = service_stats
        self.nodes: dict[str, dict[str, float]] = {}
        self.services: dict[str, list[tuple[str, dict[str, float]]]] = {}
        self.node_services: dict[str, set[str]] = {}

    def add_node(self, node: str) -> None:
        stats = self.node_stats.get(node)
        if stats is None:
            raise StaticUsageError(f"did not get static node usage information for '{node}'")
        if stats.get("maxcpu") is None:
            raise StaticUsageError(f"static node usage information for '{node}' missing cpu count")
        if stats.get("maxmem") is None:
            raise StaticUsageError(f"static node usage information for '{node}' missing memory")
        self.nodes[node] = {"cpu": 0.0, "maxcpu": int(stats["maxcpu"]), "mem": 0, "maxmem": int(stats["maxmem"])}
        self.node_services[node] = set()

    def list_nodes(self) -> list[str]:
        return list(self.nodes)

    def _service_usage(self, sid: str) -> dict[str, float]:
        usage = self.service_stats.get(sid)
        if not usage or usage.get("maxcpu") is None or usage.get("maxmem") is None:
            raise StaticUsageError(f"did not get static service usage information for '{sid}'")
        return {"maxcpu": float(usage["maxcpu"]), "maxmem": int(usage["maxmem"])}

    def add_service_usage(self, sid: str, sd: dict[str, Any]) -> None:
        current, target = used_service_nodes(self.nodes, sd)
        placed = [node for node in (current, target) if node is not None]
        if not placed:
            return
        for node in placed:
            self.node_services[node].add(sid)
        try:
            usage = self._service_usage(sid)
        except StaticUsageError:
            return
        for node in placed:
            stats = self.nodes[node]
            stats["cpu"] = _add_cpu(stats["cpu"], stats["maxcpu"], usage["maxcpu"])
            stats["mem"] += usage["maxmem"]
        self.services[sid] = [(node, usage) for node in placed]

    def remove_service_usage(self, sid: str) -> None:
        for sids in self.node_services.values():
            sids.discard(sid)
        for node, usage in self.services.pop(sid, ()):
            stats = self.nodes[node]
            stats["cpu"] = stats["cpu"] - (usage["maxcpu"] or stats["maxcpu"])
            stats["mem"] -= usage["maxmem"]

    def score_nodes_to_start_service(self, sid: str) -> dict[str, float]:
        """Negated TOPSIS scores, so that lower is better as for the basic scheduler."""
        try:
            usage = self._service_usage(sid)
        except StaticUsageError:
            return {node: len(sids) for node, sids in self.node_services.items()}
        names = sorted(self.nodes)
        matrix = []
        for target in names:
            highest_cpu = squares_cpu = highest_mem = squares_mem = 0.0
            for name in names:
                node = self.nodes[name]
                cpu = node["cpu"]
                mem = node["mem"]
                if name == target:
                    cpu = _add_cpu(cpu, node["maxcpu"], usage["maxcpu"])
                    mem = mem + usage["maxmem"]
                cpu_share = cpu / node["maxcpu"]
                mem_share = mem / node["maxmem"]
                highest_cpu = max(highest_cpu, cpu_share)
                squares_cpu += cpu_share**2
                highest_mem = max(highest_mem, mem_share)
                squares_mem += mem_share**2
            count = len(names)
            matrix.append(
                [
                    1.0 + (squares_cpu / count) ** 0.5,
                    1.0 + highest_cpu,
                    1.0 + (squares_mem / count) ** 0.5,
                    1.0 + highest_mem,
                ]
            )
        scores = _topsis_scores(matrix, _STATIC_CRITERIA)
        return {name: -score for name, score in zip(names, scores, strict=True)}


def _add_cpu(old: float, maximum: float, add: float) -> float:
    """A service without a CPU limit (0) counts as using the whole node."""
    return old + (maximum if add == 0.0 else add)
