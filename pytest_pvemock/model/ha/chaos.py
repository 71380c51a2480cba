"""Seeded HA chaos: random faults in the simulator's command vocabulary, reproducible from the seed.

Each call to :meth:`HAChaos.next_batch` returns the commands to apply now (possibly none): node power and
network loss and return, migrations and relocations, start and migration failures (``fail-start`` and
``fail-migrate``, a pvemock extension of the vocabulary). By default at most ``max_down`` nodes are down
at a time, so the cluster keeps its quorum.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class HAChaos:
    seed: int | str
    nodes: list[str]
    sids: list[str]
    rate: float = 0.3
    max_down: int = 1
    down: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"pvemock-ha-chaos:{self.seed}")

    def next_batch(self) -> list[str]:
        rng = self.rng
        if rng.random() >= self.rate:
            return []
        choices = ["move", "fail-start", "fail-migrate"]
        if self.down:
            choices.append("heal")
        if len(self.down) < self.max_down:
            choices += ["power", "network"]
        kind = rng.choice(choices)
        if kind in ("power", "network"):
            node = rng.choice([n for n in self.nodes if n not in self.down])
            self.down[node] = kind
            return [f"{kind} {node} off"]
        if kind == "heal":
            node = rng.choice(sorted(self.down))
            return [f"{self.down.pop(node)} {node} on"]
        sid = rng.choice(self.sids)
        if kind == "move":
            task = "migrate" if sid.startswith("vm:") else rng.choice(["migrate", "relocate"])
            return [f"service {sid} {task} {rng.choice(self.nodes)}"]
        return [f"service {sid} {kind} {rng.randint(1, 3)}"]
