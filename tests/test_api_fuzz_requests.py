"""Bad input never crashes the fake: 10,000 generated requests (and 3,000 for PVE 8.4), valid and invalid.

Hypothesis (derandomized, so every run sends the same requests) draws batches of request recipes; each recipe
names a documented method and a way to spoil its request: none (a valid request), an unknown or a junk
parameter, a missing required one, a junk body, bad percent-encoding, no or forged credentials, a method the
path does not have, a random path, a non-root caller. Every answer must be PVE-shaped (a status from 200 to 599,
a JSON body with ``data`` or an empty body for pveproxy's own errors), no request may reach a Python exception
inside the fake (``PveApi.internal_errors`` stays empty), and every 2xx body must be valid under the method's
``returns`` schema. The test calls ``PveApi.handle`` directly, for speed.
"""

from __future__ import annotations

import json
import random
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.surface import SurfaceRig

from pytest_pvemock.api.app import PveApi, split_api_path
from pytest_pvemock.api.messages import ApiRequest
from pytest_pvemock.api.permissions import access_control

BATCH = 10
EXAMPLES = 1000  # x BATCH requests: 10,000 for PVE 9.1
EXAMPLES_8_4 = 300
MUTATIONS = (
    "valid",
    "valid",
    "valid",
    "unknown_param",
    "junk_param",
    "missing_required",
    "junk_body",
    "bad_encoding",
    "no_auth",
    "forged_auth",
    "wrong_method",
    "random_path",
    "non_root",
    "extjs",
)
JUNK_VALUES = (
    "",
    " ",
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "\x00",
    "é☃\U0001f600",
    "a" * 5000,
    "../../etc/passwd",
    "%ZZ",
    "0x1F",
    "true",
    "[]",
    "{}",
    "key=value,other",
    ";",
    "\n",
)
JUNK_BODIES = (
    b"\xff\xfe\x00garbage",
    b"{",
    b"[1, 2, 3]",
    b'"just a string"',
    b"null",
    b"a=1&a=2&a=3",
    b"=&==&&",
    b"%",
    b'{"vmid": {"nested": [1, {"deep": null}]}}',
    b"x" * 70000,
)
STRANGE_PATHS = (
    "/api2/json",
    "/api2/json/",
    "/api2/xml/nodes",
    "/api2/json//nodes///pve1",
    "/api2/json/nodes/pve1/../../access",
    "/api2/json/nodes/%00",
    "/api2/json/nodes/%E9%ZZ",
    "/api2",
    "/",
    "/api2/extjs/cluster/firewall/rules/notanumber",
    "/api2/json/nodes/pve1/qemu/abc/status/current",
)


