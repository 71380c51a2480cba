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
    """The load scheduler lacks node or service figures."""


class StaticUsage:
    """PVE's ``static`` and ``dynamic`` CRS: nodes are scored by the CPU and memory they would carry.

    ``static`` counts each service's configured CPUs and memory (``maxcpu``/``maxmem``; 0 CPUs = the whole
    node); ``dynamic`` counts what it really uses (``cpu``/``mem``). A node's load is the mean of its CPU and
    memory shares; the cluster's imbalance is the coefficient of variation of the node loads.
    """

    def __init__(
        self,
        node_stats: dict[str, dict[str, Any]],
        service_stats: dict[str, dict[str, Any]],
        mode: str = "static",
    ) -> None:
        self.mode = mode
        self.node_stats = node_stats
        self.service_stats = service_stats
        self.nodes: dict[str, dict[str, float]] = {}
        self.services: dict[str, list[tuple[str, tuple[float, float]]]] = {}
        self.node_services: dict[str, set[str]] = {}

    def add_node(self, node: str) -> None:
        stats = self.node_stats.get(node)
        if stats is None:
            raise StaticUsageError(f"did not get {self.mode} node usage information for '{node}'")
        if stats.get("maxcpu") is None:
            raise StaticUsageError(f"{self.mode} node usage information for '{node}' missing cpu count")
        if stats.get("maxmem") is None:
            raise StaticUsageError(f"{self.mode} node usage information for '{node}' missing memory")
        self.nodes[node] = {"cpu": 0.0, "maxcpu": int(stats["maxcpu"]), "mem": 0, "maxmem": int(stats["maxmem"])}
        self.node_services[node] = set()

    def list_nodes(self) -> list[str]:
        return list(self.nodes)

    def _service_usage(self, sid: str) -> tuple[float, float]:
        usage = self.service_stats.get(sid) or {}
        cpu_key, mem_key = ("maxcpu", "maxmem") if self.mode == "static" else ("cpu", "mem")
        if usage.get(cpu_key) is None or usage.get(mem_key) is None:
            raise StaticUsageError(f"did not get {self.mode} service usage information for '{sid}'")
        return float(usage[cpu_key]), int(usage[mem_key])

    def _cpu_of(self, node: dict[str, float], cpu: float) -> float:
        return node["maxcpu"] if cpu == 0.0 and self.mode == "static" else cpu

    def add_service_usage(self, sid: str, sd: dict[str, Any]) -> None:
        current, target = used_service_nodes(self.nodes, sd)
        placed = [node for node in (current, target) if node is not None]
        if not placed:
            return
        for node in placed:
            self.node_services[node].add(sid)
        try:
            cpu, mem = self._service_usage(sid)
        except StaticUsageError:
            return
        for name in placed:
            figures = self.nodes[name]
            figures["cpu"] += self._cpu_of(figures, cpu)
            figures["mem"] += mem
        self.services[sid] = [(name, (cpu, mem)) for name in placed]

    def remove_service_usage(self, sid: str) -> None:
        for sids in self.node_services.values():
            sids.discard(sid)
        for name, (cpu, mem) in self.services.pop(sid, ()):
            node = self.nodes[name]
            node["cpu"] -= self._cpu_of(node, cpu)
            node["mem"] -= mem

    def score_nodes_to_start_service(self, sid: str) -> dict[str, float]:
        """Negated TOPSIS scores, so that lower is better as for the basic scheduler."""
        try:
            cpu, mem = self._service_usage(sid)
        except StaticUsageError:
            return {node: len(sids) for node, sids in self.node_services.items()}
        names = sorted(self.nodes)
        matrix = []
        for target in names:
            highest_cpu = squares_cpu = highest_mem = squares_mem = 0.0
            for name in names:
                node = self.nodes[name]
                node_cpu, node_mem = node["cpu"], node["mem"]
                if name == target:
                    node_cpu += self._cpu_of(node, cpu)
                    node_mem += mem
                cpu_share = node_cpu / node["maxcpu"]
                mem_share = node_mem / node["maxmem"]
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

    def _loads(self, moves: dict[str, tuple[float, float]] | None = None) -> list[float]:
        loads = []
        for name in sorted(self.nodes):
            node = self.nodes[name]
            cpu, mem = node["cpu"], node["mem"]
            if moves and name in moves:
                cpu, mem = cpu + moves[name][0], mem + moves[name][1]
            loads.append((cpu / node["maxcpu"] + mem / node["maxmem"]) / 2)
        return loads

    def calculate_node_imbalance(self, moves: dict[str, tuple[float, float]] | None = None) -> float:
        loads = self._loads(moves)
        mean = sum(loads) / len(loads) if loads else 0.0
        if mean <= 0.0:
            return 0.0
        return float((sum((load - mean) ** 2 for load in loads) / len(loads)) ** 0.5) / mean

    def _migration_moves(self, resources: list[str], target: str) -> dict[str, tuple[float, float]]:
        """The change in (cpu, mem) per node if ``resources`` moved to ``target``."""
        moves: dict[str, tuple[float, float]] = {}
        for sid in resources:
            for name, (cpu, mem) in self.services.get(sid, ()):
                out = moves.get(name, (0.0, 0))
                moves[name] = (out[0] - self._cpu_of(self.nodes[name], cpu), out[1] - mem)
                into = moves.get(target, (0.0, 0))
                moves[target] = (into[0] + self._cpu_of(self.nodes[target], cpu), into[1] + mem)
        return moves

    def best_balancing_migration_topsis(self, candidates: list[dict[str, Any]]) -> tuple[str, str, str, float] | None:
        """Like :meth:`best_balancing_migration`, choosing by TOPSIS over the resulting node usage."""
        options: list[tuple[str, str, str, float]] = []
        matrix: list[list[float]] = []
        names = sorted(self.nodes)
        for candidate in candidates:
            leader = candidate["leader"]
            placements = self.services.get(leader)
            if not placements:
                continue
            for target in candidate["nodes"]:
                moves = self._migration_moves(candidate["resources"], target)
                cpu_shares, mem_shares = [], []
                for name in names:
                    node = self.nodes[name]
                    delta = moves.get(name, (0.0, 0))
                    cpu_shares.append((node["cpu"] + delta[0]) / node["maxcpu"])
                    mem_shares.append((node["mem"] + delta[1]) / node["maxmem"])
                count = len(names)
                matrix.append(
                    [
                        1.0 + (sum(c * c for c in cpu_shares) / count) ** 0.5,
                        1.0 + max(cpu_shares),
                        1.0 + (sum(m * m for m in mem_shares) / count) ** 0.5,
                        1.0 + max(mem_shares),
                    ]
                )
                options.append((leader, placements[0][0], target, self.calculate_node_imbalance(moves)))
        if not options:
            return None
        scores = _topsis_scores(matrix, _STATIC_CRITERIA)
        best = max(range(len(options)), key=lambda i: (scores[i], -i))
        return options[best]

    def best_balancing_migration(self, candidates: list[dict[str, Any]]) -> tuple[str, str, str, float] | None:
        """``(sid, source, target, imbalance_after)`` of the move that balances best (first one on ties)."""
        best: tuple[str, str, str, float] | None = None
        for candidate in candidates:
            leader = candidate["leader"]
            placements = self.services.get(leader)
            if not placements:
                continue
            source = placements[0][0]
            for target in candidate["nodes"]:
                moves: dict[str, tuple[float, float]] = {}
                for sid in candidate["resources"]:
                    for name, (cpu, mem) in self.services.get(sid, ()):
                        node_cpu = self._cpu_of(self.nodes[name], cpu)
                        out = moves.setdefault(name, (0.0, 0))
                        moves[name] = (out[0] - node_cpu, out[1] - mem)
                        into = moves.setdefault(target, (0.0, 0))
                        moves[target] = (into[0] + self._cpu_of(self.nodes[target], cpu), into[1] + mem)
                imbalance = self.calculate_node_imbalance(moves)
                # ties (up to float noise from the summation order) keep the first candidate
                if best is None or imbalance < best[3] - 1e-9:
                    best = (leader, source, target, imbalance)
        return best


def _add_cpu(old: float, maximum: float, add: float) -> float:
    """A service without a CPU limit (0) counts as using the whole node."""
    return old + (maximum if add == 0.0 else add)
