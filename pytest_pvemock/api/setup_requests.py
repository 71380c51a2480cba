"""A scenario's ``setup``: the API writes an admin made before the test begins, answered before any other request.

``setup: [{POST /cluster/firewall/aliases: {name: mgmt, cidr: 192.168.100.0/24}}]`` in a scenario file leaves the
built cluster with pending :class:`~pytest_pvemock.model.builders.spec.SetupRequest` s; the first API over the
cluster answers them in order, as root@pam, through the whole pipeline (parameter checks, the handler, its task),
so what they make (firewall rules, backup jobs, notification targets, groups, tokens, snapshots and their tasks)
is what PVE makes of the same requests. Tasks they start finish at once, whatever the clock's task mode; they are
not in the cluster's request log. A request PVE refuses is a ``ScenarioError`` naming the file and the line.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from pytest_pvemock.api.messages import ApiRequest
from pytest_pvemock.model.builders.spec import ScenarioError
from pytest_pvemock.model.upid import parse_upid

if TYPE_CHECKING:
    from pytest_pvemock.api.app import PveApi


def answer_setup_requests(api: PveApi) -> None:
    """Answer the cluster's pending setup requests (once: they are taken off the cluster first)."""
    cluster = api.cluster
    pending, cluster.setup_requests = list(cluster.setup_requests), []
    if not pending:
        return
    signer = api.auth.signer
    headers = {
        "Cookie": f"PVEAuthCookie={quote(signer.ticket('root@pam'), safe='')}",
        "CSRFPreventionToken": signer.csrf_token("root@pam"),
    }
    mode, cluster.clock.task_mode = cluster.clock.task_mode, "instant"
    try:
        for request in pending:
            _answer(api, request, headers)
    finally:
        cluster.clock.task_mode = mode
        cluster.requests.clear()


def _answer(api: PveApi, request: Any, headers: dict[str, str]) -> None:
    # a JSON body, as pve-http-server takes it too: a one-item list stays a list for PVE's array parameters
    params = {name: value if isinstance(value, list) else str(value) for name, value in request.params.items()}
    if request.method == "DELETE":
        query, body = urlencode(params, doseq=True), b""
    else:
        query, body = "", json.dumps(params).encode()
    sent = {**headers, "Content-Type": "application/json"}
    response = api.handle(ApiRequest(request.method, "/api2/json" + request.path, query, sent, body))
    payload = response.json() or {}
    problem = ""
    if response.status != 200:
        errors = payload.get("errors") or {}
        details = "; ".join(f"{name}: {str(text).strip()}" for name, text in sorted(errors.items()))
        problem = f"{str(payload.get('message') or response.reason).strip()} {details}".strip()
    else:
        data = payload.get("data")
        task = api.cluster.tasks.get(data) if isinstance(data, str) and parse_upid(data) is not None else None
        if task is not None and task.exitstatus != "OK":
            problem = f"its task ended with '{task.exitstatus}'"
    if problem:
        message = f"setup request '{request.method} {request.path}': {problem}"
        if request.where is None:
            raise ScenarioError("<setup>", None, message)
        raise request.where.error(message)
