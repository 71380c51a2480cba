"""Answers against the generated schemas: real captures pass, wrong bodies fail with a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pytest_pvemock
from pytest_pvemock.schema.validation import SchemaValidationError, validate_response

CAPTURES = Path(__file__).resolve().parent.parent / "third_party" / "pve-captures"
INDEX = json.loads((CAPTURES / "INDEX.json").read_text(encoding="utf-8"))

# Captures that do not validate, and why. Everything else in INDEX.json must validate.
KNOWN_FAILURES = {
    "nodes-node-status__go-proxmox-pve7x.json": (
        "REAL, but from PVE 7.4: 'boot-info' and 'current-kernel' became part of /nodes/{node}/status in PVE 8.1 "
        "(pve-manager 81fd95cf, 20ad4e0e, 2023-11); the oldest schema here is 8.4"
    ),
    "nodes-node-tasks__datadog-integrations-core.json": (
        "LIGHTLY EDITED: the two rows appended by hand lack 'pid' and 'pstart', which the schema requires"
    ),
}

# Values for the {params} of a template, to build a concrete path.
PATH_VALUES = {"node": "pve1", "vmid": "100", "poolid": "pool1", "upid": "UPID:pve1:0:0:0:x::root@pam:"}


def concrete_path(endpoint: str) -> str:
    template = endpoint.split(" ")[0].split("?")[0]
    for name, value in PATH_VALUES.items():
        template = template.replace("{" + name + "}", value)
    return template


def schema_version(capture: dict) -> str:
    """The schema nearest to the capture's PVE version: 9.x answers against 9.1, older ones against 8.4."""
    return "9.1" if capture["pve_version"].lstrip("~").startswith("9") else "8.4"


@pytest.mark.parametrize("capture", INDEX, ids=[c["file"] for c in INDEX])
def test_captures_validate_against_their_endpoint(capture):
    body = json.loads((CAPTURES / capture["file"]).read_text(encoding="utf-8"))
    method, path, version = capture["method"], concrete_path(capture["endpoint"]), schema_version(capture)
    reason = KNOWN_FAILURES.get(capture["file"])
    if reason is None:
        validate_response(method, path, body, pve_version=version)
    else:
        assert "EDITED" in capture["verdict"] or "MIXED" in capture["verdict"] or "PVE 7.4" in reason
        with pytest.raises(SchemaValidationError):
            validate_response(method, path, body, pve_version=version)


def test_real_captures_also_validate_against_9_1_unless_listed():
    for capture in INDEX:
        if capture["file"] in KNOWN_FAILURES:
            continue
        body = json.loads((CAPTURES / capture["file"]).read_text(encoding="utf-8"))
        validate_response(capture["method"], concrete_path(capture["endpoint"]), body, pve_version="9.1")


def node_entry(**changes: object) -> dict:
    entry = {"node": "pve1", "status": "online", "id": "node/pve1", "type": "node", "cpu": 0.01, "maxcpu": 4}
    entry.update(changes)
    return entry


def test_missing_required_key_names_endpoint_pointer_and_key():
    entry = node_entry()
    del entry["status"]
    with pytest.raises(SchemaValidationError) as caught:
        validate_response("GET", "/nodes", {"data": [entry]})
    message = str(caught.value)
    assert "GET /nodes (PVE 9.1, path /nodes)" in message
    assert "/0/status: expected a value (required key); actual: missing" in message
    assert caught.value.endpoint == "GET /nodes"


def test_string_where_a_number_is_due():
    with pytest.raises(SchemaValidationError) as caught:
        validate_response("GET", "/nodes", [node_entry(cpu="lots")])
    assert "/0/cpu: expected number (a JSON number or its decimal text); actual 'lots'" in str(caught.value)


def test_bad_node_name():
    with pytest.raises(SchemaValidationError) as caught:
        validate_response("GET", "/api2/json/nodes", {"data": [node_entry(node="bad_node!")]})
    assert (
        "/0/node: expected format 'pve-node' (value does not look like a valid node name); actual 'bad_node!'"
        in str(caught.value)
    )


def test_pve_serialiser_forms_are_accepted():
    # numbers as text, booleans as 0/1 or text, null for an optional key: all seen in real answers
    validate_response("GET", "/nodes", [node_entry(cpu="0.05", maxcpu="8", mem=None)])
    validate_response("GET", "/cluster/status", [{"type": "node", "name": "pve1", "id": "node/pve1", "online": "1"}])


def test_boolean_text_other_than_0_or_1_is_rejected_in_answers():
    with pytest.raises(SchemaValidationError, match="/0/online: expected boolean"):
        validate_response("GET", "/cluster/status", [{"type": "node", "name": "pve1", "id": "x", "online": "yes"}])


def test_extra_keys_are_allowed_in_answers():
    validate_response("GET", "/nodes", [node_entry(**{"something-new": 1})])


def test_property_string_in_an_answer_is_checked():
    digest = "0" * 40
    config = {"digest": digest, "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0"}
    validate_response("GET", "/nodes/pve1/qemu/100/config", {"data": config})
    config["net0"] = "virtio,bridge=vmbr0,bogus=1"
    with pytest.raises(SchemaValidationError, match=r"/net0: expected .*bogus"):
        validate_response("GET", "/nodes/pve1/qemu/100/config", {"data": config})


def test_unknown_endpoint_is_an_error_naming_it():
    with pytest.raises(SchemaValidationError, match=r"PVE 9\.1 has no endpoint GET /nodes/pve1/nonsense"):
        validate_response("GET", "/nodes/pve1/nonsense", {"data": None})


def test_error_is_an_assertion_error_and_exported_from_the_package():
    assert issubclass(pytest_pvemock.SchemaValidationError, AssertionError)
    assert pytest_pvemock.validate_response is validate_response


def test_envelope_with_siblings_is_unwrapped():
    rows = [{"upid": "UPID:pve1:00001234:00005678:64E10CBA:qmstart:100:root@pam:", "type": "qmstart",
             "user": "root@pam", "node": "pve1", "starttime": 1, "pid": 1, "pstart": 1, "status": "OK",
             "id": "100"}]  # fmt: skip
    validate_response("GET", "/nodes/pve1/tasks", {"data": rows, "total": 1})
