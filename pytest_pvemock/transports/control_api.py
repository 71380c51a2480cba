"""The control API of :class:`~pytest_pvemock.transports.server.PveServer`: drive the fake cluster over HTTP.

A test suite in any language can move the cluster's clock, power nodes off and on, cut their network, put them
in maintenance, make guests fail, inject API errors, read the log of PVE API requests, load a scenario, dump the
cluster as one and go back to the starting state, on the same server as the PVE API but under ``/pvemock-api/``
(outside ``/api2``, so no PVE path can ever collide with it). JSON in and out (scenarios: YAML); errors are
``{"message": ...}`` with a 4xx status. Only root@pam may call it, with a PVE ticket (cookie, plus the
``CSRFPreventionToken`` header on writes, as pveproxy wants) or one of root@pam's API tokens. Its OpenAPI 3.1
document (``GET /pvemock-api/openapi.json``, the one call without credentials) is made from :data:`ROUTES`, the
table the calls are answered from.

Also here: :class:`ServerClock`, which makes the cluster's virtual clock follow wall time (``realtime``) or
move only when told (``manual``).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema

from pytest_pvemock.api.auth import Authenticator, AuthFailure
from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.errors import PVEError

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
ROOT = "root@pam"
_API_PREFIXES = ("/api2/json", "/api2/extjs")
JSON_TYPE = "application/json;charset=UTF-8"
YAML_TYPE = "application/yaml;charset=UTF-8"


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
        """Take over ``cluster``'s clock from now on (again after a reset or a scenario load)."""
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


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def is_api_path(path: str) -> bool:
    return path.startswith(_API_PREFIXES)


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ControlHost:
    """What the control API drives: the server's cluster (the same object for the server's whole life: a reset or
    a scenario load changes its state in place), its clock, and the scenario a reset goes back to."""

    def __init__(
        self,
        cluster: FakeCluster,
        server_clock: ServerClock,
        rebuilt: Callable[[], None],
        login: Callable[[FakeCluster], object] | None = None,
    ) -> None:
        import copy

        self.cluster = cluster
        self.server_clock = server_clock
        self._rebuilt = rebuilt
        #: The credentials the server was started with (``pvemock serve --user/--password/--token``), given again
        #: to every scenario loaded: the control API's caller must not lock itself out.
        self._login = login
        self._start = copy.deepcopy(cluster)
        #: Churn of the server (``pvemock serve --churn``), if any: its event log is ``GET /pvemock-api/events``.
        self.churn: Any = None
        server_clock.attach(cluster)

    def reset_cluster(self) -> None:
        """Back to the cluster as it was when the server started or the last scenario was loaded."""
        from pytest_pvemock.model.cluster_state import become

        become(self.cluster, self._start)
        self._after_new_state()

    def load_scenario(self, text: str) -> None:
        """Replace the cluster's state with the scenario ``text`` (YAML); it becomes what a reset goes back to.

        The server's credentials stay: its ticket key, the passwords and token secrets of the users and tokens the
        scenario declares without one (a dump of this server loads back with the same), and the login the server
        was started with (:func:`~pytest_pvemock.model.cluster_state.keep_credentials`).
        """
        import copy

        from pytest_pvemock.model.builders.scenario import spec_from_text
        from pytest_pvemock.model.cluster import FakeCluster
        from pytest_pvemock.model.cluster_state import become, keep_credentials

        spec = spec_from_text(text, "the scenario body")
        built = spec.build(FakeCluster)
        keep_credentials(self.cluster, built, spec)
        if self._login is not None:
            self._login(built)
        self._start = copy.deepcopy(built)
        become(self.cluster, built)
        self._after_new_state()

    def _after_new_state(self) -> None:
        self.server_clock.attach(self.cluster)
        if self.churn is not None:
            self.churn.attach(self.cluster)
        self._rebuilt()


@dataclass
class Call:
    """One control API request: the request, its path parameters, its query and its (JSON) body."""

    request: ApiRequest
    params: dict[str, str]
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


Handler = Callable[[ControlHost, Call], Any]


@dataclass(frozen=True)
class QueryParameter:
    name: str
    schema: dict[str, Any]
    description: str


