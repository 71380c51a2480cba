"""The one virtual clock of a fake cluster: uptimes, UPID start times, task durations and ticket age.

Time starts at a fixed, realistic epoch so that runs are reproducible. In ``instant`` mode tasks finish as
soon as they start (the clock does not move); in ``manual`` mode time only moves when a test calls
:meth:`Clock.advance` or :meth:`Clock.settle`, and work scheduled for a moment runs when the clock passes it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

# 2026-09-14 09:27:53 UTC: a plausible "now" for a cluster running PVE 9.1.
DEFAULT_EPOCH = 1789378073

TASK_MODES = ("instant", "manual")
#: Ticks :meth:`Clock.settle` may add while a ticker is busy (60 HA rounds: 10 minutes).
SETTLE_TICKS = 60


@dataclass(order=True)
class _Scheduled:
    when: int
    seq: int
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


@dataclass
class _Ticker:
    """An action run at every multiple of ``period`` the clock passes (PVE's daemon rounds)."""

    period: int
    action: Callable[[int], None]
    busy: Callable[[], bool] | None
    next: int


class Clock:
    """Virtual time in whole epoch seconds, with actions scheduled at moments in it."""

    def __init__(self, start: int = DEFAULT_EPOCH, task_mode: str = "instant") -> None:
        if task_mode not in TASK_MODES:
            raise ValueError(f"task_mode must be one of {', '.join(TASK_MODES)}, not {task_mode!r}")
        self._now = int(start)
        #: The moment the cluster began (a scenario's ``start_time``): what its seeded figures are anchored to.
        self.start = int(start)
        self.task_mode = task_mode
        self._queue: list[_Scheduled] = []
        self._scheduled = 0  # entries scheduled so far: orders entries due at the same second
        self._tickers: list[_Ticker] = []

    @property
    def instant(self) -> bool:
        return self.task_mode == "instant"

    def now(self) -> int:
        return self._now

    def call_at(self, when: int, action: Callable[[], None]) -> _Scheduled:
        """Run ``action`` once the clock reaches ``when`` (at once if that moment has passed)."""
        self._scheduled += 1
        entry = _Scheduled(max(int(when), self._now), self._scheduled - 1, action)
        heapq.heappush(self._queue, entry)
        return entry

    def every(self, period: int, action: Callable[[int], None], busy: Callable[[], bool] | None = None) -> None:
        """Run ``action(moment)`` at every multiple of ``period`` seconds that the clock passes.

        Tickers are not pending work: :meth:`settle` runs them as time passes, and goes on from tick to tick
        (at most ``SETTLE_TICKS``) while one's ``busy()`` says it still has work to do.
        """
        self._tickers.append(_Ticker(int(period), action, busy, (self._now // period + 1) * period))

    def jump(self, moment: int) -> None:
        """Set the time to ``moment`` without running what falls due on the way: a cluster built at its scenario's
        ``start_time`` placed at the moment the scenario was dumped (``cluster: {now: ...}``)."""
        moment = int(moment)
        if moment < self._now:
            raise ValueError(f"the clock cannot go backwards (from {self._now} to {moment})")
        self._now = moment
        for ticker in self._tickers:
            ticker.next = (moment // ticker.period + 1) * ticker.period

    def pending(self) -> int:
        return sum(1 for entry in self._queue if not entry.cancelled)

    def advance(self, seconds: float) -> int:
        """Move time forward by ``seconds``, running every action that falls due on the way, in order."""
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        target = self._now + int(seconds)
        self._run_until(target)
        self._now = target
        return self._now

    def settle(self, limit: int = 10_000) -> int:
        """Move time forward until nothing is pending (actions may schedule more; ``limit`` stops runaways)."""
        busy_ticks = 0
        for _ in range(limit):
            entry = self._next_live()
            if entry is None:
                busy = [t for t in self._tickers if t.busy is not None and t.busy()]
                if not busy or busy_ticks >= SETTLE_TICKS:
                    return self._now
                busy_ticks += 1
                self._run_until(min(t.next for t in busy))
                continue
            self._run_until(entry.when)
        raise RuntimeError(f"clock did not settle after {limit} scheduled actions")

    def _next_live(self) -> _Scheduled | None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0] if self._queue else None

    def _run_until(self, target: int) -> None:
        while True:
            entry = self._next_live()
            tick = min((t.next for t in self._tickers), default=None)
            if entry is not None and entry.when <= target and (tick is None or entry.when <= tick):
                heapq.heappop(self._queue)
                self._now = max(self._now, entry.when)
                entry.action()
                continue
            if tick is None or tick > target:
                return
            self._now = max(self._now, tick)
            for ticker in self._tickers:
                if ticker.next <= tick:
                    ticker.next += ticker.period
                    ticker.action(tick)
