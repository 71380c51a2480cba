"""Cluster-wide locks (pmxcfs ``lock`` directories) and node watchdogs, with PVE's timeouts."""

from __future__ import annotations

from dataclasses import dataclass, field

from .states import LOCK_TIMEOUT, WATCHDOG_TIMEOUT


@dataclass
class _Lock:
    node: str
    time: int


@dataclass
class ClusterLocks:
    """Named locks held by a node; a lock not renewed for more than ``timeout`` seconds can be taken over."""

    timeout: int = LOCK_TIMEOUT
    held: dict[str, _Lock] = field(default_factory=dict)

    def acquire(self, name: str, node: str, now: int) -> tuple[bool, bool]:
        """Take or renew ``name`` for ``node``: ``(success, newly_acquired)``."""
        lock = self.held.get(name)
        if lock is None:
            self.held[name] = _Lock(node, now)
            return True, True
        if now - lock.time <= self.timeout:
            if lock.node == node:
                lock.time = now
                return True, False
            return False, False
        self.held[name] = _Lock(node, now)
        return True, True

    def release(self, name: str, node: str, now: int) -> bool:
        lock = self.held.get(name)
        if lock is None:
            return False
        if now - lock.time > self.timeout:
            return True
        if lock.node == node:
            del self.held[name]
            return True
        return False

    def holder(self, name: str, now: int) -> str | None:
        lock = self.held.get(name)
        if lock is None or now - lock.time > self.timeout:
            return None
        return lock.node


class WatchdogExpired(Exception):
    """A daemon touched a watchdog that had already fired."""


@dataclass
class _Watchdog:
    node: str
    update_time: int


@dataclass
class Watchdogs:
    """Open watchdog handles per node; one not updated for more than ``timeout`` seconds resets its node."""

    timeout: int = WATCHDOG_TIMEOUT
    open_handles: dict[str, _Watchdog] = field(default_factory=dict)
    counter: int = 0

    def open(self, node: str, now: int) -> str:
        self.counter += 1
        handle = f"WD:{node}:{self.counter}"
        self.open_handles[handle] = _Watchdog(node, now)
        return handle

    def update(self, handle: str, now: int) -> None:
        watchdog = self._get(handle)
        if now - watchdog.update_time > self.timeout:
            raise WatchdogExpired("watchdog expired")
        watchdog.update_time = now

    def close(self, handle: str, now: int) -> None:
        watchdog = self._get(handle)
        if now - watchdog.update_time > self.timeout:
            raise WatchdogExpired("watchdog expired")
        del self.open_handles[handle]

    def reset_node(self, node: str) -> None:
        """The node lost power: its watchdogs are gone."""
        for handle in [h for h, wd in self.open_handles.items() if wd.node == node]:
            del self.open_handles[handle]

    def check(self, node: str, now: int) -> bool:
        """False (and the expired handles are dropped) if a watchdog of ``node`` fired."""
        alive = True
        for handle, watchdog in list(self.open_handles.items()):
            if watchdog.node == node and now - watchdog.update_time > self.timeout:
                alive = False
                del self.open_handles[handle]
        return alive

    def armed(self, node: str) -> bool:
        return any(wd.node == node for wd in self.open_handles.values())

    def _get(self, handle: str) -> _Watchdog:
        try:
            return self.open_handles[handle]
        except KeyError:
            raise WatchdogExpired(f"no such watchdog handle '{handle}'") from None
