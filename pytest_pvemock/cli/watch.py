"""``pvemock watch``: a living cluster at a glance, from a running ``pvemock serve`` (its clock, nodes, guests, churn).

    pvemock serve --clock realtime --speed 10 --churn 7 --scenario ha-three-node --cert-dir tls &
    pvemock watch --url https://127.0.0.1:8006 --cacert tls/ca.pem --password pvemock

Redraws every ``--interval`` seconds (``--once``: one frame, then exit) from what any client sees: the PVE API's
``/cluster/resources`` and the control API's clock and churn events. Same connection options as ``pvemock ctl``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from pytest_pvemock.cli.ctl import ControlSession, CtlError, add_connection_arguments

EVENTS_SHOWN = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between two frames (default: 2)")
    parser.add_argument("--once", action="store_true", help="print one frame and exit")


def run(args: argparse.Namespace) -> int:
    if not 0.1 <= args.interval <= 3600:
        print(f"pvemock watch: --interval must be between 0.1 and 3600 seconds, not {args.interval:g}", file=sys.stderr)
        return 2
    try:
        session = ControlSession(args)
        while True:
            frame = render(session)
            if args.once:
                sys.stdout.write(frame)
                return 0
            sys.stdout.write("\x1b[H\x1b[2J" + frame)
            sys.stdout.flush()
            time.sleep(args.interval)
    except CtlError as error:
        print(f"pvemock watch: {error}", file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        return 0


def render(session: ControlSession) -> str:
    """One frame: the clock, every node and guest as /cluster/resources shows them, the churn's last events."""
    clock = session.get("/pvemock-api/clock")
    rows = session.get("/api2/json/cluster/resources")["data"]
    events = session.get("/pvemock-api/events")
    speed = f" x{clock['speed']:g}" if clock.get("speed") else ""
    lines = [f"pvemock watch  {session.base}  cluster time {clock['iso']} ({clock['mode']}{speed})", ""]
    lines.append(f"{'NODE':<12} {'STATUS':<8} {'HA':<12} {'CPU':>5} {'MEM':>5} {'UPTIME':>9}")
    for row in sorted((row for row in rows if row.get("type") == "node"), key=lambda row: str(row.get("node"))):
        lines.append(
            f"{row.get('node', ''):<12} {row.get('status', ''):<8} {row.get('hastate') or '-':<12} "
            f"{_percent(row.get('cpu'), 1):>5} {_percent(row.get('mem'), row.get('maxmem')):>5} "
            f"{_duration(row.get('uptime')):>9}"
        )
    lines += ["", f"{'GUEST':<6} {'NAME':<20} {'NODE':<10} {'STATUS':<9} {'HA':<18} {'CPU':>5}"]
    guests = (row for row in rows if row.get("type") in ("qemu", "lxc") and not row.get("template"))
    for row in sorted(guests, key=lambda row: int(row.get("vmid", 0))):
        lines.append(
            f"{row.get('vmid', ''):<6} {str(row.get('name', ''))[:20]:<20} {row.get('node', ''):<10} "
            f"{row.get('status', ''):<9} {row.get('hastate') or '-':<18} {_percent(row.get('cpu'), 1):>5}"
        )
    if events.get("churn"):
        churn = events["churn"]
        lines += ["", f"churn: seed {churn['seed']}, {churn['rate']:g} events/hour; last events:"]
        for event in events["events"][-EVENTS_SHOWN:]:
            stamp = time.strftime("%H:%M:%S", time.gmtime(event["time"]))
            lines.append(f"  {stamp}  {event['kind']:<15} {event['message']}")
    return "\n".join(lines) + "\n"


def _percent(value: Any, whole: Any) -> str:
    try:
        return f"{100 * float(value) / float(whole):.0f}%"
    except (TypeError, ValueError, ZeroDivisionError):
        return "-"


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int) or seconds <= 0:
        return "-"
    days, rest = divmod(seconds, 86400)
    return f"{days}d {rest // 3600:02d}h" if days else f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
