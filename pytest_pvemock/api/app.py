"""The API app: one :class:`ApiRequest` in, one :class:`ApiResponse` out, as pveproxy answers it.

The steps follow pveproxy and PVE's RPC environment, in their order:

1. split ``/api2/<format>/<path>`` (``json`` or ``extjs``);
2. authenticate (ticket cookie or header, CSRF token for writes, or API token) -> 401;
3. injected faults (``cluster.inject_error``) -> their status and message;
4. resolve the method and path against the version's schema -> 501 ``Method 'GET /x' not implemented``; the
   :class:`~pytest_pvemock.api.router.Router` says who answers it (``Router.explain``, ``pvemock routes``);
5. collect the parameters (path, query, body), refuse API tokens where the method does not allow them (403),
   check the schema's ``permissions`` for callers other than root@pam (403, ``api/permissions.py``), answer 595
   when the method runs on a node that is offline, check and convert the parameters -> 400;
6. run the route's answer; its :class:`~pytest_pvemock.errors.PVEError` becomes PVE's status and message;
7. validate the answer against the method's ``returns`` schema when asked (a violation raises
   :class:`~pytest_pvemock.schema.validation.SchemaValidationError` out of the transport, failing the test);
8. wrap it in PVE's envelope.

:meth:`PveApi.handle` never raises anything else: a bug inside the fake becomes HTTP 500 with the exception's
text (and a warning naming it), never a traceback inside the client library.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
import time
import traceback
import warnings
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from pytest_pvemock.api import envelope, params
from pytest_pvemock.api.auth import ANONYMOUS, Authenticator, AuthFailure
from pytest_pvemock.api.handler import HandlerContext, Principal, Result
from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.api.router import Router
from pytest_pvemock.api.setup_requests import answer_setup_requests
from pytest_pvemock.errors import ParameterError, PermissionDenied, PVEError

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.schema.registry import Endpoint

#: pveproxy's $limit_max_post: a longer body is refused with 501 before it is read (pve-http-server
#: src/PVE/APIServer/AnyEvent.pm, commit 5c9e4ea7, line 54 and 1706).
MAX_POST = 512 * 1024
INTERNAL_ERRORS_KEPT = 100
_API_PATH = re.compile(r"^/api2/+([a-z][a-z0-9]+)(/.*)?$")
_SLASHES = re.compile(r"/{2,}")
_VALID_ANSWERS: set[tuple[str, str, str, bytes]] = set()
_VALID_ANSWERS_LIMIT = 100_000
#: Paths and parameter sets whose resolution and check an app keeps (clients ask the same again and again).
_KEPT_LIMIT = 4096
_SCALARS = (str, int, float, bool)


class InternalErrorWarning(UserWarning):
    """A bug inside pytest-pvemock answered a request with HTTP 500; the warning carries the traceback."""


@functools.lru_cache(maxsize=_KEPT_LIMIT)
def split_api_path(path: str) -> tuple[str, str] | None:
    """``/api2/json/nodes/pve1/`` -> ``("json", "/nodes/pve1")``; ``None`` outside ``/api2``."""
    if "%" in path:
        path = unquote(path)
    match = _API_PATH.match(path)
    if match is None:
        return None
    rel = match.group(2) or "/"
    if "//" in rel:
        rel = _SLASHES.sub("/", rel)
    if len(rel) > 1 and rel.endswith("/"):
        rel = rel.rstrip("/") or "/"
    return match.group(1), rel


class PveApi:
    """PVE's REST API over one :class:`FakeCluster`.

    ``validate=True`` checks every successful answer against the method's ``returns`` schema and raises
    :class:`~pytest_pvemock.schema.validation.SchemaValidationError` on a violation (also kept in
    :attr:`violations`). :attr:`router` says who answers each method (see :mod:`pytest_pvemock.api.router`).
    """

    def __init__(self, cluster: FakeCluster, validate: bool = False) -> None:
        self.cluster = cluster
        self.validate = validate
        self.auth = Authenticator(cluster)
        self.violations: list[Exception] = []
        #: The tracebacks of the last :data:`INTERNAL_ERRORS_KEPT` internal errors (the oldest are dropped: a
        #: long-running ``pvemock serve`` must not grow by a traceback per request); all are counted.
        self.internal_errors: deque[str] = deque(maxlen=INTERNAL_ERRORS_KEPT)
        self.internal_error_count = 0
        self.router = Router(cluster)
        self._registry: Any = None
        # (format, method, template) -> (the last answer's snapshot, its body, whether it was found valid)
        self._snapshots: dict[tuple[str, str, str], tuple[Any, bytes, bool]] = {}
        self._uploads = 0
        # Pure functions of the release's schema, kept per app: (method, path) -> (endpoint, its info) or None;
        # (method, template, raw parameters) -> checked parameters, for answers of scalars only (copied out).
        self._endpoints: dict[tuple[str, str], tuple[Endpoint, dict[str, Any]] | None] = {}
        self._checked: dict[tuple[str, str, tuple[tuple[str, Any], ...]], dict[str, object]] = {}
        if cluster.setup_requests:  # a scenario's setup writes: answered before anything else
            answer_setup_requests(self)

    @property
    def registry(self) -> Any:
        """The schema registry of the cluster's PVE version (loaded on first use, cached by the schema layer)."""
        if self._registry is None:
            from pytest_pvemock.schema.registry import get_registry

            self._registry = get_registry(self.cluster.version)
        return self._registry

    def __call__(self, request: ApiRequest) -> ApiResponse:
        return self.handle(request)

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer ``request`` as PVE would, under the cluster's lock (whichever transport and thread calls).
        Raises only ``SchemaValidationError`` (when validating)."""
        with self.cluster.lock:
            started = time.perf_counter()
            status = 500
            try:
                response = self._answer(request)
                status = response.status
                return response
            except Exception as exc:
                if _is_schema_violation(exc):
                    self.violations.append(exc)
                    raise
                return self._internal_error(request, exc)
            finally:
                self.cluster.requests.record(
                    request.method.upper(),
                    request.path,
                    request_parameters(request),
                    status,
                    self.cluster.clock.now(),
                    time.perf_counter() - started,
                )

    def _answer(self, request: ApiRequest) -> ApiResponse:
        split = split_api_path(request.path)
        if split is None:
            return envelope.bare_error(501, "no such uri", b"no such uri")
        fmt, rel = split
        method = request.method.upper()
        try:
            principal = self.auth.authenticate(request, method, rel)
        except AuthFailure as failure:
            return envelope.bare_error(401, failure.message)
        if fmt not in envelope.FORMATS:
            message = f"no formatter for uri {rel}, {fmt}"
            return envelope.bare_error(501, message, message.encode())
        if request.body and method not in ("PUT", "POST"):
            message = f"Unexpected content for method '{method}'"
            return envelope.bare_error(501, message, message.encode())
        upload = method == "POST" and params.UPLOAD_PATH.match(rel) is not None
        if upload and request.body:  # pveproxy reads an upload into a file, without $limit_max_post
            if len(request.body) > params.MAX_UPLOAD:
                return envelope.bare_error(413, "Request Entity Too Large")
        elif len(request.body) > MAX_POST:
            message = "for data too large"
            return envelope.bare_error(501, message, message.encode())
        elif request.body and params.is_multipart(request.header("Content-Type")):
            # AnyEvent.pm 1719-1722: only the upload method takes multipart/form-data
            message = f"upload 'Content-Type '{request.header('Content-Type')}' not implemented"
            return envelope.bare_error(506, message, message.encode())
        fault = self._injected_fault(method, rel)
        if fault is not None:
            return envelope.method_error(fmt, fault.code, fault.message)
        resolved = self._resolve(method, rel)
        if resolved is None:
            return envelope.method_error(fmt, 501, f"Method '{method} {rel}' not implemented")
        try:
            return self._run(request, fmt, method, rel, *resolved, principal)
        except PVEError as error:
            return envelope.method_error(fmt, error.code or 500, error.message, error.errors)

    def _resolve(self, method: str, rel: str) -> tuple[Endpoint, dict[str, Any]] | None:
        """The schema's endpoint for ``method rel`` and its metadata (``None``: no such method), kept per path."""
        key = (method, rel)
        if key in self._endpoints:
            return self._endpoints[key]
        endpoint = self.registry.resolve(method, rel)
        found = None if endpoint is None else (endpoint, endpoint.info)
        if len(self._endpoints) >= _KEPT_LIMIT:
            self._endpoints.clear()
        self._endpoints[key] = found
        return found

    def _check_parameters(self, endpoint: Endpoint, raw: dict[str, Any]) -> dict[str, object]:
        """PVE's parameter check of ``raw``: a pure function of the schema and the values, so a check whose
        values in and out are all scalars is kept, and a copy of it handed out."""
        if not all(type(value) is str for value in raw.values()):
            return endpoint.check_parameters(raw)
        key = (endpoint.method, endpoint.template, tuple(raw.items()))
        found = self._checked.get(key)
        if found is None:
            found = endpoint.check_parameters(raw)
            if not all(type(value) in _SCALARS for value in found.values()):
                return found
            if len(self._checked) >= _KEPT_LIMIT:
                self._checked.clear()
            self._checked[key] = found
        return dict(found)

    def _injected_fault(self, method: str, rel: str) -> Any:
        for rule in self.cluster.faults:
            if rule.matches(method, rel):
                rule.consume()
                return rule
        return None

    def _run(
        self,
        request: ApiRequest,
        fmt: str,
        method: str,
        rel: str,
        endpoint: Any,
        info: dict[str, Any],
        principal: Principal,
    ) -> ApiResponse:
        template: str = endpoint.template
        upload: params.Upload | None = None
        if method == "POST" and params.UPLOAD_PATH.match(rel) is not None and request.body:
            self._uploads += 1
            raw, upload = params.decode_upload(
                request.body, request.header("Content-Type"), request.query, self._uploads
            )
            raw.update(endpoint.params)
        else:
            raw = params.collect(method, request.query, request.body, request.header("Content-Type"), endpoint.params)
        if principal.tokenid is not None and not info.get("allowtoken", 1):
            raise PermissionDenied(
                f"Permission check failed (URI '{rel}' not available with API token, need proper ticket.\n)"
            )
        self._check_permissions(info, principal, raw)
        proxy_to = info.get("proxyto")
        if proxy_to and isinstance(raw.get(proxy_to), str):
            try:
                self.cluster.require_node_reachable(raw[proxy_to])
            except PVEError as error:
                if error.code == 595:  # pveproxy's own failure to reach the node: no body, as PVE sends it
                    return envelope.bare_error(595, error.message)
                raise
        checked = self._check_parameters(endpoint, raw)
        route = self.router.route(method, template, rel)
        if route is None:
            return envelope.method_error(fmt, 501, f"Method '{method} {rel}' not implemented")
        ctx = HandlerContext(
            cluster=self.cluster,
            method=method,
            path=rel,
            template=template,
            params=checked,
            principal=principal,
            raw_params=raw,
            upload=upload,
            call=lambda method, path, args: self.call_as(principal, method, path, args),
        )
        result = route.answer(ctx)
        if isinstance(result, Result):
            data, extra, status = result.data, result.extra, result.status
            if result.snapshot is not None and not extra and status == 200:
                return self._snapshot_success(fmt, endpoint, rel, data, result.snapshot)
        else:
            data, extra, status = result, None, 200
        response = envelope.success(fmt, data, extra, status)
        if self.validate:
            self._check_returns(endpoint, rel, data, response.body)
        return response

    def call_as(self, principal: Principal, method: str, rel: str, args: dict[str, Any]) -> Any:
        """Run ``method rel`` with ``args`` for ``principal`` inside a request, as PVE's ``find_handler`` and
        ``handle`` do for ``POST /nodes/{node}/execute`` (pve-manager PVE/API2/Nodes.pm 631-660 at 14a22df3): no
        such method is ``no handler for '<path>'``, an argument naming a path parameter ``duplicate parameter``,
        then the method's permissions and parameter checks. Answers the method's data; raises its error."""
        resolved = self._resolve(method, rel)
        if resolved is None:
            raise PVEError(f"no handler for '{rel.lstrip('/')}'\n", 500)
        endpoint, info = resolved
        raw: dict[str, Any] = dict(endpoint.params)
        for name, value in args.items():
            if name in raw:
                raise ParameterError({name: "duplicate parameter"})
            raw[name] = value if isinstance(value, (str, list)) else str(value)
        self._check_permissions(info, principal, raw)
        checked = self._check_parameters(endpoint, raw)
        route = self.router.route(method, endpoint.template, rel)
        if route is None:
            raise PVEError(f"Method '{method} {rel}' not implemented", 501)
        ctx = HandlerContext(self.cluster, method, rel, endpoint.template, checked, principal, raw_params=raw,
                             call=lambda inner, path, more: self.call_as(principal, inner, path, more))  # fmt: skip
        result = route.answer(ctx)
        return result.data if isinstance(result, Result) else result

    def _snapshot_success(self, fmt: str, endpoint: Any, rel: str, data: Any, snapshot: Any) -> ApiResponse:
        """The answer's envelope, encoded (and validated) once for as long as its snapshot stays the same."""
        key = (fmt, endpoint.method, endpoint.template)
        last = self._snapshots.get(key)
        if last is not None and (last[2] or not self.validate) and last[0] == snapshot:
            return envelope.encoded_success(last[1])
        response = envelope.success(fmt, data)
        if self.validate:
            self._check_returns(endpoint, rel, data, response.body)
        self._snapshots[key] = (snapshot, response.body, self.validate)
        return response

    def _check_permissions(self, info: dict[str, Any], principal: Principal, raw: dict[str, Any]) -> None:
        if principal.userid == "root@pam" and principal.tokenid is None:
            return  # root@pam may do everything (PVE's check_api2_permissions)
        hook = _permission_hook()
        if hook is not None:
            hook(self.cluster, info.get("permissions"), principal if principal is not ANONYMOUS else None, raw)

    def _check_returns(self, endpoint: Any, rel: str, data: Any, body: bytes) -> None:
        # Validation is a pure function of schema and answer, and tests ask the same questions again and again
        # (task polling, the same scenario in every test): an answer already found valid is not checked twice.
        key = (self.cluster.version, endpoint.method, endpoint.template, hashlib.blake2b(body, digest_size=16).digest())
        if key in _VALID_ANSWERS:
            return
        problems = endpoint.validate_returns(data)
        if not problems:
            if len(_VALID_ANSWERS) >= _VALID_ANSWERS_LIMIT:
                _VALID_ANSWERS.clear()
            _VALID_ANSWERS.add(key)
            return
        from pytest_pvemock.schema.validation import SchemaValidationError

        name = f"{endpoint.method} {endpoint.template}"
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise SchemaValidationError(
            f"{name} (PVE {self.cluster.version}, path {rel}): the fake's answer does not match the schema:\n{listed}",
            endpoint=name,
            problems=problems,
        )

    def _internal_error(self, request: ApiRequest, exc: Exception) -> ApiResponse:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.internal_errors.append(text)
        self.internal_error_count += 1
        # warn_explicit with no registry: warnings.warn would remember every (unique) text in this module's
        # __warningregistry__ for good, a traceback per request in a long-running server
        frames = traceback.extract_tb(exc.__traceback__)
        warnings.warn_explicit(
            f"pytest-pvemock answered {request.method} {request.path} with HTTP 500 because of a bug in the fake:\n"
            f"{text}",
            InternalErrorWarning,
            frames[-1].filename if frames else __file__,
            (frames[-1].lineno or 0) if frames else 0,
            module=__name__,
            registry=None,
        )
        split = split_api_path(request.path)
        fmt = split[0] if split and split[0] in envelope.FORMATS else "json"
        return envelope.method_error(fmt, 500, f"{type(exc).__name__}: {exc}")


