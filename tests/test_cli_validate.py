"""``pvemock validate``: recorded answers checked against PVE's schemas, as CI runs it."""

from __future__ import annotations

import base64
import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from pytest_pvemock.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "cassettes"


def interaction(path: str, data: object, method: str = "GET", status: int = 200) -> dict:
    """One interaction the way plain vcrpy writes it: the body as a JSON string."""
    return {
        "request": {"method": method, "uri": f"https://pve1.lan:8006/api2/json{path}", "body": None, "headers": {}},
        "response": {
            "status": {"code": status, "message": "OK"},
            "headers": {"Content-Type": ["application/json;charset=UTF-8"]},
            "body": {"string": json.dumps({"data": data})},
        },
    }


def write_cassette(path: Path, *interactions: dict) -> Path:
    document = {"version": 1, "interactions": list(interactions)}
    if path.suffix == ".json":
        path.write_text(json.dumps(document, indent=2))
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


VERSION_91 = interaction("/version", {"version": "9.1.1", "release": "9.1", "repoid": "0123456789abcdef"})
GOOD_NODES = interaction("/nodes", [{"node": "pve1", "status": "online"}])
BAD_NODES = interaction("/nodes", [{"node": "pve1", "status": "online"}, {"node": "pve2", "status": "sleeping"}])


def test_a_cassette_whose_answers_match_the_schema_passes(tmp_path, capsys):
    cassette = write_cassette(tmp_path / "ok.yaml", VERSION_91, GOOD_NODES)

    assert main(["validate", str(cassette)]) == 0

    out = capsys.readouterr().out
    assert "ok.yaml: ok; 2 answer(s) checked against PVE 9.1 (recorded /version)" in out


def test_a_violation_is_reported_per_endpoint_with_pointer_expected_and_actual(tmp_path, capsys):
    cassette = write_cassette(tmp_path / "bad.yaml", VERSION_91, BAD_NODES)

    assert main(["validate", str(cassette)]) == 1

    out = capsys.readouterr().out
    assert "GET /nodes: 1 violation(s) in 1 answer(s)" in out
    line = next(line for line in out.splitlines() if "/1/status: expected" in line)
    assert "'unknown', 'online', 'offline'" in line and "actual 'sleeping'" in line
    assert "bad.yaml:17)" in line  # the line of the interaction in the file


def test_the_recorded_version_is_used_unless_the_option_names_another_release(tmp_path, capsys):
    eight = interaction("/version", {"version": "8.4.1", "release": "8.4", "repoid": "2a2fa54b8503f96c"})
    recorded = write_cassette(tmp_path / "recorded.yaml", eight, GOOD_NODES)
    unversioned = write_cassette(tmp_path / "unversioned.yaml", GOOD_NODES)

    main(["validate", str(recorded)])
    main(["validate", str(recorded), "--pve-version", "9.1"])
    main(["validate", str(unversioned), "--pve-version", "8.4"])
    main(["validate", str(unversioned)])

    out = capsys.readouterr().out
    assert "recorded.yaml: ok; 2 answer(s) checked against PVE 8.4 (recorded /version)" in out
    assert "recorded.yaml: ok; 2 answer(s) checked against PVE 9.1.5 (--pve-version; recorded on 8.4)" in out
    assert "unversioned.yaml: ok; 1 answer(s) checked against PVE 8.4.2 (--pve-version; no /version recorded)" in out
    assert "unversioned.yaml: ok; 1 answer(s) checked against PVE latest (default)" in out


def test_another_release_tells_which_recorded_answers_and_requests_would_no_longer_hold(tmp_path, capsys):
    seven = interaction("/version", {"version": "7.4-2", "release": "7.4", "repoid": "b8dc2d3d27d3f1c4"})
    # PVE 7.4 answered memory as an integer; qemu-server 8.0.8 made it a property string
    config = interaction("/nodes/pve1/qemu/100/config", {"memory": 2048, "digest": "0" * 40})
    pools = interaction("/nodes/pve1/ceph/pools", [])  # gone in 8.x (moved to /nodes/{node}/ceph/pool)
    listed = interaction("/nodes/pve1/tasks?typefilter=vzdump&vmid=100", [])
    cassette = write_cassette(tmp_path / "pve7.yaml", seven, config, pools, listed)

    assert main(["validate", str(cassette)]) == 0
    capsys.readouterr()
    assert main(["validate", str(cassette), "--pve-version", "8.1"]) == 1

    out = capsys.readouterr().out
    assert "checked against PVE 8.1.5 (--pve-version; recorded on 7.4)" in out
    assert "GET /nodes/{node}/qemu/{vmid}/config: 1 violation(s)" in out
    assert "/memory: expected type 'string'; actual 2048" in out
    assert "request would no longer hold: PVE 8.1.5 has no GET /nodes/pve1/ceph/pools: 501" in out
    assert "/nodes/pve1/tasks" not in out.split("request would no longer hold")[-1]  # still valid on 8.1


def test_a_request_parameter_the_new_release_rejects_is_named(tmp_path, capsys):
    # 'typefilter' of GET /nodes/{node}/tasks exists on every release; 'statusfilter' came with PVE 7.1
    listed = interaction("/nodes/pve1/tasks?statusfilter=ok", [])
    cassette = write_cassette(tmp_path / "tasks.yaml", listed)

    assert main(["validate", str(cassette), "--pve-version", "7.0-1"]) == 1

    out = capsys.readouterr().out
    assert "request would no longer hold: GET /nodes/pve1/tasks: 400 statusfilter: property is not defined" in out


