"""PVE's calendar events (``pve-calendar-event``: job schedules) and the next time one falls due.

A port of what proxmox-time's ``CalendarEvent`` parses and ``compute_next_event`` answers (PVE calls it through
``Proxmox::RS::CalendarEvent``; the format is documented in pve-docs ``calendar-events.adoc``): an optional weekday
list (``mon..fri``, ``sat,sun``), an optional date (``[year-]month-day``), an optional time (``hour:minute[:second]``,
or the minute alone), each value ``*``, ``N``, ``N..M`` and ``/R`` repetitions, comma lists; the keywords
``minutely`` ... ``semiannually``. A date or weekdays without a time mean 00:00; a time alone means every day.
Times are the node's local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from pytest_pvemock.errors import PVEError

_KEYWORDS = {
    "minutely": "*-*-* *:*:00",
    "hourly": "*-*-* *:00:00",
    "daily": "*-*-* 00:00:00",
    "weekly": "mon *-*-* 00:00:00",
    "monthly": "*-*-01 00:00:00",
    "yearly": "*-01-01 00:00:00",
    "annually": "*-01-01 00:00:00",
    "quarterly": "*-01,04,07,10-01 00:00:00",
    "semiannually": "*-01,07-01 00:00:00",
}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH_DAYS = 366 * 8  # beyond this an event never falls due again (a date in the past)


def _values(text: str, low: int, high: int) -> frozenset[int] | None:
    """A comma list of ``*``, ``N``, ``N..M``, each with an optional ``/R``; ``None`` for any value."""
    result: set[int] = set()
    for part in text.split(","):
        base, _, repeat = part.partition("/")
        step = int(repeat) if repeat else 0
        if repeat and (not repeat.isdigit() or step == 0):
            raise ValueError(part)
        if base == "*":
            if not step:
                return None
            start, end = low, high
        elif ".." in base:
            first, last = base.split("..", 1)
            start, end = int(first), int(last)
        else:
            start = int(base)
            end = high if step else start
        if not (low <= start <= high and low <= end <= high):
            raise ValueError(part)
        result.update(range(start, end + 1, step or 1))
    return frozenset(result)


def _weekdays(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("..")
        start = _WEEKDAYS.index(first[:3])
        end = _WEEKDAYS.index(last[:3]) if last else start
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
    return frozenset(days)


@dataclass(frozen=True)
class CalendarEvent:
    """A parsed event: allowed values per field (``None``: any)."""

    weekdays: frozenset[int] | None
    years: frozenset[int] | None
    months: frozenset[int] | None
    days: frozenset[int] | None
    hours: frozenset[int] | None
    minutes: frozenset[int] | None
    seconds: frozenset[int] | None

    @classmethod
    def parse(cls, text: str) -> CalendarEvent:
        """Parse ``text`` (PVE's own message for what it cannot read)."""
        spec = _KEYWORDS.get(text.strip().lower(), text.strip().lower())
        try:
            return cls._parse(spec)
        except (ValueError, IndexError):
            raise PVEError(f"unable to parse calendar event '{text}'\n") from None

    @classmethod
    def _parse(cls, spec: str) -> CalendarEvent:
        tokens = spec.split()
        weekdays = None
        if tokens and re.fullmatch(r"[a-z.,]+", tokens[0]):
            weekdays = _weekdays(tokens.pop(0))
        years = months = days = None
        hours = minutes = seconds = None
        timed = False
        for token in tokens:
            if "-" in token:
                parts = token.split("-")
                if len(parts) == 3:
                    years = _values(parts.pop(0), 1970, 9999)
                months, days = _values(parts[0], 1, 12), _values(parts[1], 1, 31)
            elif ":" in token:
                parts = token.split(":")
                hours, minutes = _values(parts[0], 0, 23), _values(parts[1], 0, 59)
                seconds = _values(parts[2], 0, 59) if len(parts) > 2 else frozenset({0})
                timed = True
            else:  # the minute alone: every hour
                minutes, seconds, timed = _values(token, 0, 59), frozenset({0}), True
        if not timed:
            hours, minutes, seconds = frozenset({0}), frozenset({0}), frozenset({0})
        if not tokens and weekdays is None:
            raise ValueError(spec)
        return cls(weekdays, years, months, days, hours, minutes, seconds)

    def next_after(self, last: int, zone: tzinfo) -> int | None:
        """The first time after ``last`` (epoch seconds) the event falls due in ``zone``, or ``None``."""
        start = datetime.fromtimestamp(last, tz=zone)
        day = start.date()
        for _ in range(_SEARCH_DAYS):
            if self._on(day):
                found = self._first_time_on(day, last, zone)
                if found is not None:
                    return found
            day += timedelta(days=1)
        return None

    def _on(self, day: date) -> bool:
        return (
            (self.years is None or day.year in self.years)
            and (self.months is None or day.month in self.months)
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or day.weekday() in self.weekdays)
        )

    def _first_time_on(self, day: date, last: int, zone: tzinfo) -> int | None:
        for hour in sorted(self.hours) if self.hours is not None else range(24):
            for minute in sorted(self.minutes) if self.minutes is not None else range(60):
                for second in sorted(self.seconds) if self.seconds is not None else range(60):
                    moment = int(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone).timestamp())
                    if moment > last:
                        return moment
        return None