@dataclass(frozen=True)
class ControlRoute:
    """One call of the control API: what answers it and what its OpenAPI document says about it."""

    method: str
    template: str  # below /pvemock-api, e.g. /nodes/{node}/power-off
    handler: Handler
    summary: str
    answer: dict[str, Any]  # JSON Schema of the 200 answer (a $ref into the components)
    body: dict[str, Any] | None = None  # JSON Schema of a JSON body
    query: tuple[QueryParameter, ...] = ()
    body_type: str = "application/json"
    answer_type: str = "application/json"
    public: bool = False
    tag: str = "cluster"

    @property
    def pattern(self) -> re.Pattern[str]:
        return _template_pattern(self.template)

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.template)


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "/?$")


# ---- answers ----------------------------------------------------------------------------------------------------


def clock_state(host: ControlHost, call: Call | None = None) -> dict[str, Any]:
    clock = host.cluster.clock
    server_clock = host.server_clock
    return {
        "now": clock.now(),
        "iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.now())),
        "mode": server_clock.mode if server_clock.mode != "instant" else clock.task_mode,
        "speed": server_clock.speed if server_clock.mode == "realtime" else None,
        "pending": clock.pending(),
    }


def _after_change(host: ControlHost) -> None:
    cluster = host.cluster
    host.server_clock.rebase(cluster)
    cluster.ha.after_request()
    cluster.revision.touch()


def advance_clock(host: ControlHost, call: Call) -> dict[str, Any]:
    host.cluster.clock.advance(call.body["seconds"])
    _after_change(host)
    return clock_state(host)


def settle_clock(host: ControlHost, call: Call) -> dict[str, Any]:
    try:
        host.cluster.clock.settle()
    except RuntimeError as error:
        raise ControlError(409, str(error)) from None
    _after_change(host)
    return clock_state(host)


def reset(host: ControlHost, call: Call) -> dict[str, Any]:
    host.reset_cluster()
    return clock_state(host)


def requests_logged(host: ControlHost, call: Call) -> dict[str, Any]:
    query = call.query
    entries = host.cluster.requests.filtered(
        method=query.get("method"), path=query.get("path"), status=query.get("status"), since=query.get("since")
    )
    return {"requests": [entry.as_json() for entry in entries]}


def clear_requests(host: ControlHost, call: Call) -> dict[str, Any]:
    host.cluster.requests.clear()
    return {"requests": []}


def _node_state(host: ControlHost, name: str) -> dict[str, Any]:
    cluster = host.cluster
    node = cluster.node(name)
    ha_state = cluster.ha.node_hastate(node) if cluster.ha.active else None
    return {
        "node": name,
        "online": node.online,
        "power": cluster.ha.power.get(name, node.online),
        "network": cluster.ha.network.get(name, True),
        "ha_state": ha_state,
    }


def _node_action(action: str) -> Handler:
    def answer(host: ControlHost, call: Call) -> dict[str, Any]:
        cluster = host.cluster
        name = _need_node(host, call.params["node"])
        if action in ("power-off", "power-on"):
            cluster.set_node_online(name, action == "power-on")
        elif action in ("cut-network", "restore-network"):
            cluster.ha.set_network(name, action == "restore-network")
        elif action == "reboot":
            cluster.ha.shutdown_node(name, reboot=True)
        cluster.ha.after_request()
        return _node_state(host, name)

    answer.__name__ = action.replace("-", "_")
    return answer


def node_maintenance(host: ControlHost, call: Call) -> dict[str, Any]:
    """``ha-manager crm-command node-maintenance enable|disable NODE``: HA moves the node's services away (and back)."""
    name = _need_node(host, call.params["node"])
    if call.body["enable"]:
        host.cluster.ha.enable_maintenance(name)
    else:
        host.cluster.ha.disable_maintenance(name)
    return _node_state(host, name)


def _need_node(host: ControlHost, name: str) -> str:
    if host.cluster.find_node(name) is None:
        known = ", ".join(node.name for node in host.cluster.nodes)
        raise ControlError(404, f"no such node '{name[:100]}' (nodes: {known})")
    return name


def _need_guest(host: ControlHost, vmid: str) -> Any:
    guest = host.cluster.find_guest(vmid) if vmid.isdigit() else None
    if guest is None:
        raise ControlError(404, f"no such guest '{vmid[:100]}'")
    return guest


