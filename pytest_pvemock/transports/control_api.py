"""The control API of :class:`~pytest_pvemock.transports.server.PveServer`: drive the fake cluster over HTTP.

A test suite in any language can move the cluster's clock, power nodes off and on, cut their network, go back
to the starting state and read the log of PVE API requests, on the same server as the PVE API but under
``/pvemock-api/`` (outside ``/api2``, so no PVE path can ever collide with it). JSON in and out; errors are
``{"message": ...}`` with a 4xx status. Only root@pam may call it, with a PVE ticket (cookie, plus the
``CSRFPreventionToken`` header on writes, as pveproxy wants) or one of root@pam's API tokens.

Also here: :class:`ServerClock`, which makes the cluster's virtual clock follow wall time (``realtime``) or
move only when told (``manual``), and :class:`RequestLog`, the bounded, secret-free log of API requests.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pytest_pvemock.api.auth import Authenticator, AuthFailure
from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.cassette.filters import masked_parameters

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

CONTROL_PREFIX = "/pvemock-api"
#: Clock modes of a server: ``instant`` (the cluster's own, default: tasks end at once, time stands still),
#: ``manual`` (tasks take their time; the clock moves only through the control API) and ``realtime``.
CLOCK_MODES = ("instant", "manual", "realtime")
#: Longest step of one ``clock/advance`` call (HA runs a round every 10 s of it: a day is 8640 rounds).
MAX_ADVANCE = 86400
#: Longest wall-time gap a realtime clock catches up in one go; beyond it the clock skips the rest.
MAX_CATCH_UP = 86400
#: PVE API requests the request log keeps (newest last).
REQUESTS_KEPT = 1000
ROOT = "root@pam"
_API_PREFIXES = ("/api2/json", "/api2/extjs")


class ServerClock:
    """Drives a cluster's clock for a server: in ``realtime``, virtual time follows wall time ``speed`` times faster.

    :meth:`catch_up` runs before each request is answered (under the cluster lock): it advances the clock to
    where wall time says it should be, running the tasks and HA rounds that fall due on the way.
    """

    def __init__(self, mode: str = "instant", speed: float = 1.0, wall: Callable[[], float] = time.monotonic) -> None:
        if mode not in CLOCK_MODES:
            raise ValueError(f"clock must be one of {', '.join(CLOCK_MODES)}, not {mode!r}")
        if not (math.isfinite(speed) and 0 < speed <= 1000):
            raise ValueError(f"speed must be a number above 0 and at most 1000, not {speed!r}")
        self.mode = mode
        self.speed = float(speed)
        self._wall = wall
        self._base_wall = 0.0
        self._base_virtual = 0

    def attach(self, cluster: FakeCluster) -> None:
        """Take over ``cluster``'s clock from now on (a new cluster after a reset, too)."""
        if self.mode != "instant":
            cluster.clock.task_mode = "manual"
        self.rebase(cluster)

    def rebase(self, cluster: FakeCluster) -> None:
        """Count wall time from here (after the clock was moved by hand)."""
        self._base_wall = self._wall()
        self._base_virtual = cluster.clock.now()

    def catch_up(self, cluster: FakeCluster) -> None:
        if self.mode != "realtime":
            return
        target = self._base_virtual + int((self._wall() - self._base_wall) * self.speed)
        behind = target - cluster.clock.now()
        if behind > MAX_CATCH_UP:
            cluster.clock.advance(MAX_CATCH_UP)
            self.rebase(cluster)
        elif behind > 0:
            cluster.clock.advance(behind)


@dataclass(frozen=True)
class LoggedRequest:
    time: int  # cluster time when it was answered
    method: str
    path: str
    parameters: tuple[tuple[str, str], ...]
    status: int
    duration_ms: float

    def as_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "parameters": [list(pair) for pair in self.parameters],
            "status": self.status,
            "duration_ms": self.duration_ms,
        }


class RequestLog:
    """The last :data:`REQUESTS_KEPT` PVE API requests, every secret parameter masked before it is kept."""

    def __init__(self, kept: int = REQUESTS_KEPT) -> None:
        self.entries: deque[LoggedRequest] = deque(maxlen=kept)

    def record(self, request: ApiRequest, status: int, now: int, seconds: float) -> None:
        pairs = parse_qsl(request.query, keep_blank_values=True) + _body_pairs(request)
        self.entries.append(
            LoggedRequest(
                time=now,
                method=request.method,
                path=request.path,
                parameters=masked_parameters(request.method, request.path, pairs) if pairs else (),
                status=status,
                duration_ms=round(seconds * 1000, 3),
            )
        )

    def clear(self) -> None:
        self.entries.clear()


