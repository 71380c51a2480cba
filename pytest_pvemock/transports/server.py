"""A real HTTP(S) server in front of a fake cluster, for clients that cannot be patched in-process.

Terraform providers, Go, JavaScript or shell scripts with curl need a socket. :class:`PveServer` listens on
one (loopback and a free port by default), answers ``/api2/json`` and ``/api2/extjs`` with the same API app
as the in-process transports, and serves many clients at once: each connection has its own thread, and one
lock around dispatch keeps the cluster consistent (take :attr:`PveServer.lock` too when a test changes the
cluster while clients are talking to it).

    with PveServer(FakeCluster.default()) as server:
        ProxmoxAPI(server.address, port=server.port, user="root@pam", password=server.password,
                   verify_ssl=str(server.ca_file))
"""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.certs import ServerTls, certificate_names, issue_server_tls

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

Dispatcher = Callable[[ApiRequest], ApiResponse]

#: Seconds an idle keep-alive connection (or an unfinished TLS handshake) may hold its thread.
IDLE_TIMEOUT = 60.0
MAX_BODY = 64 * 1024 * 1024
#: How often the accept loop looks for a stop request: stopping takes at most this long.
SHUTDOWN_POLL = 0.05


class PveServer:
    """An HTTP(S) server answering one fake cluster; a context manager that starts and stops it.

    ``port=0`` picks a free port (see :attr:`port` and :attr:`url` once started). ``tls=True`` generates a
    CA and a certificate for loopback, the bound address and the cluster's host names; :attr:`ca_file` is
    the CA's PEM for clients to verify against. ``dispatcher`` replaces the API app (for tests of the
    transport itself).
    """

    def __init__(
        self,
        cluster: FakeCluster,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        *,
        validate: bool = False,
        dispatcher: Dispatcher | None = None,
        cert_dir: str | Path | None = None,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        self.cluster = cluster
        self.host = host.strip("[]")
        self.tls = tls
        self.lock = threading.RLock()
        self.errors: list[BaseException] = []
        self._requested_port = port
        self._validate = validate
        self._dispatcher = dispatcher
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._own_cert_dir: Path | None = None
        self._access_log = access_log
        self._tls_files: ServerTls | None = None
        self._httpd: _ThreadingApiServer | None = None
        self._thread: threading.Thread | None = None

    # -- what clients need -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._running().server_address[1]

    @property
    def address(self) -> str:
        """The host to connect to: the bound address, or loopback when bound to every address."""
        if self.host in ("", "0.0.0.0"):
            return "127.0.0.1"
        if self.host == "::":
            return "::1"
        return self.host

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT`` (``http://`` without TLS), without the ``/api2/json`` prefix."""
        scheme = "https" if self.tls else "http"
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{scheme}://{host}:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate (PEM) that signed the server's certificate; ``None`` for plain HTTP."""
        return self._tls_files.ca_file if self._tls_files else None

    @property
    def user(self) -> str:
        return str(getattr(self.cluster, "user", "root@pam"))

    @property
    def password(self) -> str:
        return str(getattr(self.cluster, "password", "pvemock"))

    @property
    def loopback_only(self) -> bool:
        return is_loopback(self.host)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> PveServer:
        if self._httpd is not None:
            return self
        dispatch = self._dispatcher or self._api_dispatcher()
        httpd = _server_class(self.host)((self.host, self._requested_port), _ApiRequestHandler)
        try:
            if self.tls:
                self._tls_files = self._issue_tls()
                httpd.tls_context = self._tls_files.server_context()
            httpd.pve = self
            httpd.dispatch = dispatch
        except BaseException:
            httpd.server_close()
            raise
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(SHUTDOWN_POLL,), name=f"pvemock-server-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._own_cert_dir is not None:
            shutil.rmtree(self._own_cert_dir, ignore_errors=True)
            self._own_cert_dir = None
        self._tls_files = None

    def __enter__(self) -> PveServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._httpd is not None else "stopped"
        return f"<PveServer {state}>"

    # -- internals ---------------------------------------------------------------------------------------

    def dispatch(self, request: ApiRequest, dispatcher: Dispatcher) -> ApiResponse:
        """Answer one request under the cluster lock; an exception becomes a 500 and is kept in :attr:`errors`."""
        try:
            with self.lock:
                return dispatcher(request)
        except Exception as error:  # e.g. SchemaValidationError: the client gets a 500, the test gets the error
            self.errors.append(error)
            message = " ".join(f"{type(error).__name__}: {error}".split())
            self.log_access(f"error answering {request.method} {request.path}: {message}")
            body = b'{"data":null,"message":' + _json_string(message) + b"}"
            return ApiResponse(500, body, reason=message[:200])

    def log_access(self, line: str) -> None:
        if self._access_log is not None:
            self._access_log(line)

    def _running(self) -> _ThreadingApiServer:
        if self._httpd is None:
            raise RuntimeError("the server is not running: use it as a context manager or call start() first")
        return self._httpd

    def _api_dispatcher(self) -> Dispatcher:
        from pytest_pvemock.api.app import PveApi

        return PveApi(self.cluster, validate=self._validate).handle

    def _issue_tls(self) -> ServerTls:
        directory = self._cert_dir
        if directory is None:
            directory = self._own_cert_dir = Path(tempfile.mkdtemp(prefix="pvemock-tls-"))
        names = certificate_names(self.host, getattr(self.cluster, "hosts", ()) or ())
        return issue_server_tls(directory, names)


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _ThreadingApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls_context: ssl.SSLContext | None = None
    pve: PveServer
    dispatch: Dispatcher

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the connection's own thread, so a slow TLS handshake never blocks the accept loop.
        connection = request
        self._track(request)
        try:
            request.settimeout(IDLE_TIMEOUT)
            if self.tls_context is not None:
                connection = self.tls_context.wrap_socket(request, server_side=True)
                self._track(connection, replacing=request)
            super().finish_request(connection, client_address)
        except OSError:
            pass  # the client went away or rejected our certificate: nothing to answer
        finally:
            self._untrack(connection)
            if connection is not request:
                with contextlib.suppress(OSError):
                    connection.close()

    def _track(self, connection: socket.socket, replacing: socket.socket | None = None) -> None:
        with self._connections_lock:
            self._connections.discard(replacing)
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_open_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError)):
            return
        print(f"pvemock server: error answering {client_address}: {error!r}", file=sys.stderr)


