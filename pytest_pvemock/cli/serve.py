"""``pvemock serve``: a fake cluster behind a real HTTPS server, for clients in any language.

    pvemock serve --scenario default --port 8006

prints the URL, the CA file to verify the server with, and the login, then serves until Ctrl-C (exit 0).
It binds to loopback unless ``--host`` says otherwise, and warns when it does.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.transports.server import PveServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        default="default",
        metavar="FILE|NAME",
        help="a built-in scenario name or a scenario YAML file (default: default)",
    )
    parser.add_argument(
        "--pve-version",
        metavar="VERSION",
        help="PVE release the fake answers as: 8.2.5, a minor (8.2: its last release), a major (8: its newest) "
        "or latest (default: the scenario's)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8006, help="port to listen on; 0 picks a free one (default: 8006)")
    parser.add_argument("--user", default="root@pam", help="the login to accept (default: root@pam)")
    parser.add_argument("--password", help="its password (default: the cluster's root password, 'pvemock')")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="USER@REALM!ID=SECRET",
        help="also accept this API token of root@pam or --user (repeatable); like the login, it stays through "
        "control API resets and scenario loads",
    )
    parser.add_argument("--http", action="store_true", help="serve plain HTTP instead of HTTPS")
    parser.add_argument("--cert-dir", type=Path, help="write the CA (ca.pem), certificate and key here")
    parser.add_argument("--validate", action="store_true", help="check every answer against its returns schema")
    parser.add_argument(
        "--clock",
        choices=("instant", "manual", "realtime"),
        default="instant",
        help="cluster time: instant (tasks end at once, time stands still; the default), manual (moves only "
        "through the control API) or realtime (follows wall time, --speed times faster)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="how much faster than wall time a realtime clock runs (default: 1)"
    )
    parser.add_argument(
        "--churn",
        metavar="SEED",
        help="drive the cluster with a seeded, repeatable stream of events (migrations, node losses, start "
        "failures, maintenance, load spikes) on its clock; needs --clock realtime or manual",
    )
    parser.add_argument(
        "--churn-rate",
        type=float,
        default=12.0,
        metavar="N",
        help="churn events per hour of cluster time, on average (default: 12)",
    )
    parser.add_argument(
        "--churn-max-down", type=int, default=1, metavar="N", help="nodes the churn takes down at once (default: 1)"
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request on stderr")


def run(args: argparse.Namespace) -> int:
    from pytest_pvemock.transports.server import PveServer, is_loopback

    if args.speed != 1.0 and args.clock != "realtime":
        print("pvemock serve: --speed needs --clock realtime", file=sys.stderr)
        return 2
    if not 0 < args.speed <= 1000:
        print(f"pvemock serve: --speed must be above 0 and at most 1000, not {args.speed:g}", file=sys.stderr)
        return 2
    churn = None
    if args.churn is not None:
        from pytest_pvemock.model.churn import ChurnSettings

        if args.clock == "instant":
            print("pvemock serve: --churn needs --clock realtime or --clock manual (instant time stands still)",
                  file=sys.stderr)  # fmt: skip
            return 2
        seed: int | str = int(args.churn) if args.churn.lstrip("-").isdigit() else args.churn
        try:
            churn = ChurnSettings(seed, rate=args.churn_rate, max_down=args.churn_max_down)
        except ValueError as error:
            option = (
                "--churn-rate"
                if "rate" in str(error)
                else "--churn-max-down"
                if "max_down" in str(error)
                else "--churn"
            )
            print(f"pvemock serve: {option}: {error}", file=sys.stderr)
            return 2
    elif args.churn_rate != 12.0 or args.churn_max_down != 1:
        print("pvemock serve: --churn-rate and --churn-max-down need --churn SEED", file=sys.stderr)
        return 2
    try:
        cluster = _load_cluster(args.scenario, args.pve_version)
        user, password = _set_login(cluster, args.user, args.password)
        tokens = [_token_option(text, user) for text in args.token]
        login = partial(_give_login, user=user, password=password, tokens=tokens)
        login(cluster)
        authids = [f"{userid}!{tokenid}" for userid, tokenid, _secret in tokens]
    except Exception as error:  # a broken scenario or login: say which, no traceback
        print(f"pvemock serve: {error}", file=sys.stderr)
        return 2
    server = PveServer(
        cluster,
        host=args.host,
        port=args.port,
        tls=not args.http,
        validate=args.validate,
        cert_dir=args.cert_dir,
        access_log=None if args.quiet else _log_line,
        clock=args.clock,
        speed=args.speed,
        churn=churn,
        login=login,
    )
    if not args.http and not _has_trustme():
        print(
            "pvemock serve: HTTPS needs the trustme package to make its certificates: "
            "pip install 'pytest-pvemock[server]' (or serve plain HTTP with --http)",
            file=sys.stderr,
        )
        return 2
    try:
        server.start()
    except OSError as error:
        print(f"pvemock serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 1
    try:
        # the handlers go in before the announcement: a client may send Ctrl-C as soon as it reads it
        _wait_for_stop_signal(
            lambda: _announce(server, cluster, args.scenario, user, password, authids, is_loopback(args.host))
        )
    finally:
        server.stop()
    print("pvemock serve: stopped", flush=True)
    return 0


def _has_trustme() -> bool:
    try:
        import trustme  # noqa: F401  (the certificates are made with it when the server starts)
    except ImportError:
        return False
    return True


def _load_cluster(scenario: str, version: str | None = None) -> FakeCluster:
    from pytest_pvemock.model.cluster import FakeCluster

    return FakeCluster.from_scenario(scenario, **({"version": version} if version else {}))


def _set_login(cluster: FakeCluster, user: str, password: str | None) -> tuple[str, str]:
    """Make ``user`` log in with ``password``; a new user gets the Administrator role on ``/``."""
    if "@" not in user:
        raise ValueError(f"--user {user!r} needs a realm, e.g. {user}@pam or {user}@pve")
    existing = cluster.access.users.get(user)
    if password is None:
        password = existing.password if existing is not None and existing.password else cluster.password
    if existing is not None:
        existing.password = password
    else:
        from pytest_pvemock.api.permissions import access_control

        cluster.access.add_user(user, password=password, comment="pvemock serve --user")
        access_control(cluster).grant("/", "Administrator", user=user)
    return user, password


def _token_option(text: str, user: str) -> tuple[str, str, str]:
    """``--token USER@REALM!ID=SECRET`` as (userid, tokenid, secret): a token of root@pam or of ``--user``."""
    authid, equals, secret = text.partition("=")
    userid, bang, tokenid = authid.partition("!")
    if not (equals and bang and secret and tokenid and "@" in userid):
        raise ValueError(f"--token must look like root@pam!ci=SECRET, not {authid or '(empty)'}=...")
    if userid not in ("root@pam", user):
        raise ValueError(f"--token {authid}: a token of root@pam or of --user {user}, not of {userid}")
    return userid, tokenid, secret


def _give_login(cluster: FakeCluster, user: str, password: str, tokens: list[tuple[str, str, str]]) -> None:
    """The credentials the server was started with, given to ``cluster`` (again after each scenario load)."""
    _set_login(cluster, user, password)
    for userid, tokenid, secret in tokens:
        cluster.access.add_token(userid, tokenid, privsep=False, comment="pvemock serve --token", secret=secret)


def _announce(
    server: PveServer, cluster: Any, scenario: str, user: str, password: str, tokens: list[str], loopback: bool
) -> None:
    nodes = len(getattr(cluster, "nodes", ()) or ())
    guests = len(getattr(cluster, "guests", ()) or ())
    print(
        f"pvemock serve: fake Proxmox VE {cluster.version} cluster from scenario {scenario!r} "
        f"({_count(nodes, 'node')}, {_count(guests, 'guest')})"
    )
    print(f"  URL:      {server.url}/api2/json")
    if server.ca_file is not None:
        print(f"  CA file:  {server.ca_file}  (curl --cacert FILE, proxmoxer verify_ssl=FILE)")
    else:
        print("  CA file:  none (plain HTTP)")
    print(f"  Login:    {user} / {password}")
    for authid in tokens:
        print(f"  Token:    {authid} (with the secret given to --token)")
    print(f"  Control:  {server.control_url}  (clock, nodes, faults, requests, scenarios: openapi.json)")
    if server.churn is not None:
        settings = server.churn.settings
        print(f"  Churn:    seed {settings.seed}, {settings.rate:g} events/hour of cluster time (GET .../events)")
    if loopback:
        print(f"  Bound to loopback only ({server.host}): other machines cannot reach it.")
    else:
        print(
            f"  WARNING: bound to {server.host}, not loopback: other machines may reach this fake cluster "
            f"and log in with the password above.",
        )
    print("Press Ctrl-C to stop.", flush=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _wait_for_stop_signal(started: Callable[[], None]) -> None:
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        started()
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _log_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