@functools.cache
def _permission_hook() -> Any:
    """``api.permissions.check_permissions`` when that module is present (the whole-API issue adds it)."""
    try:
        from pytest_pvemock.api.permissions import check_permissions
    except ImportError:
        return None
    return check_permissions


def _is_schema_violation(exc: Exception) -> bool:
    validation = sys.modules.get("pytest_pvemock.schema.validation")  # not loaded: nothing was validated
    return validation is not None and isinstance(exc, validation.SchemaValidationError)


def request_parameters(request: ApiRequest) -> list[tuple[str, str]]:
    """The query and body parameters of ``request`` as (name, value) pairs as sent (for the request log)."""
    pairs = parse_qsl(request.query, keep_blank_values=True) if request.query else []
    if not request.body or (request.header("Content-Type") or "").lower().startswith("multipart/"):
        return pairs
    text = request.body.decode("utf-8", "replace")
    if not text.lstrip().startswith("{"):
        return pairs + parse_qsl(text, keep_blank_values=True)
    try:  # a hostile body nests deeper than Python recurses: logged without its parameters
        data = json.loads(text)
    except (ValueError, RecursionError):
        return pairs
    if not isinstance(data, dict):
        return pairs
    return pairs + [(str(key), value if isinstance(value, str) else json.dumps(value)) for key, value in data.items()]