class _ThreadingApiServer6(_ThreadingApiServer):
    address_family = socket.AF_INET6


def _server_class(host: str) -> type[_ThreadingApiServer]:
    return _ThreadingApiServer6 if ":" in host else _ThreadingApiServer


class _ApiRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a small answer must not wait for the client's delayed ACK
    server_version = "pve-api-daemon/3.0"
    server: _ThreadingApiServer

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def do_OPTIONS(self) -> None:
        self._send(ApiResponse(501, b"", headers={}, reason="Method not implemented"))

    def _answer(self) -> None:
        try:
            body = self._read_body()
        except ValueError as error:
            self._send(ApiResponse(400, b"", headers={}, reason=str(error)))
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        request = ApiRequest(
            method=self.command,
            path=path,
            query=query,
            headers=dict(self.headers.items()),
            body=body,
            host=_host_name(self.headers.get("Host", "")),
        )
        response = self.server.pve.dispatch(request, self.server.dispatch)
        self._send(response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("invalid Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunked_body(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers, then the final empty line
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise ValueError("request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(16)  # the CRLF after each chunk

    def _send(self, response: ApiResponse) -> None:
        reason = " ".join((response.reason or "").split()) or None
        self.send_response(response.status, reason)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Status line, headers and body in one write (end_headers would flush the headers on their own).
        head = b"".join(self._headers_buffer) + b"\r\n"
        self._headers_buffer = []
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.pve.log_access(f'{self.client_address[0]} "{self.requestline}" {code}')

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _json_string(text: str) -> bytes:
    import json

    return json.dumps(text).encode()
