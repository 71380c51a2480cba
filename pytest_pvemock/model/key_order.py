"""Key order of JSON objects: PVE's Perl hashes come out in a different order per object (QUIRKS §2.1).

A fake that always emits one order lets clients come to depend on it, so objects are reordered by a permutation
chosen from the cluster's seed and the object's identity: deterministic across runs, different between objects.
Permutations are cached per key set (and the last one per object), so reordering a thousand entries costs little
more than copying them.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

VARIANTS = 16
#: (seed, keys, variant) -> permutation, shared by every cluster: drawing one costs ~20 us, and each test's new
#: cluster asks for the same few again.
_PERMUTATIONS: dict[tuple[int | str, tuple[str, ...], int], tuple[str, ...]] = {}
_PERMUTATIONS_LIMIT = 50_000


class KeyOrder:
    """Reorders dict keys per object; ``enabled=False`` keeps the order the code built them in."""

    def __init__(self, seed: int | str = 0, enabled: bool = True) -> None:
        self.seed = seed
        self.enabled = enabled
        self._last_order: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def apply(self, obj: dict[str, Any], identity: str = "") -> dict[str, Any]:
        if not self.enabled or len(obj) < 2:
            return obj
        keys = tuple(obj)
        last = self._last_order.get(identity)
        if last is not None and last[0] == keys:
            order = last[1]
        else:
            order = self._order(keys, identity)
            self._last_order[identity] = (keys, order)
        return {key: obj[key] for key in order}

    def _order(self, keys: tuple[str, ...], identity: str) -> tuple[str, ...]:
        variant = zlib.crc32(identity.encode()) % VARIANTS
        found = (self.seed, keys, variant)
        order = _PERMUTATIONS.get(found)
        if order is None:
            shuffled = list(keys)
            random.Random(f"{self.seed}:{variant}:{len(keys)}").shuffle(shuffled)
            if len(_PERMUTATIONS) >= _PERMUTATIONS_LIMIT:
                _PERMUTATIONS.clear()
            order = _PERMUTATIONS[found] = tuple(shuffled)
        return order