def test_a_recorded_minor_is_checked_against_its_last_release_and_says_so(tmp_path, capsys):
    seven = interaction("/version", {"version": "7.2-3", "release": "7.2", "repoid": "c743d6c1"})
    cassette = write_cassette(tmp_path / "old.yaml", seven, GOOD_NODES)

    main(["validate", str(cassette)])

    assert "PVE 7.2 (recorded /version), checked against the 7.2-5 schema" in capsys.readouterr().out


def test_json_cassettes_and_gzip_bodies_of_plain_vcrpy_are_read(tmp_path, capsys):
    compressed = interaction("/nodes", [{"node": "pve1", "status": "sleeping"}])
    raw = gzip.compress(compressed["response"]["body"]["string"].encode())
    compressed["response"]["headers"]["Content-Encoding"] = ["gzip"]
    compressed["response"]["body"] = {"base64": base64.b64encode(raw).decode()}
    cassette = write_cassette(tmp_path / "plain.json", VERSION_91, compressed)

    assert main(["validate", str(cassette)]) == 1

    assert "/0/status: expected" in capsys.readouterr().out


def test_error_answers_are_not_checked_and_unknown_paths_are_noted(tmp_path, capsys):
    failed = interaction("/nodes", None, status=500)
    unknown = interaction("/no/such/endpoint", {})
    cassette = write_cassette(tmp_path / "mixed.yaml", VERSION_91, failed, unknown)

    assert main(["validate", str(cassette)]) == 0

    out = capsys.readouterr().out
    assert "1 answer(s) checked" in out
    assert "note: GET /no/such/endpoint is not in the PVE 9.1.5 schema" in out


def test_a_broken_cassette_names_the_file_and_line(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\ninteractions:\n- request: {method: GET\n  response: 3\n")

    assert main(["validate", str(broken)]) == 1

    out = capsys.readouterr().out
    assert f"ERROR {broken}:4: not valid YAML" in out


def test_an_interaction_without_a_response_names_its_line(tmp_path, capsys):
    cassette = tmp_path / "partial.yaml"
    good = yaml.safe_dump({"version": 1, "interactions": [VERSION_91]}, sort_keys=False)
    cassette.write_text(good + "- request: {method: GET, uri: 'https://pve1:8006/api2/json/nodes'}\n")
    line = len(good.splitlines()) + 1

    assert main(["validate", str(cassette)]) == 1

    assert f"ERROR {cassette}:{line}: interaction 2: an interaction needs a 'request' and a 'response'" in (
        capsys.readouterr().out
    )


def test_junit_xml_has_a_case_per_endpoint_and_a_failure_per_violating_endpoint(tmp_path):
    write_cassette(tmp_path / "a.yaml", VERSION_91, BAD_NODES)
    (tmp_path / "b.yaml").write_text("interactions: [")
    report = tmp_path / "report.xml"

    assert main(["validate", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "--junit-xml", str(report)]) == 1

    suites = ET.parse(report).getroot().findall("testsuite")
    assert [suite.get("name") for suite in suites] == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]
    cases = {case.get("name"): case for case in suites[0].findall("testcase")}
    assert set(cases) == {"GET /nodes", "GET /version"}
    assert cases["GET /version"].find("failure") is None
    failure = cases["GET /nodes"].find("failure")
    assert "/1/status" in failure.text and suites[0].get("failures") == "1"
    message = suites[1].find("testcase/error").get("message")
    assert message.startswith(f"{tmp_path / 'b.yaml'}:") and "not valid YAML" in message


def test_folders_are_searched_for_cassettes(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    write_cassette(tmp_path / "sub" / "one.yaml", GOOD_NODES)
    write_cassette(tmp_path / "two.json", GOOD_NODES)

    assert main(["validate", str(tmp_path)]) == 0

    assert "2 cassette(s), 2 answer(s) checked, 0 violation(s)" in capsys.readouterr().out


def test_no_cassette_found_is_a_usage_error(tmp_path):
    assert main(["validate", str(tmp_path)]) == 2


@pytest.mark.parametrize("name", ["pve8-captures.yaml", "fake-default.yaml"])
def test_the_shipped_example_cassettes_validate(name, capsys):
    assert main(["validate", str(EXAMPLES / name)]) == 0


def test_the_drift_example_reports_what_pve_8_added_and_cidr_netmasks(capsys):
    assert main(["validate", str(EXAMPLES / "pve-schema-drift.yaml")]) == 1

    out = capsys.readouterr().out
    assert "GET /nodes/{node}/status: 2 violation(s)" in out
    assert "boot-info" in out and "current-kernel" in out  # added after PVE 7.4, required by the 8.4 schema


def test_a_stored_json_body_that_is_not_json_names_file_and_line(tmp_path, capsys):
    cassette = tmp_path / "edited.yaml"
    good = yaml.safe_dump({"version": 1, "interactions": [VERSION_91]}, sort_keys=False)
    edited = interaction("/nodes", None)
    edited["response"]["body"] = {"json_text": '{"data": [ {"node": "pve1",, } ]}'}
    cassette.write_text(good + yaml.safe_dump([edited], sort_keys=False))
    line = len(good.splitlines()) + 1

    assert main(["validate", str(cassette)]) == 1

    assert f"ERROR {cassette}:{line}: interaction 2: invalid JSON body" in capsys.readouterr().out
