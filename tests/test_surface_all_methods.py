"""Every documented method of PVE 9.1 (667) and 8.4 (605) answers a valid request with a schema-valid body.

Each method gets the parameters a real client sends (required ones, path values naming things that exist),
on its own copy of a prepared cluster, through the real API path (``PveApi.handle``: auth, routing, parameter
checks, permissions, handler or generic answer). Every answer must be 2xx and valid under the method's
``returns`` schema, and every UPID answered must name a task on the cluster that ends OK.
"""

from __future__ import annotations

import pytest
from surface_support import SurfaceRig, call

EXPECTED_METHODS = {"9.1": 667, "8.4": 605}


@pytest.fixture(scope="module", params=sorted(EXPECTED_METHODS))
def rig(request):
    return SurfaceRig(request.param)


def test_every_method_answers_with_a_schema_valid_body(rig, record_property):
    endpoints = rig.registry.endpoints()
    assert len(endpoints) == EXPECTED_METHODS[rig.prepared.version]
    failures, valid, tasks = [], 0, 0
    for method, template in endpoints:
        response, endpoint, cluster = call(rig, method, template)
        if response.status >= 300:
            failures.append(f"{method} {template}: HTTP {response.status} {response.reason}")
            continue
        data = response.json()["data"]
        problems = endpoint.validate_returns(data)
        if problems:
            failures.append(f"{method} {template}: {problems[:3]}")
        else:
            valid += 1
        if isinstance(data, str) and data.startswith("UPID:"):
            tasks += 1
            cluster.clock.settle()
            task = cluster.tasks.get(data)
            if task is None or task.exitstatus != "OK":
                failures.append(f"{method} {template}: task {data} {'missing' if task is None else task.exitstatus}")
    record_property("methods_with_valid_answers", valid)
    record_property("methods_answering_a_task", tasks)
    assert not failures, "\n".join(failures)
    assert valid == len(endpoints)
    assert tasks > 80  # vzdump, services, disks, Ceph, guests: every worker PVE starts


def test_extjs_envelope_wraps_generic_answers(rig):
    _cluster, api = rig.fresh()
    request = rig.request("GET", "/cluster/backup-info/not-backed-up", {})
    request = type(request)(request.method, request.path.replace("/api2/json", "/api2/extjs"), "", request.headers)
    body = api.handle(request).json()
    assert body["success"] == 1
    assert isinstance(body["data"], list)


def test_undocumented_path_and_method_get_501(rig):
    _cluster, api = rig.fresh()
    response = api.handle(rig.request("GET", "/nodes/pve1/foo", {}))
    assert response.status == 501
    assert response.reason == "Method 'GET /nodes/pve1/foo' not implemented"
    response = api.handle(rig.request("PATCH", "/cluster/backup", {}))
    assert response.status == 501


UNKNOWN = {"no-such-param": "property is not defined in schema and the schema does not allow additional properties"}


def test_every_method_rejects_an_unknown_parameter_with_pve_wording(rig):
    failures = []
    for method, template in rig.registry.endpoints():
        endpoint = rig.registry.endpoint(method, template)
        if endpoint.parameters_schema.get("additionalProperties", True) is not False:
            continue  # the few methods PVE lets take any parameter
        cluster, api = rig.fresh()
        path, params = rig.valid_params(cluster, method, template)
        response = api.handle(rig.request(method, path, {**params, "no-such-param": "1"}))
        body = response.json()
        expected = {
            "no-such-param": "property is not defined in schema and the schema does not allow additional properties"
        }
        if (
            response.status != 400
            or body.get("errors") != expected
            or response.reason != "Parameter verification failed."
        ):
            failures.append(f"{method} {template}: {response.status} {body}")
    assert not failures, "\n".join(failures[:20])
