"""Resource pools: a name, a comment, and member guests and storages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Pool:
    poolid: str
    comment: str = ""
    vmids: list[int] = field(default_factory=list)
    storages: list[str] = field(default_factory=list)
