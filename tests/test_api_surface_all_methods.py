"""Every documented method of a PVE release answers a valid request with a schema-valid body; another release's
methods answer 501.

Which releases: the full method set of the newest release of each major (7.4-2, 8.4.2, 9.1.5: 540 + 605 + 667
methods) and, for every other release of INDEX.json, a seeded sample of its methods (``SAMPLE`` per release, the
same choice on every run: ``random.Random("surface " + release)``). All 56 releases x all methods (about 32,000
calls, about 4 minutes on one core) take too long for CI on 2 cores; the sample still reaches every release's own
schema and routes. ``PVEMOCK_SURFACE_ALL=1`` runs every method of every release instead.

Each method gets the parameters a real client sends (required ones, path values naming things that exist),
on its own copy of a prepared cluster, through the real API path (``PveApi.handle``: auth, routing, parameter
checks, permissions, handler or generic answer). Every answer must be 2xx and valid under the method's
``returns`` schema, and every UPID answered must name a task on the cluster that ends OK.
"""

from __future__ import annotations

import os
import random
import re

import pytest
from support.surface import OFFLINE, REFUSED, SurfaceRig, call

from pytest_pvemock.schema.registry import get_registry, known_releases, resolve_release

FULL = [resolve_release(major).version for major in ("7", "8", "9")]  # the newest release of each major
SAMPLED = [release.version for release in known_releases() if release.version not in FULL]
SAMPLE = 20
ALL = os.environ.get("PVEMOCK_SURFACE_ALL") == "1"
PATH_VALUES = {"node": "pve1", "vmid": "100", "storage": "local", "poolid": "prod", "userid": "root@pam"}


@pytest.fixture(scope="module", params=FULL)
def rig(request):
    return SurfaceRig(request.param)


def test_every_method_answers_with_a_schema_valid_body(rig, record_property):
    endpoints = rig.registry.endpoints()
    assert len(endpoints) == resolve_release(rig.prepared.version).methods
    failures, valid, tasks = check_methods(rig, endpoints)
    record_property("methods_with_valid_answers", valid)
    record_property("methods_answering_a_task", tasks)
    assert not failures, "\n".join(failures)
    assert valid == len(endpoints)
    assert tasks > 80  # vzdump, services, disks, Ceph, guests: every worker PVE starts


@pytest.mark.parametrize("version", SAMPLED)
def test_a_seeded_sample_of_every_other_releases_methods_answers_with_a_schema_valid_body(version):
    rig = SurfaceRig(version)
    endpoints = rig.registry.endpoints()
    assert rig.prepared.version == version and len(endpoints) == resolve_release(version).methods
    sample = endpoints if ALL else sorted(random.Random(f"surface {version}").sample(endpoints, SAMPLE))
    failures, valid, _tasks = check_methods(rig, sample)
    assert not failures, "\n".join(failures)
    assert valid == len(sample)


@pytest.mark.parametrize("version", [*FULL, "8.0.0", "9.0.1"])
def test_methods_of_other_releases_answer_501_not_implemented(version):
    rig = SurfaceRig(version)
    own = set(rig.registry.endpoints())
    others = {endpoint for release in known_releases() for endpoint in get_registry(release.version).endpoints()} - own
    assert others  # every release here lacks some method another release has
    _cluster, api = rig.fresh()
    failures = []
    for method, template in sorted(others):
        path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m[1], "example"), template)
        response = api.handle(rig.request(method, path, {}))
        if rig.registry.resolve(method, path) is not None:
            continue  # the concrete path also matches a template this release has (a static segment elsewhere)
        if response.status != 501 or response.reason != f"Method '{method} {path}' not implemented":
            failures.append(f"{method} {template}: {response.status} {response.reason}")
    assert not failures, "\n".join(failures[:20])


def check_methods(rig, endpoints):
    """Call each ``(method, template)``: the failures, the count of schema-valid answers and of tasks answered."""
    failures, valid, tasks = [], 0, 0
    for method, template in endpoints:
        response, endpoint, cluster = call(rig, method, template)
        offline = OFFLINE.get((method, template))
        if offline is not None and response.status == 500 and response.reason.startswith(offline):
            valid += 1
            continue
        if REFUSED.get((method, template)) == (response.status, response.reason.strip()):
            valid += 1
            continue
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
    return failures, valid, tasks


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
