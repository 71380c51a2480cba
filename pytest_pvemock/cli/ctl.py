"""``pvemock ctl``: the control API of a running ``pvemock serve`` from a shell script or any CI.

    pvemock ctl --url https://127.0.0.1:8006 --cacert ca.pem --token 'root@pam!ci=SECRET' clock advance 60
    pvemock ctl node power-off pve2            # --url, --token ... from PVEMOCK_URL, PVEMOCK_TOKEN, PVEMOCK_CA
    pvemock ctl requests --path /nodes --method GET
    pvemock ctl scenario dump > cluster.yaml

Prints the answer as JSON (a dump as YAML) on stdout. Exit status: 0 done, 1 the server refused (its message on
stderr), 2 a bad option or no server to talk to (the message names the option).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

CONTROL_PREFIX = "/pvemock-api"
NODE_ACTIONS = ("power-off", "power-on", "cut-network", "restore-network", "reboot")


class CtlError(Exception):
    """What went wrong, for stderr; ``status`` is the exit status (1: the server said no, 2: our side)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """--url, --token, --user, --password, --cacert, --insecure, --timeout (also for ``pvemock watch``)."""
    parser.add_argument(
        "--url",
        default=os.environ.get("PVEMOCK_URL"),
        help="the server, as pvemock serve printed it (https://127.0.0.1:8006; default: $PVEMOCK_URL)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("PVEMOCK_TOKEN"),
        help="a root@pam API token, USER@REALM!TOKENID=SECRET (default: $PVEMOCK_TOKEN)",
    )
    parser.add_argument("--user", default="root@pam", help="log in with a password instead (default: root@pam)")
    parser.add_argument(
        "--password", default=os.environ.get("PVEMOCK_PASSWORD"), help="root@pam's password ($PVEMOCK_PASSWORD)"
    )
    parser.add_argument(
        "--cacert", default=os.environ.get("PVEMOCK_CA"), help="the CA file pvemock serve printed ($PVEMOCK_CA)"
    )
    parser.add_argument("--insecure", action="store_true", help="do not verify the server's certificate")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an answer (default: 30)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    sub = parser.add_subparsers(dest="ctl_command", metavar="COMMAND")

    clock = sub.add_parser("clock", help="show the clock, or advance or settle it")
    clock_sub = clock.add_subparsers(dest="action", metavar="ACTION")
    clock_sub.add_parser("show", help="the clock (the default)")
    advance = clock_sub.add_parser("advance", help="move the clock on by SECONDS")
    advance.add_argument("seconds", type=float)
    clock_sub.add_parser("settle", help="run every pending task and HA round")

    sub.add_parser("reset", help="back to the cluster the server started with (or the last scenario loaded)")

    node = sub.add_parser("node", help="node events: " + ", ".join(NODE_ACTIONS) + ", maintenance")
    node.add_argument("action", choices=(*NODE_ACTIONS, "maintenance"))
    node.add_argument("node")
    node.add_argument("state", nargs="?", choices=("on", "off"), help="maintenance only: on or off")

    guest = sub.add_parser("guest", help="HA faults of a guest: fail-starts, fail-migrations, error")
    guest.add_argument("action", choices=("fail-starts", "fail-migrations", "error"))
    guest.add_argument("vmid")
    guest.add_argument("count", nargs="?", type=int, help="how many (fail-starts, fail-migrations; default 1)")

    errors = sub.add_parser("errors", help="injected PVE API errors: list, inject, clear")
    errors_sub = errors.add_subparsers(dest="action", metavar="ACTION")
    errors_sub.add_parser("list", help="the injected errors and their uses (the default)")
    inject = errors_sub.add_parser("inject", help="answer METHOD PATH with an error")
    inject.add_argument("method", help="GET, POST, PUT, DELETE or '*'")
    inject.add_argument("path", help="a PVE API path or template: /nodes/{node}/status")
    inject.add_argument("--code", type=int, default=500, help="HTTP status (default: 500)")
    inject.add_argument("--message", default="injected error", help="PVE's message (default: injected error)")
    times = inject.add_mutually_exclusive_group()
    times.add_argument("--times", type=int, default=1, help="how many requests it answers (default: 1)")
    times.add_argument("--always", action="store_true", help="answer until cleared")
    errors_sub.add_parser("clear", help="remove every injected error")

    requests_parser = sub.add_parser("requests", help="the log of PVE API requests (secrets masked), or clear it")
    requests_parser.add_argument("action", nargs="?", choices=("show", "clear"), default="show")
    requests_parser.add_argument("--method", help="only this method")
    requests_parser.add_argument("--path", help="only paths under this one (/nodes)")
    requests_parser.add_argument("--status", type=int, help="only this HTTP status")
    requests_parser.add_argument("--since", type=int, help="only from this cluster time (epoch seconds) on")

    scenario = sub.add_parser("scenario", help="dump the cluster as scenario YAML, or load one")
    scenario_sub = scenario.add_subparsers(dest="action", metavar="ACTION")
    scenario_sub.add_parser("dump", help="the whole cluster as scenario YAML on stdout (never with a secret)")
    load = scenario_sub.add_parser("load", help="replace the cluster's state with FILE ('-': stdin)")
    load.add_argument("file")

    events = sub.add_parser("events", help="what the churn did (pvemock serve --churn)")
    events.add_argument("--since", type=int, help="only from this cluster time on")

    sub.add_parser("openapi", help="the control API's OpenAPI document")


