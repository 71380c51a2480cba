"""A real HTTP(S) server in front of a fake cluster, for clients that cannot be patched in-process.

Terraform providers, Go, JavaScript or shell scripts with curl need a socket. :class:`PveServer` listens on
one (loopback and a free port by default), answers ``/api2/json`` and ``/api2/extjs`` with the same API app
as the in-process transports, and serves many clients at once: each connection has its own thread, and the
cluster's lock (``cluster.lock``, shared with the in-process transports) around dispatch keeps the cluster
consistent (take :attr:`PveServer.lock` too when a test changes the cluster while clients are talking to it).

    with PveServer(FakeCluster.default()) as server:
        ProxmoxAPI(server.address, port=server.port, user="root@pam", password=server.password,
                   verify_ssl=str(server.ca_file))
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import ipaddress
import shutil
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.app import MAX_POST
from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.certs import ServerTls, certificate_names, issue_server_tls
from pytest_pvemock.transports.control_api import (
    CONTROL_PREFIX,
    ControlApi,
    ControlHost,
    ServerClock,
    ServerControl,
    is_control_path,
)

if TYPE_CHECKING:
    from pytest_pvemock.model.churn import Churn, ChurnSettings
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.request_log import RequestLog

Dispatcher = Callable[[ApiRequest], ApiResponse]

ERRORS_KEPT = 100
#: Seconds an idle keep-alive connection (or an unfinished TLS handshake) may hold its thread.
IDLE_TIMEOUT = 60.0
#: Seconds a request may take to arrive, from its first byte to the end of its body: a client dripping its
#: headers a byte at a time is answered 408 and closed (the idle timeout alone restarts with every byte).
REQUEST_TIMEOUT = 10.0
#: Connections served at once, one thread each (pveproxy: max_conn 800). Beyond it the server stops accepting
#: until one ends: new clients wait in the listen queue, as with pveproxy; near it, answers close the connection
#: (pveproxy's max_conn_soft_limit turns keep-alive off).
MAX_CONNECTIONS = 256
_CUT_OFF = 0.001  # the read timeout of a connection past its request deadline
_LINGER = 1.0  # seconds a refused request's connection reads and drops what the client still sends
_KEEP_ALIVE_LIMIT = MAX_CONNECTIONS - 20
#: Listen queue: connections the kernel accepts while the server is busy (socketserver's default is 5).
LISTEN_BACKLOG = max(socket.SOMAXCONN, 1024)
#: Largest multipart upload body; any other body is limited to pveproxy's 512 KiB (``api.app.MAX_POST``).
MAX_BODY = 64 * 1024 * 1024
#: Longest request line or header line, and most header fields, a request may have (as http.server).
MAX_LINE = 65536
MAX_HEADERS = 100
#: How often the accept loop looks for a stop request: stopping takes at most this long.
SHUTDOWN_POLL = 0.05


class PveServer:
    """An HTTP(S) server answering one fake cluster; a context manager that starts and stops it.

    ``port=0`` picks a free port (see :attr:`port` and :attr:`url` once started). ``tls=True`` generates a
    CA and a certificate for loopback, the bound address and the cluster's host names; :attr:`ca_file` is
    the CA's PEM for clients to verify against. ``dispatcher`` replaces the API app (for tests of the
    transport itself). ``login(cluster)`` gives a cluster the credentials the server was started with: it runs on
    every scenario the control API loads, so that its caller keeps its way in (``pvemock serve --user/--token``).
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
        clock: str = "instant",
        speed: float = 1.0,
        churn: ChurnSettings | None = None,
        login: Callable[[FakeCluster], object] | None = None,
    ) -> None:
        self.cluster = cluster
        self._login = login
        self.host = host.strip("[]")
        self.tls = tls
        # the lock every transport takes for this cluster (a bare dispatcher without a cluster gets its own)
        self.lock: Any = getattr(cluster, "lock", None) or threading.RLock()
        #: The last :data:`ERRORS_KEPT` exceptions raised while answering (a schema violation with ``validate``),
        #: newest last; :attr:`error_count` counts them all. Bounded: each holds a traceback.
        self.errors: deque[BaseException] = deque(maxlen=ERRORS_KEPT)
        self.error_count = 0
        self._requested_port = port
        self._validate = validate
        self._dispatcher = dispatcher
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._own_cert_dir: Path | None = None
        self._access_log = access_log
        self._tls_files: ServerTls | None = None
        self._httpd: _ThreadingApiServer | None = None
        self._thread: threading.Thread | None = None
        #: Drives the cluster's clock (``clock``: instant, manual or realtime, ``speed`` times wall time).
        self.server_clock = ServerClock(clock, speed)
        self._control: ControlApi | None = None
        self._churn_settings = churn
        #: The churn driving the cluster (``churn=ChurnSettings(seed)``), once started; its events: ``.events``.
        self.churn: Churn | None = None

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
    def control_url(self) -> str:
        """The base URL of the control API (``https://127.0.0.1:PORT/pvemock-api``); see ``transports/control_api``."""
        return self.url + CONTROL_PREFIX

    @property
    def control(self) -> ServerControl:
        """The control API in Python, run in-process under the lock: ``server.control.power_off("pve2")``,
        ``.advance(60)``, ``.dump_scenario()`` ... (see :class:`~.control_api.ServerControl`)."""
        control = self._control_api()
        if control is None:
            raise RuntimeError("this server has no cluster to control")
        return ServerControl(control, self.lock)

    @property
    def request_log(self) -> RequestLog:
        """The PVE API requests answered so far (secrets masked), as ``GET /pvemock-api/requests`` shows them:
        the cluster's own log (``cluster.requests``), which in-process transports write too."""
        if not hasattr(self.cluster, "requests"):
            raise RuntimeError("this server has no cluster, hence no request log")
        log: RequestLog = self.cluster.requests
        return log

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
        self._control_api()
        httpd = _server_class(self.host)((self.host, self._requested_port), _ApiConnection)
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
                control = self._control_api()
                if control is not None:
                    self.server_clock.catch_up(control.host.cluster)
                    if is_control_path(request.path):
                        return control.answer(request)
                return dispatcher(request)
        except Exception as error:  # e.g. SchemaValidationError: the client gets a 500, the test gets the error
            self.errors.append(error)
            self.error_count += 1
            message = " ".join(f"{type(error).__name__}: {error}".split())
            self.log_access(f"error answering {request.method} {request.path}: {message}")
            body = b'{"data":null,"message":' + _json_string(message) + b"}"
            return ApiResponse(500, body, reason=message[:200])

    @property
    def access_logged(self) -> bool:
        return self._access_log is not None

    def log_access(self, line: str) -> None:
        """Hand ``line`` to the access log, with control characters escaped (they would reach a terminal)."""
        if self._access_log is not None:
            self._access_log(_log_text(line))

    def _control_api(self) -> ControlApi | None:
        """The control API, once the server has a cluster to drive (a bare dispatcher has none)."""
        if self._control is None and hasattr(self.cluster, "clock"):
            host = ControlHost(self.cluster, self.server_clock, self._rebuild_app, self._login)
            if self._churn_settings is not None:
                from pytest_pvemock.model.churn import Churn

                self.churn = host.churn = Churn(self._churn_settings)
                self.churn.attach(self.cluster)
            self._control = ControlApi(host)
        return self._control

    def _rebuild_app(self) -> None:
        """After a control API reset or scenario load: a new API app for the cluster's new state (its release
        may have changed), the cluster object itself being the same."""
        from pytest_pvemock.api.app import PveApi

        cluster = self.cluster
        validate = self._validate
        if self._dispatcher is not None:
            owner = getattr(self._dispatcher, "__self__", None)
            if not isinstance(owner, PveApi):
                return  # a dispatcher of the test's own: it keeps answering as it likes
            validate = owner.validate
        dispatch = PveApi(cluster, validate=validate).handle
        if self._dispatcher is not None:
            self._dispatcher = dispatch
        if self._httpd is not None:
            self._httpd.dispatch = dispatch

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
    request_queue_size = LISTEN_BACKLOG
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
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._stopping = threading.Event()
        # connection -> when its request must have arrived; the reaper closes the reading side of late ones
        self._deadlines: dict[socket.socket, float] = {}
        self._late: set[socket.socket] = set()
        self._reaper = threading.Thread(target=self._reap, name="pvemock-server-reaper", daemon=True)
        self._reaper.start()

    # -- at most MAX_CONNECTIONS threads ---------------------------------------------------------------------

    def process_request(self, request: Any, client_address: Any) -> None:
        # Runs in the accept loop: while every slot is taken, accept nothing more (clients queue in the backlog).
        while not self._slots.acquire(timeout=SHUTDOWN_POLL):
            if self._stopping.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def crowded(self) -> bool:
        """Near the connection cap: answers close their connection instead of keeping it."""
        with self._connections_lock:
            return len(self._connections) >= _KEEP_ALIVE_LIMIT

    def shutdown(self) -> None:
        self._stopping.set()
        super().shutdown()

    # -- request deadlines -------------------------------------------------------------------------------

    def start_deadline(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._deadlines[connection] = time.monotonic() + REQUEST_TIMEOUT
        connection.settimeout(REQUEST_TIMEOUT)  # a client silent mid-request is cut off at the deadline

    def end_deadline(self, connection: socket.socket) -> bool:
        """Stop watching ``connection``; ``True`` when its deadline had passed (its reads were cut short)."""
        with self._connections_lock:
            self._deadlines.pop(connection, None)
            late = connection in self._late
            self._late.discard(connection)
        with contextlib.suppress(OSError):
            connection.settimeout(IDLE_TIMEOUT)
        return late

    def _reap(self) -> None:
        while not self._stopping.wait(min(0.5, REQUEST_TIMEOUT / 4)):
            now = time.monotonic()
            with self._connections_lock:
                late = [connection for connection, deadline in self._deadlines.items() if deadline <= now]
                for connection in late:
                    del self._deadlines[connection]
                    self._late.add(connection)
            for connection in late:
                # A client dripping bytes returns from every read in time: make its next read fail at once (a
                # line being read is checked against the deadline when it ends, see _read_headers).
                with contextlib.suppress(OSError):
                    connection.settimeout(_CUT_OFF)

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
            self._deadlines.pop(connection, None)
            self._late.discard(connection)

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


class _BadRequest(Exception):
    """A request that cannot be read: answered with ``status`` and ``reason``, then the connection closes."""

    def __init__(self, status: int, reason: str, unread: int = 0) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.unread = unread  # body bytes the client is still sending: drained after the answer


class _ApiConnection(socketserver.StreamRequestHandler):
    """One client connection: reads HTTP/1.x requests one after the other (keep-alive) and answers each.

    A lean reader rather than :class:`http.server.BaseHTTPRequestHandler`, which parses every header block
    with :mod:`email.parser` and writes in pieces: request line and headers are split on CRLF with bounded
    sizes, the body is read by ``Content-Length`` or chunked, and each answer goes out in one write.
    """

    disable_nagle_algorithm = True  # a small answer must not wait for the client's delayed ACK
    server: _ThreadingApiServer
    _deadline = 0.0  # when the request being read must have arrived (time.monotonic)

    def handle(self) -> None:
        while self._answer_one():
            pass

    def _answer_one(self) -> bool:
        """Read and answer one request; ``False`` when the connection is to be closed."""
        if not self._request_begins():
            return False
        # From its first byte, the whole request must arrive within REQUEST_TIMEOUT (the reaper enforces it)
        self.server.start_deadline(self.connection)
        self._deadline = time.monotonic() + REQUEST_TIMEOUT
        request_line: str | None = ""
        try:
            request_line = self._read_request_line()
            if request_line is None:
                self.server.end_deadline(self.connection)
                return False
            method, target, http11 = _parse_request_line(request_line)
            headers, names = self._read_headers()
            keep_alive = _keeps_alive(headers, http11) and not self.server.crowded()
            if method not in _ANSWERED_METHODS:
                raise _BadRequest(501, f"Unsupported method ({method!r})")
            if http11 and headers.get("expect", "").lower() == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = self._read_body(headers)
            if self.server.end_deadline(self.connection):
                raise _BadRequest(408, "Request Timeout")
        except (_BadRequest, TimeoutError) as error:
            status, reason = (error.status, error.reason) if isinstance(error, _BadRequest) else (408, "")
            if self.server.end_deadline(self.connection):  # what was read is cut short: the time was up
                status, reason = 408, ""
            reason = reason or "Request Timeout"
            self._send_bare(status, reason, "", request_line or "", keep_alive=False)
            # Lingering close: the answer is complete (the client may read to the end now), then what the client
            # is still sending is read and dropped for a while, so closing does not reset the answer away.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.connection, socket.SHUT_WR)
            unread = error.unread if isinstance(error, _BadRequest) else 0
            self._discard(max(unread, MAX_LINE), REQUEST_TIMEOUT if unread else _LINGER)
            return False
        path, _, query = target.partition("?")
        request = ApiRequest(
            method=method,
            path=path,
            query=query,
            headers={names[key]: value for key, value in headers.items()},
            body=body,
            host=_host_name(headers.get("host", "")),
        )
        response = self.server.pve.dispatch(request, self.server.dispatch)
        self._send(response, method, request_line, keep_alive)
        return keep_alive

    # -- reading -----------------------------------------------------------------------------------------

    def _request_begins(self) -> bool:
        """Wait (up to the idle timeout) for the first byte of a request; ``False`` when the client is done."""
        try:
            return bool(self.rfile.peek(1))  # type: ignore[attr-defined]  # a BufferedReader
        except (OSError, ValueError):
            return False

    def _read_request_line(self) -> str | None:
        for _ in range(_MAX_EMPTY_LINES):  # RFC 9112 2.2: ignore empty lines before a request line
            line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                return None
            if len(line) > MAX_LINE:
                raise _BadRequest(414, "Request-URI Too Long")
            if line not in (b"\r\n", b"\n"):
                return line.decode("latin-1").rstrip("\r\n")
        return None

    def _read_headers(self) -> tuple[dict[str, str], dict[str, str]]:
        """Header fields by lower-case name (the last one wins), and each lower-case name as it was sent."""
        headers: dict[str, str] = {}
        names: dict[str, str] = {}
        readline = self.rfile.readline
        for _ in range(MAX_HEADERS + 1):
            line = readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise _BadRequest(431, "Request Header Fields Too Large")
            if time.monotonic() > self._deadline:
                raise _BadRequest(408, "Request Timeout")
            if line in (b"\r\n", b"\n", b""):
                return headers, names
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not name or name != name.strip() or line[0] in b" \t":
                raise _BadRequest(400, "Bad header line")
            key = name.lower()
            headers[key] = value.strip()
            names[key] = name
        raise _BadRequest(431, "Too many headers")

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked_body(headers)
        length_text = headers.get("content-length", "")
        if not length_text:
            return b""
        if not length_text.isdigit() or not length_text.isascii():
            raise _BadRequest(400, "invalid Content-Length")
        length = int(length_text)
        if length > MAX_BODY:
            raise _BadRequest(413, "Request Entity Too Large")
        if length > MAX_POST and not _is_multipart(headers):
            raise _BadRequest(501, "for data too large", unread=length)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise _BadRequest(400, "incomplete request body")
        return body

    def _discard(self, length: int, seconds: float) -> None:
        """Read and drop up to ``length`` bytes for at most ``seconds``, so that a client still sending a request
        we refused reads our answer rather than a connection reset."""
        deadline = time.monotonic() + seconds
        with contextlib.suppress(OSError, ValueError):
            while length > 0 and (remaining := deadline - time.monotonic()) > 0:
                self.connection.settimeout(remaining)
                chunk = self.rfile.read1(min(length, 65536))
                if not chunk:
                    return
                length -= len(chunk)

    def _read_chunked_body(self, headers: dict[str, str]) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            try:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise _BadRequest(400, "invalid chunk size") from None
            if size == 0:
                for _ in range(MAX_HEADERS + 1):  # trailers, then the final empty line
                    if not self.rfile.readline(MAX_LINE).strip():
                        break
                return b"".join(parts)
            total += size
            if size < 0 or total > MAX_BODY:
                raise _BadRequest(413, "Request Entity Too Large")
            if total > MAX_POST and not _is_multipart(headers):
                raise _BadRequest(501, "for data too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(16)  # the CRLF after each chunk

    # -- writing -----------------------------------------------------------------------------------------

    def _send(self, response: ApiResponse, method: str, request_line: str, keep_alive: bool) -> None:
        status = response.status
        reason = " ".join((response.reason or "").split()) or _STANDARD_REASONS.get(status, "")
        lines = [f"HTTP/1.1 {status} {reason}"]
        if "Server" not in response.headers:
            lines.append(_SERVER_HEADER)
        lines.append(_date_header())
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection"):
                lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(response.body)}")
        if not keep_alive:
            lines.append("Connection: close")
        lines.append("\r\n")
        head = "\r\n".join(lines).encode("latin-1", "replace")
        # Status line, headers and body in one write: one TLS record train, no waiting on delayed ACKs.
        self.wfile.write(head if method == "HEAD" else head + response.body)
        if self.server.pve.access_logged:
            self.server.pve.log_access(f'{self.client_address[0]} "{_log_text(request_line, quote=True)}" {status}')

    def _send_bare(self, status: int, reason: str, method: str, request_line: str, keep_alive: bool) -> None:
        with contextlib.suppress(OSError):
            self._send(ApiResponse(status, b"", headers={}, reason=reason), method, request_line, keep_alive)


_ANSWERED_METHODS = frozenset(("GET", "POST", "PUT", "DELETE", "HEAD"))
_MAX_EMPTY_LINES = 4
_SERVER_HEADER = "Server: pve-api-daemon/3.0"
_STANDARD_REASONS = {status.value: status.phrase for status in HTTPStatus}


def _parse_request_line(line: str) -> tuple[str, str, bool]:
    """``GET /x HTTP/1.1`` -> method, target and whether it is HTTP/1.1 (``False``: HTTP/1.0)."""
    words = line.split()
    if len(words) != 3:
        raise _BadRequest(400, f"Bad request syntax ({line[:100]!r})")
    method, target, version = words
    if version == "HTTP/1.1":
        return method, target, True
    if version == "HTTP/1.0":
        return method, target, False
    major = version[5:].split(".", 1)[0]
    if version.startswith("HTTP/") and major.isdigit() and int(major) >= 2:
        raise _BadRequest(505, f"Invalid HTTP version ({version[:20]})")
    raise _BadRequest(400, f"Bad request version ({version[:20]!r})")


def _keeps_alive(headers: dict[str, str], http11: bool) -> bool:
    """HTTP/1.1 keeps the connection unless ``Connection: close``; HTTP/1.0 only with ``keep-alive``."""
    connection = headers.get("connection", "").lower()
    if "close" in connection:
        return False
    return http11 or "keep-alive" in connection


@functools.lru_cache(maxsize=4)
def _date_header_at(second: int) -> str:
    return "Date: " + email.utils.formatdate(second, usegmt=True)


def _date_header() -> str:
    return _date_header_at(int(time.time()))


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _is_multipart(headers: dict[str, str]) -> bool:
    """An upload (pveproxy reads only these beyond $limit_max_post)."""
    return headers.get("content-type", "").lower().startswith("multipart/form-data")


_LOG_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
_LOG_ESCAPES_QUOTED = {**_LOG_ESCAPES, ord("\\"): "\\\\", ord('"'): '\\"'}


def _log_text(text: str, quote: bool = False) -> str:
    """``text`` safe for a terminal and a log reader: control characters as ``\\xNN`` (and, inside a quoted
    field, ``\\`` and ``"`` escaped, as Apache writes its request line)."""
    return text.translate(_LOG_ESCAPES_QUOTED if quote else _LOG_ESCAPES)


def _json_string(text: str) -> bytes:
    import json

    return json.dumps(text).encode()