def _guest_state(host: ControlHost, guest: Any) -> dict[str, Any]:
    cluster = host.cluster
    ha = cluster.ha.guest_ha_status(guest) if cluster.ha.active else None
    return {
        "vmid": guest.vmid,
        "node": guest.node,
        "status": guest.run_state,
        "ha_state": (ha or {}).get("state") if ha and ha.get("managed") else None,
    }


def _ha_fault(kind: str) -> Handler:
    def answer(host: ControlHost, call: Call) -> dict[str, Any]:
        cluster = host.cluster
        guest = _need_guest(host, call.params["vmid"])
        sid = cluster.ha.sid(guest)
        if sid not in cluster.ha.service_config:
            raise ControlError(409, f"guest {guest.vmid} is not an HA resource ({sid}): add it to HA first")
        try:
            if kind == "fail-starts":
                cluster.ha.fail_starts(sid, call.body.get("count", 1))
            elif kind == "fail-migrations":
                cluster.ha.fail_migrations(sid, call.body.get("count", 1))
            else:
                cluster.ha.set_error(sid)
        except PVEError as error:
            raise ControlError(409, error.message) from None
        cluster.ha.after_request()
        return _guest_state(host, guest)

    answer.__name__ = kind.replace("-", "_")
    return answer


def injected_errors(host: ControlHost, call: Call) -> dict[str, Any]:
    return {"errors": [rule.as_json() for rule in host.cluster.faults]}


def inject_error(host: ControlHost, call: Call) -> dict[str, Any]:
    body = call.body
    rule = host.cluster.inject_error(
        body["method"],
        body["path"],
        code=body.get("code", 500),
        message=body.get("message", "injected error"),
        times=body.get("times", 1),
    )
    return {"error": rule.as_json()}


def clear_errors(host: ControlHost, call: Call) -> dict[str, Any]:
    host.cluster.clear_errors()
    return {"errors": []}


def dump_scenario(host: ControlHost, call: Call) -> str:
    from pytest_pvemock.model.builders.scenario_dump import scenario_yaml

    return scenario_yaml(host.cluster)


def load_scenario(host: ControlHost, call: Call) -> dict[str, Any]:
    from pytest_pvemock.model.builders.scenario import ScenarioError

    try:
        text = call.request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ControlError(400, "the scenario must be UTF-8 YAML text") from None
    if not text.strip():
        raise ControlError(400, "the body must be a scenario (YAML text), not empty")
    try:
        host.load_scenario(text)
    except (ScenarioError, ValueError, PVEError) as error:
        message = error.message if isinstance(error, PVEError) else str(error)
        raise ControlError(400, message) from None
    cluster = host.cluster
    return {**clock_state(host), "nodes": len(cluster.nodes), "guests": len(cluster.guests)}


def events(host: ControlHost, call: Call) -> dict[str, Any]:
    churn = host.churn
    if churn is None:
        return {"churn": None, "events": []}
    since = call.query.get("since")
    return {
        "churn": churn.settings_json(),
        "events": [event.as_json() for event in churn.events if since is None or event.time >= since],
    }


def openapi(host: ControlHost, call: Call) -> dict[str, Any]:
    from pytest_pvemock.transports.control_openapi import openapi_document

    return openapi_document()


# ---- the route table --------------------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


