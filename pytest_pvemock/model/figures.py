"""Seeded, realistic-looking figures: CPU fractions, byte counts, MAC addresses, UUIDs, fingerprints.

Every figure comes from a :class:`random.Random` seeded by the cluster's seed and the thing it describes, so the
same scenario gives the same numbers in every run, and they are not the round numbers that give mocks away
(QUIRKS §3): PVE prints CPU fractions with 15 significant digits and byte counters are rarely multiples of 4 KiB.
"""

from __future__ import annotations

import random
import uuid

PROXMOX_OUI = "BC:24:11"


def seeded(seed: int | str, *parts: object) -> random.Random:
    """A generator that depends only on ``seed`` and ``parts`` (never on the process or the run)."""
    return random.Random(":".join(str(part) for part in (seed, *parts)))


def cpu_fraction(rng: random.Random, low: float = 0.001, high: float = 0.05) -> float:
    """A CPU load as PVE prints it: a float with 15 significant digits."""
    return float(f"{rng.uniform(low, high):.15g}")


def bytes_between(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(int(low), int(high))


def mac_address(rng: random.Random) -> str:
    """A MAC in Proxmox's own OUI, as ``qm``/``pct`` generate them."""
    return PROXMOX_OUI + "".join(f":{rng.randrange(256):02X}" for _ in range(3))


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hex_string(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def ssl_fingerprint(rng: random.Random) -> str:
    """A SHA-256 certificate fingerprint as ``/nodes`` shows it (32 upper-case hex pairs)."""
    return ":".join(f"{rng.randrange(256):02X}" for _ in range(32))
