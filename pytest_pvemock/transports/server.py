"""A real HTTP(S) server in front of a fake cluster, for clients that cannot be patched in-process.

Terraform providers, Go, JavaScript or shell scripts with curl need a socket. :class:`PveServer` listens on
one (loopback and a free port by default), answers ``/api2/json`` and ``/api2/extjs`` with the same API app
as the in-process transports, and serves many clients at once: one thread waits on every connection and answers
their requests one at a time (``transports/http_loop.py``), under the cluster's lock (``cluster.lock``, shared with
the in-process transports; take :attr:`PveServer.lock` too when a test changes the cluster while clients are
talking to it).

    with PveServer(FakeCluster.default()) as server:
        ProxmoxAPI(server.address, port=server.port, user="root@pam", password=server.password,
                   verify_ssl=str(server.ca_file))
"""

from __future__ import annotations

import ipaddress
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.certs import NodeTls, ServerTls, certificate_names, issue_server_tls
from pytest_pvemock.transports.control_api import (
    CONTROL_PREFIX,
    ControlApi,
    ControlHost,
    ServerClock,
    ServerControl,
    is_control_path,
)
from pytest_pvemock.transports.http_loop import (  # noqa: F401  (the limits, named here for users of the server)
    IDLE_TIMEOUT,
    LISTEN_BACKLOG,
    MAX_BODY,
    MAX_CONNECTIONS,
    MAX_HEADERS,
    MAX_LINE,
    REQUEST_TIMEOUT,
    HttpLoop,
)

if TYPE_CHECKING:
    from pytest_pvemock.model.churn import Churn, ChurnSettings
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.request_log import RequestLog

Dispatcher = Callable[[ApiRequest], ApiResponse]

ERRORS_KEPT = 100


class PveServer:
    """An HTTP(S) server answering one fake cluster; a context manager that starts and stops it.

    ``port=0`` picks a free port (see :attr:`port` and :attr:`url` once started). ``tls=True`` presents the
    certificate of a node's pveproxy (``transports/certs.py``); :attr:`ca_file` is the cluster's root CA for clients
    to verify against. ``dispatcher`` replaces the API app (for tests of the
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
        self._tls_files: ServerTls | NodeTls | None = None
        self._loop: HttpLoop | None = None
        self._dispatch_now: Dispatcher | None = None  # the API app answering (a new one after a reset)
        #: Drives the cluster's clock (``clock``: instant, manual or realtime, ``speed`` times wall time).
        self.server_clock = ServerClock(clock, speed)
        self._control: ControlApi | None = None
        self._churn_settings = churn
        #: The churn driving the cluster (``churn=ChurnSettings(seed)``), once started; its events: ``.events``.
        self.churn: Churn | None = None

    # -- what clients need -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._running().address[1]

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
        if self._loop is not None:
            return self
        self._dispatch_now = self._dispatcher or self._api_dispatcher()
        self._control_api()
        access_log = self._log_answer if self._access_log is not None else None
        loop = HttpLoop(self.host, self._requested_port, self._answer, access_log=access_log)
        try:
            if self.tls:
                self._tls_files = self._issue_tls()
                loop.tls_context = self._tls_files.server_context()
        except BaseException:
            loop.stop()
            raise
        self._loop = loop
        loop.start(f"pvemock-server-{self.port}")
        return self

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        loop.stop()
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
        state = self.url if self._loop is not None else "stopped"
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

    def _answer(self, request: ApiRequest) -> ApiResponse:
        assert self._dispatch_now is not None
        return self.dispatch(request, self._dispatch_now)

    def _log_answer(self, client: str, request_line: str, status: int) -> None:
        self.log_access(f'{client} "{_log_text(request_line, quote=True)}" {status}')

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
        if self._dispatch_now is not None:
            self._dispatch_now = dispatch

    def _running(self) -> HttpLoop:
        if self._loop is None:
            raise RuntimeError("the server is not running: use it as a context manager or call start() first")
        return self._loop

    def _api_dispatcher(self) -> Dispatcher:
        from pytest_pvemock.api.app import PveApi

        return PveApi(self.cluster, validate=self._validate).handle

    def _issue_tls(self) -> ServerTls | NodeTls:
        directory = self._cert_dir
        if directory is None:
            directory = self._own_cert_dir = Path(tempfile.mkdtemp(prefix="pvemock-tls-"))
        if getattr(self.cluster, "node_certificates", None) is not None and self.cluster.nodes:
            return NodeTls(directory, self.cluster)
        names = certificate_names(self.host, getattr(self.cluster, "hosts", ()) or ())
        return issue_server_tls(directory, names)


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_LOG_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
_LOG_ESCAPES_QUOTED = {**_LOG_ESCAPES, ord("\\"): "\\\\", ord('"'): '\\"'}


def _log_text(text: str, quote: bool = False) -> str:
    """``text`` safe for a terminal and a log reader: control characters as ``\\xNN`` (and, inside a quoted
    field, ``\\`` and ``"`` escaped, as Apache writes its request line)."""
    return text.translate(_LOG_ESCAPES_QUOTED if quote else _LOG_ESCAPES)


def _json_string(text: str) -> bytes:
    import json

    return json.dumps(text).encode()
