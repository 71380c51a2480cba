"""Seeded HA chaos: random faults in the simulator's command vocabulary, reproducible from the seed.

Each call to :meth:`HAChaos.next_batch` returns the commands to apply now (possibly none): node power and
network loss and return, migrations and relocations, start and migration failures (``fail-start`` and
``fail-migrate``, a pvemock extension of the vocabulary). By default at most ``max_down`` nodes are down
at a time, so the cluster keeps its quorum.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CHAOS_KEYS = ("seed", "rate", "max_down")


class ChaosSettingsError(ValueError):
    """Bad chaos settings; ``key`` names the setting at fault (``None``: the whole value)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def chaos_settings(value: Any) -> dict[str, Any]:
    """The keyword arguments of ``enable_chaos`` from a seed or a mapping ``{seed, rate, max_down}``."""
    if not isinstance(value, Mapping):
        value = {"seed": value}
    unknown = sorted(str(key) for key in value if key not in CHAOS_KEYS)
    if unknown:
        known = ", ".join(CHAOS_KEYS)
        raise ChaosSettingsError(f"unknown chaos setting(s) {', '.join(unknown)}; known: {known}", unknown[0])
    if "seed" not in value:
        raise ChaosSettingsError("chaos needs a 'seed' (an integer or a string)")
    seed = value["seed"]
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise ChaosSettingsError(f"chaos 'seed' must be an integer or a string, not {seed!r}", "seed")
    rate = value.get("rate", 0.3)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ChaosSettingsError(f"chaos 'rate' must be a number from 0 to 1, not {rate!r}", "rate")
    max_down = value.get("max_down", 1)
    if isinstance(max_down, bool) or not isinstance(max_down, int) or max_down < 0:
        raise ChaosSettingsError(f"chaos 'max_down' must be an integer of 0 or more, not {max_down!r}", "max_down")
    return {"seed": seed, "rate": float(rate), "max_down": max_down}


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
        choices = ["move", "fail-start", "fail-migrate"] if self.sids else []
        if self.down:
            choices.append("heal")
        if len(self.down) < min(self.max_down, len(self.nodes)):
            choices += ["power", "network"]
        if not choices:
            return []
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
