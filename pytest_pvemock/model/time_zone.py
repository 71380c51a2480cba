"""The cluster's time zone: PVE writes some texts (the HA status lines) in the server's local time.

The default is UTC, so runs do not depend on the machine's zone. Other zones come from the standard library's
``zoneinfo``; a system without a time zone database needs the ``tzdata`` package for them.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

UTC_NAMES = ("UTC", "Etc/UTC")


def zone_info(name: str) -> dt.tzinfo:
    """The ``tzinfo`` of an IANA zone name such as ``Europe/Vienna``, or ``ValueError`` saying why not."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"timezone must be an IANA zone name such as 'Europe/Vienna', not {name!r}")
    return _zone_info(name)


@functools.cache
def _zone_info(name: str) -> dt.tzinfo:
    if name in UTC_NAMES:
        return dt.timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except zoneinfo.ZoneInfoNotFoundError:
        if not zoneinfo.available_timezones():
            raise ValueError(
                f"timezone {name!r} needs a time zone database, and this system has none: pip install tzdata"
            ) from None
        raise ValueError(f"unknown timezone {name!r} (expected an IANA zone name such as 'Europe/Vienna')") from None
    except (ValueError, OSError):
        raise ValueError(f"unknown timezone {name!r} (expected an IANA zone name such as 'Europe/Vienna')") from None


def local_epoch(timestamp: int, tz: dt.tzinfo) -> int:
    """The local wall-clock time of ``timestamp`` counted as if it were UTC (``timegm(localtime(t))`` in Perl)."""
    offset = dt.datetime.fromtimestamp(timestamp, tz).utcoffset() or dt.timedelta(0)
    return timestamp + int(offset.total_seconds())
