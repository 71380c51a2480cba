"""Every secret-bearing method of the classification, recorded end to end against the fake over real HTTPS:
no secret sent, and no secret answered at a classified place, reaches the cassette file."""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from pathlib import Path

import pytest

from pytest_pvemock import FakeCluster
from pytest_pvemock.cassette.filters import SCRUBBED, TOKEN_SECRET_PLACEHOLDER
from pytest_pvemock.cassette.validation import validate_cassette
from pytest_pvemock.schema.registry import resolve_release
from pytest_pvemock.schema.secrets import default_sources
from pytest_pvemock.transports.recording.recorder import RecordingOptions, open_cassette

pytest.importorskip("proxmoxer")
pytest.importorskip("trustme")
server_module = pytest.importorskip("pytest_pvemock.transports.server")

SECRETS_DIR = Path(__file__).resolve().parent.parent / "schemas" / "secrets"
PASSWORD = "every-secret-login-pw"


def concrete_path(template: str, cluster: FakeCluster) -> str:
    guest = {kind: next(g for g in cluster.guests if g.kind == kind) for kind in ("qemu", "lxc")}
    kind = "lxc" if "/lxc/" in template else "qemu"
    values = {
        "node": guest[kind].node,
        "vmid": str(guest[kind].vmid),
        "userid": "root@pam",
        "tokenid": "every-secret",
        "realm": "pve",
        "storage": "local",
    }
    if template.endswith("/mtunnel"):  # a migration's target side: on the node answering, for a VMID not in use
        values.update(node=cluster.nodes[0].name, vmid="4260")
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m[1], f"{m[1]}1"), template)


def secret_parameters(key: str, entry: dict) -> dict[str, str]:
    """A distinct, recognisable value for every secret parameter of the method."""
    params = {}
    for location in entry.get("parameters", {}):
        name, brace, inner = location.partition("{")
        marker = f"leak-{zlib.crc32(f'{key} {location}'.encode()):08x}-{name}"
        params[name] = f"type=yubico,id=1,{inner.rstrip('}')}={marker}" if brace else marker
    return params


def answered_secrets(document, locations: list[str]) -> list[str]:
    """The values at the classified places of a live answer."""
    found: list[str] = []

    def collect(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)

    def walk(value, steps):
        if not steps:
            collect(value)
        elif steps[0] == "[]" and isinstance(value, list):
            for item in value:
                walk(item, steps[1:])
        elif isinstance(value, dict):
            name = steps[0].partition("{")[0]
            for key in value if name == "*" else [name]:
                if key in value:
                    walk(value[key], steps[1:])

    data = document.get("data") if isinstance(document, dict) else None
    for location in locations:
        walk(data, location.split("/"))
    return found


def classification(pve_version: str) -> dict:
    """The classification of the release's schema (one file per stored schema, named after its first release)."""
    schema = resolve_release(pve_version).file
    first = next(release for release, file_name in default_sources().items() if file_name == schema)
    return json.loads((SECRETS_DIR / f"pve-{first}.json").read_text())["methods"]


@pytest.mark.parametrize("pve_version", ["8.4", "9.1"])  # the newest schema of each supported major
def test_no_secret_of_any_classified_method_reaches_the_cassette(tmp_path, pve_version):
    methods = classification(pve_version)
    cluster = FakeCluster.default(version=pve_version)
    cluster.access.users["root@pam"].password = PASSWORD
    path = tmp_path / "every-secret.yaml"
    sent: list[str] = []
    answered: list[str] = []
    statuses: dict[str, int] = {}
    with server_module.PveServer(cluster) as server:
        env = {
            "PVEMOCK_HOST": f"127.0.0.1:{server.port}",
            "PVEMOCK_VERIFY_SSL": str(server.ca_file),
            "PVEMOCK_USER": "root@pam",
            "PVEMOCK_PASSWORD": PASSWORD,
        }
        with open_cassette(path, RecordingOptions(record_mode="once"), environ=env) as session:
            api = session.client()
            http, base = api._store["session"], api._store["base_url"]
            api.version.get()  # logs in
            live = api._backend.auth
            sent += [live.pve_auth_ticket, live.csrf_prevention_token]
            for key, entry in sorted(methods.items()):
                method, _, template = key.partition(" ")
                params = secret_parameters(key, entry)
                sent.extend(re.sub(r"^.*key=", "", value) for value in params.values())
                target = base + concrete_path(template, cluster)
                if method in ("GET", "DELETE"):
                    response = http.request(method, target, params=params)
                else:
                    response = http.request(method, target, data=params)
                statuses[key] = response.status_code
                with contextlib.suppress(ValueError):  # a non-JSON answer carries no classified property
                    answered.extend(answered_secrets(response.json(), list(entry.get("returns", {}))))

    text = path.read_text()
    assert len(statuses) == len(methods) >= 70
    assert cluster.version.startswith(pve_version)
    assert [value for value in sent if value in text] == []
    placeholders = {SCRUBBED, TOKEN_SECRET_PLACEHOLDER, ""}
    leaked = [value for value in answered if value not in placeholders and len(value) >= 4 and value in text]
    assert leaked == []
    assert PASSWORD not in text
    answered_ok = [key for key, status in statuses.items() if status == 200 and methods[key].get("returns")]
    # the fake really answered secrets to scrub: 24 methods answer 200 (tickets, SPICE/VNC, token secrets, ...)
    assert len(answered_ok) >= 20, statuses
    assert len([value for value in answered if len(value) >= 4]) >= 15
    report = validate_cassette(path)  # placeholders keep the answers valid against PVE's schema
    assert [violation.describe() for violation in report.violations] == []
    assert sum(report.checked.values()) >= 20, report.checked