_COUNT_BODY = {
    "type": "object",
    "properties": {"count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1}},
    "additionalProperties": False,
}

_NODE_ACTIONS = {
    "power-off": "Power the node off: its guests die at once; HA fences it after ~60 s and recovers its services",
    "power-on": "Power the node on again (its daemons start, HA takes it back)",
    "cut-network": "Cut the node's network: it leaves the quorate partition but keeps running until fenced",
    "restore-network": "Restore the node's network",
    "reboot": "Reboot the node cleanly (HA applies the datacenter's shutdown_policy first)",
}

ROUTES: tuple[ControlRoute, ...] = (
    ControlRoute("GET", "/openapi.json", openapi, "This document (no credentials needed)",
                 {"type": "object"}, public=True, tag="meta"),
    ControlRoute("GET", "/clock", clock_state, "The cluster's clock: time, mode, speed, pending tasks",
                 _ref("Clock"), tag="clock"),
    ControlRoute("POST", "/clock/advance", advance_clock,
                 "Move the clock on by 'seconds', running the tasks and HA rounds that fall due", _ref("Clock"),
                 body={"type": "object", "required": ["seconds"], "additionalProperties": False,
                       "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": MAX_ADVANCE}}},
                 tag="clock"),
    ControlRoute("POST", "/clock/settle", settle_clock, "Run every pending task and HA round until all is quiet",
                 _ref("Clock"), tag="clock"),
    ControlRoute("POST", "/reset", reset,
                 "Back to the cluster the server started with (or the last scenario loaded); the same cluster object",
                 _ref("Clock"), tag="state"),
    ControlRoute("GET", "/scenario", dump_scenario,
                 "The whole cluster as scenario YAML, never with a secret (load it back with POST /scenario or "
                 "pvemock serve --scenario)",
                 {"type": "string"}, answer_type="application/yaml", tag="state"),
    ControlRoute("POST", "/scenario", load_scenario,
                 "Replace the cluster's state with a scenario (YAML body); a reset then goes back to it",
                 _ref("Loaded"), body={"type": "string"}, body_type="application/yaml", tag="state"),
    ControlRoute("GET", "/requests", requests_logged,
                 "The log of PVE API requests (secrets masked), oldest first, filtered", _ref("Requests"),
                 tag="requests",
                 query=(QueryParameter("method", {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]},
                                       "only this method"),
                        QueryParameter("path", {"type": "string"},
                                       "only paths under this one (/nodes, with or without /api2/json)"),
                        QueryParameter("status", {"type": "integer"}, "only this HTTP status"),
                        QueryParameter("since", {"type": "integer"}, "only requests answered at this cluster time "
                                       "(epoch seconds) or later"))),
    ControlRoute("DELETE", "/requests", clear_requests, "Clear the request log", _ref("Requests"), tag="requests"),
    *(
        ControlRoute("POST", f"/nodes/{{node}}/{action}", _node_action(action), summary, _ref("Node"), tag="nodes")
        for action, summary in _NODE_ACTIONS.items()
    ),
    ControlRoute("POST", "/nodes/{node}/maintenance", node_maintenance,
                 "ha-manager crm-command node-maintenance enable|disable: HA moves the node's services away and back",
                 _ref("Node"), tag="nodes",
                 body={"type": "object", "required": ["enable"], "additionalProperties": False,
                       "properties": {"enable": {"type": "boolean"}}}),
    ControlRoute("POST", "/guests/{vmid}/fail-starts", _ha_fault("fail-starts"),
                 "Make the next 'count' starts of an HA guest fail (max_restart, max_relocate, then HA 'error')",
                 _ref("Guest"), body=_COUNT_BODY, tag="faults"),
    ControlRoute("POST", "/guests/{vmid}/fail-migrations", _ha_fault("fail-migrations"),
                 "Make the next 'count' migrations of an HA guest fail", _ref("Guest"), body=_COUNT_BODY,
                 tag="faults"),
    ControlRoute("POST", "/guests/{vmid}/error", _ha_fault("error"),
                 "Put an HA guest's service in 'error' (only state=disabled gets it out, as on PVE)", _ref("Guest"),
                 tag="faults"),
    ControlRoute("GET", "/errors", injected_errors, "The injected API errors, with their uses", _ref("Errors"),
                 tag="faults"),
    ControlRoute("POST", "/errors/inject", inject_error,
                 "Answer a PVE API method and path (concrete, or a template with {params}) with an error",
                 _ref("Injected"), tag="faults",
                 body={"type": "object", "required": ["method", "path"], "additionalProperties": False,
                       "properties": {
                           "method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE", "*"]},
                           "path": {"type": "string", "pattern": "^/", "maxLength": 1000},
                           "code": {"type": "integer", "minimum": 400, "maximum": 599, "default": 500},
                           "message": {"type": "string", "maxLength": 10000, "default": "injected error"},
                           "times": {"type": ["integer", "null"], "minimum": 1, "default": 1},
                       }}),
    ControlRoute("POST", "/errors/clear", clear_errors, "Remove every injected API error", _ref("Errors"),
                 tag="faults"),
    ControlRoute("GET", "/events", events, "The churn's events so far (pvemock serve --churn), oldest first",
                 _ref("Events"), tag="churn",
                 query=(QueryParameter("since", {"type": "integer"}, "only events at this cluster time or later"),)),
)  # fmt: skip


