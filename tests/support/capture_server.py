"""A small HTTPS server that answers like a real PVE cluster, with the real captures in third_party/pve-captures/.

It stands in for a real cluster when the recorder is tested end to end: real TLS on 127.0.0.1 (a trustme CA),
a real login with a known password and API token, PVE's cookie, CSRF and token checks, and answers taken
verbatim from the captures (the go-proxmox 4-node cluster, DataDog's /version 8.4.1 and task list, proxmoxer's
two task-status captures played in order, like a task that finishes while the client polls).

Used by tests/test_recording_*.py (the ``pve_capture`` fixture of tests/conftest.py) and by
scripts/build_example_cassettes.py.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

CAPTURES = Path(__file__).resolve().parents[2] / "third_party" / "pve-captures"

USER = "root@pam"
PASSWORD = "capture-server-password-7f3a"
TOKEN_NAME = "ci"
TICKET_TIME = "64E10CBA"  # the time in the real ticket capture

TASK_UPID = "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:"


def capture(name: str) -> Any:
    """A capture's payload (the ``data`` of its envelope, or the whole file when it has none)."""
    document = json.loads((CAPTURES / name).read_text(encoding="utf-8"))
    return document["data"] if isinstance(document, dict) and set(document) <= {"data", "total"} else document


@dataclass
class CaptureCluster:
    """The state behind the server: credentials (fresh secrets per instance) and the task being polled."""

    token_secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    ticket: str = field(
        default_factory=lambda: f"PVE:{USER}:{TICKET_TIME}::" + base64.b64encode(secrets.token_bytes(256)).decode()
    )
    csrf_token: str = field(
        default_factory=lambda: f"{TICKET_TIME}:" + base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    )
    created_token_secrets: list[str] = field(default_factory=list)
    task_polls: int = 0

    @property
    def token(self) -> str:
        return f"{USER}!{TOKEN_NAME}={self.token_secret}"

    @property
    def known_secrets(self) -> list[str]:
        return [PASSWORD, self.token_secret, self.ticket, self.csrf_token, *self.created_token_secrets]

    # ---------------------------------------------------------------------------------------------- answers

    def login(self, form: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        username = form.get("username", "")
        if "@" not in username and form.get("realm"):
            username = f"{username}@{form['realm']}"
        if username != USER or form.get("password") not in (PASSWORD, self.ticket):
            return 401, None, {}
        answer = capture("access-ticket__go-proxmox-pve8x.json")
        answer.update(ticket=self.ticket, CSRFPreventionToken=self.csrf_token, username=USER)
        return 200, answer, {"Set-Cookie": f"PVEAuthCookie={self.ticket}; path=/; secure"}

    def get(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if path == "/version":
            return 200, capture("version__datadog-integrations-core.json")
        if path == "/cluster/status":
            return 200, capture("cluster-status__go-proxmox-pve8x.json")
        if path == "/cluster/resources":
            rows = capture("cluster-resources__go-proxmox-pve8x.json")
            wanted = {"vm": ("qemu", "lxc"), "node": ("node",), "storage": ("storage",)}.get(query.get("type", ""))
            return 200, [row for row in rows if wanted is None or row["type"] in wanted]
        if path == "/nodes":
            return 200, capture("nodes__go-proxmox-pve8x.json")
        if len(parts) == 3 and parts[0] == "nodes" and parts[2] == "status":
            return 200, capture("nodes-node-status__go-proxmox-pve7x.json")
        if len(parts) == 3 and parts[0] == "nodes" and parts[2] == "network":
            return 200, capture("nodes-node-network__go-proxmox-pve8x.json")
        if path == "/nodes/node1/qemu/101/status/current":
            return 200, capture("nodes-node-qemu-vmid-status-current__go-proxmox-pve8x.json")
        if path.startswith("/nodes/node1/tasks/") and path.endswith("/status"):
            self.task_polls += 1
            name = "keep-running" if self.task_polls == 1 else "stopped"
            answer = capture(f"nodes-node-tasks-upid-status-{name}__proxmoxer.json")
            answer["upid"] = TASK_UPID  # the captures' UPIDs carry a suffix real PVE never writes
            return 200, answer
        if path == "/pools/testpool":
            return 200, capture("pools-poolid__go-proxmox-pve8x.json")
        return 404, None

    def post(self, path: str, form: dict[str, str]) -> tuple[int, Any]:
        match = re.fullmatch(r"/nodes/([^/]+)/qemu/(\d+)/status/(start|stop|shutdown)", path)
        if match:
            node, vmid, action = match.groups()
            return 200, f"UPID:{node}:0010A1B2:0A1B2C3D:64E10CC0:qm{action}:{vmid}:{USER}:"
        match = re.fullmatch(r"/access/users/([^/]+)/token/([^/]+)", path)
        if match:
            secret = str(uuid.uuid4())
            self.created_token_secrets.append(secret)
            userid, tokenid = match.groups()
            info = {"privsep": int(form.get("privsep", 1)), "expire": 0}
            return 200, {"full-tokenid": f"{userid}!{tokenid}", "info": info, "value": secret}
        return 404, None


class _Handler(BaseHTTPRequestHandler):
    server: _CaptureHttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def _send(self, status: int, data: Any, headers: dict[str, str] | None = None, extra: Any = None) -> None:
        document = {"data": data} if status < 400 else {"data": None}
        if extra:
            document.update(extra)
        body = json.dumps(document).encode()
        self.send_response(status, "OK" if status == 200 else "error")
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Server", "pve-api-daemon/3.0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _authenticated(self, write: bool) -> bool:
        cluster = self.server.cluster
        authorization = self.headers.get("Authorization", "")
        if authorization:
            return authorization == f"PVEAPIToken={cluster.token}"
        cookies = dict(part.strip().split("=", 1) for part in self.headers.get("Cookie", "").split(";") if "=" in part)
        if unquote(cookies.get("PVEAuthCookie", "")) != cluster.ticket:
            return False
        return not write or self.headers.get("CSRFPreventionToken") == cluster.csrf_token

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if raw.lstrip().startswith("{"):
            return {key: str(value) for key, value in json.loads(raw).items()}
        return dict(parse_qsl(raw, keep_blank_values=True))

    def _path(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        for prefix in ("/api2/json", "/api2/extjs"):
            if path.startswith(prefix):
                path = path[len(prefix) :]
        return path.rstrip("/") or "/", dict(parse_qsl(parts.query))

    def do_GET(self) -> None:
        path, query = self._path()
        if not self._authenticated(write=False):
            self._send(401, None)
            return
        status, data = self.server.cluster.get(path, query)
        extra = {"total": len(data)} if path.endswith("/tasks") and isinstance(data, list) else None
        self._send(status, data, extra=extra)

    def do_POST(self) -> None:
        path, _ = self._path()
        form = self._form()
        if path == "/access/ticket":
            status, data, headers = self.server.cluster.login(form)
            self._send(status, data, headers)
            return
        if not self._authenticated(write=True):
            self._send(401, None)
            return
        status, data = self.server.cluster.post(path, form)
        self._send(status, data)


class _CaptureHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cluster: CaptureCluster) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cluster = cluster


@dataclass
class RunningCaptureServer:
    host: str
    port: int
    ca_file: Path
    cluster: CaptureCluster

    def environment(self, auth: str = "password") -> dict[str, str]:
        """The PVEMOCK_* variables that point a recording at this server."""
        env = {"PVEMOCK_HOST": f"{self.host}:{self.port}", "PVEMOCK_VERIFY_SSL": str(self.ca_file)}
        if auth == "token":
            env["PVEMOCK_TOKEN"] = self.cluster.token
        else:
            env.update(PVEMOCK_USER=USER, PVEMOCK_PASSWORD=PASSWORD)
        return env


@contextmanager
def capture_server(directory: Path) -> Iterator[RunningCaptureServer]:
    """Serve the captures over HTTPS on 127.0.0.1 (a random port) until the block ends."""
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "capture-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(context)
    server = _CaptureHttpServer(CaptureCluster())
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningCaptureServer("127.0.0.1", server.server_address[1], ca_file, server.cluster)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
