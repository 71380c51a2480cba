"""A node's ``/etc/subscription`` and what the Proxmox shop says about a key (pve-manager PVE/API2/Subscription.pm,
commit 14a22df3, and the proxmox-subscription crate it calls through ``Proxmox::RS::Subscription``).

There is no shop offline: the keys it would accept for a node are a fact of the node (``Node.shop_keys``, plus the
key the node was built with for its support ``level``). A key the shop does not know comes back ``invalid``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from pytest_pvemock.model import figures

#: Subscription.pm line 33: pve<sockets><level>-[arm-]<serial>
KEY_PATTERN = re.compile(r"pve([1248])([cbsp])-(arm-)?[0-9a-f]{10}")
LEVEL_NAMES = {"c": "Community", "b": "Basic", "s": "Standard", "p": "Premium"}
SOCKETS = 1  # /nodes/{node}/status reports one socket for every fake node
HOST_ARCH = "amd64"
YEAR = 365 * 86400
#: proxmox-subscription SUBSCRIPTION_MAX_LOCAL_KEY_AGE: a check younger than this is not repeated without ``force``
MAX_LOCAL_KEY_AGE = 15 * 86400
#: check_age: a last check further in the future than this (1.5 h) makes the cache invalid
FUTURE_TOLERANCE = 5400


@dataclass(frozen=True)
class SubscriptionRecord:
    """What ``/etc/subscription`` holds after a check (``status`` active or invalid)."""

    key: str
    status: str
    checktime: int
    level: str = ""
    productname: str = ""
    regdate: str = ""
    nextduedate: str = ""
    message: str = ""


class SubscriptionError(ValueError):
    """``check_key``'s refusal, with PVE's message."""


def date(epoch: int, with_time: bool = False) -> str:
    """The shop's date format: ``2026-03-01`` (due dates) or ``2026-03-01 12:00:00`` (registration)."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d")


def product_name(sockets: int, level: str) -> str:
    """The shop's product name of a key: ``Proxmox VE Community Subscription 1 CPU/year``."""
    cpus = "1 CPU" if sockets == 1 else f"{sockets} CPUs"
    return f"Proxmox VE {LEVEL_NAMES[level]} Subscription {cpus}/year"


def checked_key(key: str) -> tuple[int, str]:
    """Subscription.pm ``check_key`` (53-65): (sockets, level) of a well-formed key for this host, or PVE's error."""
    found = KEY_PATTERN.fullmatch(key)
    if found is None:
        raise SubscriptionError("Wrong subscription key format")
    sockets, level, arm = int(found.group(1)), found.group(2), found.group(3)
    if sockets < SOCKETS:
        raise SubscriptionError(f"wrong number of sockets ({sockets} < {SOCKETS})")
    arch = "arm64" if arm else "amd64"
    if arch != HOST_ARCH:
        raise SubscriptionError(f"subscription key is for the '{arch}' architecture, but this host is '{HOST_ARCH}'")
    return sockets, level


def built_record(seed: int | str, node_name: str, level: str, boot_time: int, now: int) -> SubscriptionRecord:
    """The checked key a node built with support ``level`` holds: bought some months before its last boot, checked
    daily by pve-daily-update since."""
    rng = figures.seeded(seed, "subscription", node_name)
    registered = boot_time - rng.randrange(30 * 86400, 300 * 86400)
    next_due = registered + YEAR * (1 + (now - registered) // YEAR)
    return SubscriptionRecord(
        key=f"pve{SOCKETS}{level}-{figures.hex_string(rng, 10)}",
        status="active",
        checktime=now - (now - registered) % 86400,
        level=level,
        productname=product_name(SOCKETS, level),
        regdate=date(registered, with_time=True),
        nextduedate=date(next_due),
    )


def shop_check(key: str, known: bool, previous: SubscriptionRecord | None, now: int) -> SubscriptionRecord:
    """The shop's answer as ``check_subscription`` stores it: a known key is active (registered at its first check,
    due a year on); an unknown one is ``invalid`` and carries no product or dates."""
    if not known:
        return SubscriptionRecord(key=key, status="invalid", checktime=now)
    sockets, level = checked_key(key)
    registered = now
    if previous is not None and previous.key == key and previous.regdate:
        registered = int(
            datetime.strptime(previous.regdate, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
        )
    next_due = registered + YEAR * (1 + max(now - registered, 0) // YEAR)
    return SubscriptionRecord(
        key=key,
        status="active",
        checktime=now,
        level=level,
        productname=product_name(sockets, level),
        regdate=date(registered, with_time=True),
        nextduedate=date(next_due),
    )


def check_is_recent(record: SubscriptionRecord, now: int) -> bool:
    """``cache_is_valid`` (Subscription.pm 88-95 with ``check_age``): an active key checked within 15 days."""
    age = now - record.checktime
    return record.status == "active" and -FUTURE_TOLERANCE <= age <= MAX_LOCAL_KEY_AGE