def run(args: argparse.Namespace) -> int:
    try:
        method, path, query, body, content_type = _call(args)
        session = ControlSession(args)
        answer = session.request(method, path, query, body, content_type)
    except CtlError as error:
        print(f"pvemock ctl: {error}", file=sys.stderr)
        return error.status
    sys.stdout.write(answer if answer.endswith("\n") else answer + "\n")
    return 0


def _call(args: argparse.Namespace) -> tuple[str, str, dict[str, Any], bytes | None, str]:
    """(method, path below /pvemock-api, query, body, content type) of the command line."""
    command = args.ctl_command
    action = getattr(args, "action", None)
    as_json = "application/json"
    if command is None:
        raise CtlError("a command is needed: clock, reset, node, guest, errors, requests, scenario, events, openapi")
    if command == "clock":
        if action == "advance":
            return "POST", "/clock/advance", {}, _json({"seconds": args.seconds}), as_json
        if action == "settle":
            return "POST", "/clock/settle", {}, None, as_json
        return "GET", "/clock", {}, None, as_json
    if command == "reset":
        return "POST", "/reset", {}, None, as_json
    if command == "node":
        if action == "maintenance":
            if args.state is None:
                raise CtlError("node maintenance needs on or off: pvemock ctl node maintenance NODE on")
            return "POST", f"/nodes/{args.node}/maintenance", {}, _json({"enable": args.state == "on"}), as_json
        if args.state is not None:
            raise CtlError(f"node {action} takes no on/off ({args.state!r})")
        return "POST", f"/nodes/{args.node}/{action}", {}, None, as_json
    if command == "guest":
        if action == "error":
            return "POST", f"/guests/{args.vmid}/error", {}, None, as_json
        return "POST", f"/guests/{args.vmid}/{action}", {}, _json({"count": args.count or 1}), as_json
    if command == "errors":
        if action == "inject":
            body = {"method": args.method.upper(), "path": args.path, "code": args.code, "message": args.message,
                    "times": None if args.always else args.times}  # fmt: skip
            return "POST", "/errors/inject", {}, _json(body), as_json
        if action == "clear":
            return "POST", "/errors/clear", {}, None, as_json
        return "GET", "/errors", {}, None, as_json
    if command == "requests":
        if action == "clear":
            return "DELETE", "/requests", {}, None, as_json
        query = {key: getattr(args, key) for key in ("method", "path", "status", "since")}
        return "GET", "/requests", {key: value for key, value in query.items() if value is not None}, None, as_json
    if command == "scenario":
        if action == "load":
            return "POST", "/scenario", {}, _read(args.file), "application/yaml"
        if action != "dump":
            raise CtlError("scenario needs dump or load: pvemock ctl scenario dump > cluster.yaml")
        return "GET", "/scenario", {}, None, as_json
    if command == "events":
        return "GET", "/events", {} if args.since is None else {"since": args.since}, None, as_json
    return "GET", "/openapi.json", {}, None, as_json


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as error:
        raise CtlError(f"cannot read the scenario file {name}: {error.strerror}") from None