class ControlApi:
    """Answers ``/pvemock-api/...`` for a server from :data:`ROUTES`; see the module docstring."""

    def __init__(self, host: ControlHost) -> None:
        self.host = host
        self._auth: Authenticator | None = None

    def answer(self, request: ApiRequest) -> ApiResponse:
        try:
            route, params = self._route(request)
            if not route.public:
                self._check_root(request)
            result = self._run(route, params, request)
            if route.answer_type == "application/yaml":
                return ApiResponse(200, str(result).encode(), headers={"Content-Type": YAML_TYPE})
            return _json_response(200, result)
        except ControlError as error:
            return _json_response(error.status, {"message": error.message})

    def call(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        """Run a call in-process, as the server's owner (no credentials): ``call("POST", "/clock/advance",
        {"seconds": 60})``; a dict or list body is sent as JSON, a str as it is. Raises :class:`ControlError`."""
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode() if body is not None else b""
        request = ApiRequest(method.upper(), CONTROL_PREFIX + path, query=query, body=data)
        route, params = self._route(request)
        return self._run(route, params, request)

    def _run(self, route: ControlRoute, params: dict[str, str], request: ApiRequest) -> Any:
        return route.handler(self.host, Call(request, params, _query(route, request), _body(route, request)))

    def _check_root(self, request: ApiRequest) -> None:
        cluster = self.host.cluster
        if self._auth is None:
            self._auth = Authenticator(cluster)
        try:
            principal = self._auth.authenticate(request, request.method, request.path)
        except AuthFailure as failure:
            raise ControlError(401, failure.message) from None
        if principal.userid != ROOT:
            raise ControlError(403, f"only {ROOT} may use the control API, not {principal.userid}")

    @staticmethod
    def _route(request: ApiRequest) -> tuple[ControlRoute, dict[str, str]]:
        path = request.path[len(CONTROL_PREFIX) :] or "/"
        allowed = []
        for route, pattern in _COMPILED:
            match = pattern.match(path)
            if match is None:
                continue
            if route.method == request.method:
                return route, match.groupdict()
            allowed.append(route.method)
        if allowed:
            raise ControlError(405, f"method {request.method} not allowed here (use {', '.join(allowed)})")
        raise ControlError(404, f"no such control API call: {request.method} {request.path[:200]}")


_COMPILED = [(route, route.pattern) for route in ROUTES]
_VALIDATORS: dict[int, Any] = {}


def _query(route: ControlRoute, request: ApiRequest) -> dict[str, Any]:
    from urllib.parse import parse_qsl

    known = {parameter.name: parameter for parameter in route.query}
    values: dict[str, Any] = {}
    for name, text in parse_qsl(request.query, keep_blank_values=True):
        parameter = known.get(name)
        if parameter is None:
            listed = ", ".join(known) or "none"
            raise ControlError(400, f"unknown query parameter '{name[:100]}' (known: {listed})")
        kind = parameter.schema.get("type")
        if kind == "integer":
            if not re.fullmatch(r"-?\d{1,15}", text):
                raise ControlError(400, f"'{name}' must be an integer, not '{text[:100]}'")
            values[name] = int(text)
        elif kind == "boolean":
            if text.lower() not in ("1", "0", "true", "false", ""):
                raise ControlError(400, f"'{name}' must be 1, 0, true or false, not '{text[:100]}'")
            values[name] = text.lower() in ("1", "true", "")
        else:
            enum = parameter.schema.get("enum")
            if enum is not None and text.upper() not in enum:
                raise ControlError(400, f"'{name}' must be one of {', '.join(enum)}, not '{text[:100]}'")
            values[name] = text.upper() if enum is not None else text
    return values


def _body(route: ControlRoute, request: ApiRequest) -> Any:
    if route.body is None or route.body_type != "application/json":
        return None
    if not request.body.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):
            raise ControlError(400, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    validator = _VALIDATORS.get(id(route))
    if validator is None:
        validator = _VALIDATORS[id(route)] = jsonschema.Draft202012Validator(route.body)
    error = next(iter(validator.iter_errors(data)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        if not where and error.validator == "required":
            where = str(error.message).split("'")[1] if "'" in error.message else ""
        raise ControlError(400, f"'{where}': {error.message}" if where else error.message)
    return data


def _json_response(status: int, data: Any) -> ApiResponse:
    body = json.dumps(data).encode()
    reason = "OK" if status == 200 else str(data.get("message", ""))[:200]
    return ApiResponse(status, body, headers={"Content-Type": JSON_TYPE}, reason=reason)


class ServerControl:
    """The control API in Python (``PveServer.control``): the same calls, run in-process under the cluster's lock.

    ``server.control.advance(60)``, ``.settle()``, ``.reset()``, ``.power_off("pve2")`` (and ``power_on``,
    ``reboot``, ``cut_network``, ``restore_network``), ``.maintenance("pve1", True)``, ``.fail_starts(100, 3)``,
    ``.fail_migrations(100)``, ``.set_error(100)``, ``.inject_error("GET", "/nodes", 503)``, ``.clear_errors()``,
    ``.requests(path="/nodes")``, ``.dump_scenario()``, ``.load_scenario(text)``, ``.events()``; each answers what
    the HTTP call answers (a dict, or the YAML text of a dump). A refusal raises :class:`ControlError`.
    """

    def __init__(self, api: ControlApi, lock: Any) -> None:
        self._api = api
        self._lock = lock

    def call(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        with self._lock:
            return self._api.call(method, path, body, query)

    def clock(self) -> dict[str, Any]:
        return dict(self.call("GET", "/clock"))

    def advance(self, seconds: float) -> dict[str, Any]:
        return dict(self.call("POST", "/clock/advance", {"seconds": seconds}))

    def settle(self) -> dict[str, Any]:
        return dict(self.call("POST", "/clock/settle"))

    def reset(self) -> dict[str, Any]:
        return dict(self.call("POST", "/reset"))

    def power_off(self, node: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/nodes/{node}/power-off"))

    def power_on(self, node: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/nodes/{node}/power-on"))

    def reboot(self, node: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/nodes/{node}/reboot"))

    def cut_network(self, node: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/nodes/{node}/cut-network"))

    def restore_network(self, node: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/nodes/{node}/restore-network"))

    def maintenance(self, node: str, enable: bool = True) -> dict[str, Any]:
        return dict(self.call("POST", f"/nodes/{node}/maintenance", {"enable": enable}))

    def fail_starts(self, vmid: int, count: int = 1) -> dict[str, Any]:
        return dict(self.call("POST", f"/guests/{vmid}/fail-starts", {"count": count}))

    def fail_migrations(self, vmid: int, count: int = 1) -> dict[str, Any]:
        return dict(self.call("POST", f"/guests/{vmid}/fail-migrations", {"count": count}))

    def set_error(self, vmid: int) -> dict[str, Any]:
        return dict(self.call("POST", f"/guests/{vmid}/error"))

    def inject_error(
        self, method: str, path: str, code: int = 500, message: str = "injected error", times: int | None = 1
    ) -> dict[str, Any]:
        body = {"method": method.upper(), "path": path, "code": code, "message": message, "times": times}
        return dict(self.call("POST", "/errors/inject", body)["error"])

    def clear_errors(self) -> None:
        self.call("POST", "/errors/clear")

    def requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None, since: int | None = None
    ) -> list[dict[str, Any]]:
        from urllib.parse import urlencode

        query = {"method": method, "path": path, "status": status, "since": since}
        text = urlencode({key: value for key, value in query.items() if value is not None})
        return list(self.call("GET", "/requests", query=text)["requests"])

    def dump_scenario(self) -> str:
        return str(self.call("GET", "/scenario"))

    def load_scenario(self, text: str) -> dict[str, Any]:
        return dict(self.call("POST", "/scenario", text))

    def events(self, since: int | None = None) -> list[dict[str, Any]]:
        return list(self.call("GET", "/events", query=f"since={since}" if since is not None else "")["events"])
