"""Seeded, realistic-looking figures: CPU fractions, byte counts, MAC addresses, UUIDs, fingerprints.

Every figure comes from a :class:`random.Random` seeded by the cluster's seed and the thing it describes, so the
same scenario gives the same numbers in every run, and they are not the round numbers that give mocks away
(QUIRKS §3): PVE prints CPU fractions with 15 significant digits and byte counters are rarely multiples of 4 KiB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

PROXMOX_OUI = "BC:24:11"


_MASK = (1 << 64) - 1


class Draw:
    """A small, fast deterministic generator (splitmix64) with the few methods of :class:`random.Random` we use.

    Building a :class:`random.Random` from a string costs a SHA-512 and a 624-word state; a fake cluster draws
    from dozens of fresh generators while it is built, so this keeps fixture setup cheap.
    """

    __slots__ = ("_state",)

    def __init__(self, text: str) -> None:
        self._state = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")

    def _next(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self._next() >> 11) / 9007199254740992.0

    def getrandbits(self, bits: int) -> int:
        value, have = 0, 0
        while have < bits:
            value = (value << 64) | self._next()
            have += 64
        return value >> (have - bits)

    def randrange(self, start: int, stop: int | None = None) -> int:
        if stop is None:
            start, stop = 0, start
        return start + self._next() % (stop - start)

    def randint(self, low: int, high: int) -> int:
        return self.randrange(low, high + 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def choice(self, items: Sequence[Any]) -> Any:
        return items[self.randrange(len(items))]


def seeded(seed: int | str, *parts: object) -> Draw:
    """A generator that depends only on ``seed`` and ``parts`` (never on the process or the run)."""
    return Draw(":".join(str(part) for part in (seed, *parts)))


def cpu_fraction(rng: Draw, low: float = 0.001, high: float = 0.05) -> float:
    """A CPU load as PVE prints it: a float with 15 significant digits."""
    return float(f"{rng.uniform(low, high):.15g}")


def bytes_between(rng: Draw, low: int, high: int) -> int:
    return rng.randint(int(low), int(high))


def mac_address(rng: Draw) -> str:
    """A MAC in Proxmox's own OUI, as ``qm``/``pct`` generate them."""
    low = rng.getrandbits(24)
    return f"{PROXMOX_OUI}:{low >> 16:02X}:{(low >> 8) & 0xFF:02X}:{low & 0xFF:02X}"


_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)


def uuid4(rng: Draw) -> str:
    """``str(uuid.UUID(int=..., version=4))`` of 128 drawn bits, without building the UUID object."""
    digits = f"{(rng.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def perl_number(value: float) -> float | int:
    """A figure as PVE's JSON prints it: integral values as integers, others with 15 significant digits."""
    return int(value) if float(value).is_integer() else float(f"{value:.15g}")


def hex_string(rng: Draw, length: int) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def ssl_fingerprint(rng: Draw) -> str:
    """A SHA-256 certificate fingerprint as ``/nodes`` shows it (32 upper-case hex pairs)."""
    return rng.getrandbits(256).to_bytes(32, "big").hex(":").upper()