def _body_pairs(request: ApiRequest) -> list[tuple[str, str]]:
    if not request.body or (request.header("Content-Type") or "").lower().startswith("multipart/"):
        return []
    text = request.body.decode("utf-8", "replace")
    if not text.lstrip().startswith("{"):
        return parse_qsl(text, keep_blank_values=True)
    try:  # a hostile body nests deeper than Python recurses: logged without parameters
        data = json.loads(text)
        if not isinstance(data, dict):
            return []
        return [(str(key), value if isinstance(value, str) else json.dumps(value)) for key, value in data.items()]
    except (ValueError, RecursionError):
        return []


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def is_api_path(path: str) -> bool:
    return path.startswith(_API_PREFIXES)


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ControlApi:
    """Answers ``/pvemock-api/...`` for a server; see the module docstring for what it offers."""

    def __init__(self, host: ControlHost) -> None:
        self.host = host
        self._auth: Authenticator | None = None

    def answer(self, request: ApiRequest) -> ApiResponse:
        try:
            self._check_root(request)
            return _json_response(200, self._route(request))
        except ControlError as error:
            return _json_response(error.status, {"message": error.message})

    # -- who may call ------------------------------------------------------------------------------------------

    def _check_root(self, request: ApiRequest) -> None:
        cluster = self.host.cluster
        if self._auth is None or self._auth.cluster is not cluster:
            self._auth = Authenticator(cluster)
        try:
            principal = self._auth.authenticate(request, request.method, request.path)
        except AuthFailure as failure:
            raise ControlError(401, failure.message) from None
        if principal.userid != ROOT:
            raise ControlError(403, f"only {ROOT} may use the control API, not {principal.userid}")

    # -- routes ------------------------------------------------------------------------------------------------

    def _route(self, request: ApiRequest) -> dict[str, Any]:
        parts = [part for part in request.path[len(CONTROL_PREFIX) :].split("/") if part]
        method = request.method
        key = "/".join(parts)
        if key == "clock":
            self._need(method, "GET")
            return self._clock_state()
        if key == "clock/advance":
            self._need(method, "POST")
            seconds = _body(request).get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
                raise ControlError(400, "'seconds' must be a number of seconds")
            if not 0 <= seconds <= MAX_ADVANCE:
                raise ControlError(400, f"'seconds' must be between 0 and {MAX_ADVANCE}, not {seconds}")
            self.host.cluster.clock.advance(seconds)
            self._after_change()
            return self._clock_state()
        if key == "clock/settle":
            self._need(method, "POST")
            try:
                self.host.cluster.clock.settle()
            except RuntimeError as error:
                raise ControlError(409, str(error)) from None
            self._after_change()
            return self._clock_state()
        if key == "reset":
            self._need(method, "POST")
            self.host.reset_cluster()
            return self._clock_state()
        if key == "requests":
            if method == "DELETE":
                self.host.request_log.clear()
                return {"requests": []}
            self._need(method, "GET")
            return {"requests": [entry.as_json() for entry in self.host.request_log.entries]}
        if len(parts) == 3 and parts[0] == "nodes" and parts[2] in _NODE_ACTIONS:
            self._need(method, "POST")
            return self._node_action(parts[1], parts[2])
        raise ControlError(404, f"no such control API call: {method} {request.path[:200]}")

    @staticmethod
    def _need(method: str, allowed: str) -> None:
        if method != allowed:
            raise ControlError(405, f"method {method} not allowed here (use {allowed})")

    def _clock_state(self) -> dict[str, Any]:
        clock = self.host.cluster.clock
        server_clock = self.host.server_clock
        return {
            "now": clock.now(),
            "iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.now())),
            "mode": server_clock.mode if server_clock.mode != "instant" else clock.task_mode,
            "speed": server_clock.speed if server_clock.mode == "realtime" else None,
            "pending": clock.pending(),
        }

    def _after_change(self) -> None:
        cluster = self.host.cluster
        self.host.server_clock.rebase(cluster)
        cluster.ha.after_request()
        cluster.revision.touch()

    def _node_action(self, name: str, action: str) -> dict[str, Any]:
        cluster = self.host.cluster
        node = cluster.find_node(name)
        if node is None:
            raise ControlError(404, f"no such node '{name[:100]}'")
        _run_node_action(cluster, name, action)
        cluster.ha.after_request()
        return {"node": name, "online": node.online, "power": cluster.ha.power.get(name, node.online)}


_NODE_ACTIONS = ("power-off", "power-on", "cut-network", "restore-network", "reboot")


def _run_node_action(cluster: FakeCluster, name: str, action: str) -> None:
    """What a node event does to the model (HA notices it in its next rounds: fencing, recovery)."""
    if action in ("power-off", "power-on"):
        cluster.set_node_online(name, action == "power-on")
    elif action in ("cut-network", "restore-network"):
        cluster.ha.set_network(name, action == "restore-network")
    elif action == "reboot":
        cluster.ha.shutdown_node(name, reboot=True)


class ControlHost:
    """What the control API drives: the server's cluster (replaced on reset), its clock and its request log."""

    def __init__(self, cluster: FakeCluster, server_clock: ServerClock, replace: Callable[[FakeCluster], None]) -> None:
        self.cluster = cluster
        self.server_clock = server_clock
        self.request_log = RequestLog()
        self._replace = replace
        self._start = copy.deepcopy(cluster)
        server_clock.attach(cluster)

    def reset_cluster(self) -> None:
        """Back to the cluster as it was when the server started (a new :class:`FakeCluster`, same lock)."""
        fresh = copy.deepcopy(self._start)
        fresh.lock = self.cluster.lock
        self.server_clock.attach(fresh)
        self.cluster = fresh
        self._replace(fresh)


def _body(request: ApiRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        raise ControlError(400, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


def _json_response(status: int, data: dict[str, Any]) -> ApiResponse:
    body = json.dumps(data).encode()
    reason = "OK" if status == 200 else str(data.get("message", ""))[:200]
    return ApiResponse(status, body, headers={"Content-Type": "application/json;charset=UTF-8"}, reason=reason)