class ControlSession:
    """A root@pam session on the server: an API token header, or a ticket from a password login."""

    def __init__(self, args: argparse.Namespace) -> None:
        import requests

        if not args.url:
            raise CtlError("no server: give --url https://127.0.0.1:8006 (or set PVEMOCK_URL)")
        base = args.url.rstrip("/")
        for suffix in (CONTROL_PREFIX, "/api2/json"):
            base = base.removesuffix(suffix)
        if not base.startswith(("http://", "https://")):
            raise CtlError(f"--url must start with https:// or http://, not {args.url!r}")
        self.base = base
        self.timeout = args.timeout
        self.http = requests.Session()
        self.verify: bool | str = True
        if base.startswith("https://"):
            if args.insecure:
                self.verify = False
                import urllib3

                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            elif args.cacert:
                if not Path(args.cacert).is_file():
                    raise CtlError(f"--cacert {args.cacert}: no such file")
                self.verify = args.cacert
            else:
                raise CtlError("an https --url needs --cacert FILE (the CA pvemock serve printed) or --insecure")
        if args.token:
            if "!" not in args.token or "=" not in args.token:
                raise CtlError("--token must look like root@pam!TOKENID=SECRET")
            self.http.headers["Authorization"] = f"PVEAPIToken={args.token}"
        elif args.password:
            self._login(args.user, args.password)
        else:
            raise CtlError("no credentials: give --token root@pam!ID=SECRET or --password (or PVEMOCK_TOKEN)")

    def _login(self, user: str, password: str) -> None:
        answer = self._send(
            "POST", f"{self.base}/api2/json/access/ticket", data={"username": user, "password": password}
        )
        if answer.status_code != 200:
            raise CtlError(f"--user {user}: login refused ({answer.status_code} {answer.reason})", 1)
        data = answer.json()["data"]
        self.http.cookies.set("PVEAuthCookie", data["ticket"])
        self.http.headers["CSRFPreventionToken"] = data["CSRFPreventionToken"]

    def _send(self, method: str, url: str, **options: Any) -> Any:
        import requests

        try:
            return self.http.request(method, url, verify=self.verify, timeout=self.timeout, **options)
        except requests.exceptions.SSLError as error:
            raise CtlError(f"--url {self.base}: the certificate was refused ({error}); check --cacert") from None
        except requests.exceptions.RequestException as error:
            raise CtlError(f"--url {self.base}: cannot reach the server ({type(error).__name__})") from None

    def get(self, path: str) -> Any:
        """The JSON answer of ``GET path`` (a full path: ``/api2/json/...`` or ``/pvemock-api/...``)."""
        answer = self._send("GET", self.base + path)
        if answer.status_code != 200:
            raise CtlError(f"GET {path}: {answer.status_code} {answer.reason}", 1)
        return answer.json()

    def request(self, method: str, path: str, query: dict[str, Any], body: bytes | None, content_type: str) -> str:
        headers = {"Content-Type": content_type} if body is not None else {}
        answer = self._send(method, self.base + CONTROL_PREFIX + path, params=query, data=body, headers=headers)
        if answer.status_code != 200:
            try:
                message = answer.json()["message"]
            except (ValueError, KeyError, TypeError):
                message = answer.reason or answer.text[:200]
            raise CtlError(f"{method} {CONTROL_PREFIX}{path}: {answer.status_code} {message}", 1)
        if answer.headers.get("Content-Type", "").startswith("application/yaml"):
            return str(answer.text)
        return json.dumps(answer.json(), indent=2)