class Fuzzer:
    def __init__(self, rig: SurfaceRig) -> None:
        self.rig = rig
        self.endpoints = rig.registry.endpoints()
        self.sent = 0
        self.by_status: dict[int, int] = {}
        self.violations: list[str] = []
        self.malformed: list[str] = []
        self.internal_errors: list[str] = []
        cluster = rig.prepared
        cluster.access.add_user("fuzz@pve", password="fuzz-password")
        self.user_secret = cluster.access.add_token("fuzz@pve", "fuzz", privsep=False)
        access_control(cluster).grant("/", "PVEAuditor", user="fuzz@pve")  # reads pass, most writes get 403

    def request_for(self, rng: random.Random, cluster, mutation: str) -> ApiRequest:
        method, template = self.endpoints[rng.randrange(len(self.endpoints))]
        path, params = self.rig.valid_params(cluster, method, template)
        headers: dict[str, str] | None = None
        if mutation == "unknown_param":
            params[f"no-such-{rng.randrange(100)}"] = rng.choice(JUNK_VALUES)
        elif mutation == "junk_param" and params:
            params[rng.choice(sorted(params))] = rng.choice(JUNK_VALUES)
        elif mutation == "missing_required" and params:
            params.pop(rng.choice(sorted(params)))
        elif mutation == "wrong_method":
            method = rng.choice(("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FOO"))
        request = self.rig.request(method, path, params, headers)
        if mutation == "junk_body":
            content_type = rng.choice(("application/json", "application/x-www-form-urlencoded", "text/plain", ""))
            return ApiRequest(
                rng.choice(("POST", "PUT", method)),
                request.path,
                request.query,
                {**request.headers, "Content-Type": content_type},
                rng.choice(JUNK_BODIES),
            )
        if mutation == "bad_encoding":
            return ApiRequest(
                request.method, request.path + "%", "a=%E9%ZZ&=x&%%=1", request.headers, b"\xc3\x28=\xa0\xa1"
            )
        if mutation == "no_auth":
            return ApiRequest(request.method, request.path, request.query, {}, request.body)
        if mutation == "forged_auth":
            forged = rng.choice(
                (
                    {"Cookie": "PVEAuthCookie=PVE:root@pam:00000000::forged"},
                    {"Authorization": "PVEAPIToken=root@pam!x=00000000-0000-0000-0000-000000000000"},
                    {"Authorization": "PVEAPIToken=garbage"},
                    {"Cookie": "PVEAuthCookie=" + "A" * 3000},
                )
            )
            return ApiRequest(request.method, request.path, request.query, forged, request.body)
        if mutation == "random_path":
            path = rng.choice(STRANGE_PATHS) if rng.random() < 0.5 else "/api2/json" + self._random_path(rng)
            return ApiRequest(request.method, path, request.query, request.headers, request.body)
        if mutation == "non_root":
            token = {"Authorization": f"PVEAPIToken=fuzz@pve!fuzz={self.user_secret}"}
            return ApiRequest(request.method, request.path, request.query, token, request.body)
        if mutation == "extjs":
            extjs = request.path.replace("/api2/json", "/api2/extjs", 1)
            return ApiRequest(request.method, extjs, request.query, request.headers, request.body)
        return request

    @staticmethod
    def _random_path(rng: random.Random) -> str:
        parts = [rng.choice(("nodes", "pve1", "qemu", "100", "cluster", "{vmid}", "x" * 300, "ü", "%2F", "..", ""))]
        parts += [rng.choice(("status", "config", "firewall", "rules", "0", "-1", "UPID:x:y")) for _ in range(3)]
        return "/" + "/".join(quote(part, safe="%{}:") for part in parts[: rng.randrange(1, 5)])

    def send(self, api: PveApi, request: ApiRequest) -> None:
        self.sent += 1
        response = api.handle(request)
        self.by_status[response.status] = self.by_status.get(response.status, 0) + 1
        where = f"{request.method} {request.path}?{request.query[:80]}"
        if not 200 <= response.status <= 599:
            self.malformed.append(f"{where}: status {response.status}")
            return
        if not response.body:
            if response.status < 400:
                self.malformed.append(f"{where}: empty body with {response.status}")
            return
        split = split_api_path(request.path)
        if split is None or split[0] not in ("json", "extjs"):
            return  # pveproxy's own text answers
        try:
            body = json.loads(response.body)
        except ValueError:
            if response.status < 400:
                self.malformed.append(f"{where}: body is not JSON")
            return
        if not isinstance(body, dict) or "data" not in body:
            self.malformed.append(f"{where}: body without data: {response.body[:120]!r}")
            return
        if 200 <= response.status < 300 and body.get("success", 1):
            endpoint = self.rig.registry.resolve(request.method, split[1])
            if endpoint is not None:
                problems = endpoint.validate_returns(body["data"])
                if problems:
                    self.violations.append(f"{where}: {problems[:2]}")


recipes = st.lists(st.tuples(st.integers(0, 2**32 - 1), st.sampled_from(MUTATIONS)), min_size=BATCH, max_size=BATCH)


def runner(examples: int):
    """A derandomized Hypothesis run of ``examples`` batches against one fuzzer."""

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=recipes)
    def run_batch(fuzzer, batch):
        cluster, api = fuzzer.rig.fresh()
        for seed, mutation in batch:
            rng = random.Random(seed)
            fuzzer.send(api, fuzzer.request_for(rng, cluster, mutation))
        fuzzer.internal_errors.extend(api.internal_errors)

    return run_batch


@pytest.mark.parametrize(("version", "examples"), [("9.1", EXAMPLES), ("8.4", EXAMPLES_8_4)])
def test_generated_requests_never_crash_the_fake(version, examples, record_property, capsys):
    fuzzer = Fuzzer(SurfaceRig(version))
    started = time.monotonic()
    runner(examples)(fuzzer)
    seconds = time.monotonic() - started
    summary = (
        f"pytest-pvemock fuzz (PVE {version}): {fuzzer.sent} requests in {seconds:.1f} s, "
        f"statuses {dict(sorted(fuzzer.by_status.items()))}, "
        f"{len(fuzzer.violations)} schema violations, {len(fuzzer.internal_errors)} internal errors"
    )
    record_property("fuzz_requests", fuzzer.sent)
    record_property("fuzz_summary", summary)
    with capsys.disabled():  # shown in the terminal output, with or without -s
        print(f"\n{summary}")
    assert fuzzer.sent >= examples * BATCH
    assert not fuzzer.internal_errors, fuzzer.internal_errors[0]
    assert not fuzzer.malformed, "\n".join(fuzzer.malformed[:20])
    assert not fuzzer.violations, "\n".join(fuzzer.violations[:20])
    assert sum(count for status, count in fuzzer.by_status.items() if status < 300) > examples * BATCH // 10
