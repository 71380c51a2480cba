"""Injected errors: a method and path (concrete, or a schema template with ``{params}``) answered with an error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAM = re.compile(r"\\\{[^/]+?\\\}")


def _path_pattern(path: str) -> re.Pattern[str]:
    normalised = "/" + path.strip("/")
    return re.compile("^" + _PARAM.sub("[^/]+", re.escape(normalised)) + "/?$")


@dataclass
class FaultRule:
    """Answer ``method path`` with HTTP ``code`` and PVE's ``message``; ``times=None`` keeps it until cleared."""

    method: str
    path: str
    code: int = 500
    message: str = "injected error"
    times: int | None = 1
    #: How often the rule answered a request so far.
    used: int = field(default=0, init=False)
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._pattern = _path_pattern(self.path)

    @property
    def unused(self) -> bool:
        """Whether the rule still waits for requests it was meant to answer (``times=None``: never used yet)."""
        return self.used == 0 if self.times is None else self.times > 0

    def as_json(self) -> dict[str, object]:
        return {"method": self.method, "path": self.path, "code": self.code, "message": self.message,
                "times": self.times, "used": self.used}  # fmt: skip

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.times <= 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule answers ``method path`` (``path`` without ``/api2/json``)."""
        if self.exhausted or (self.method not in ("*", method.upper())):
            return False
        return self._pattern.match("/" + path.strip("/")) is not None

    def consume(self) -> None:
        """Count one use; a rule with ``times`` uses left stops matching when they are spent."""
        self.used += 1
        if self.times is not None:
            self.times -= 1
