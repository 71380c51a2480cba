"""``pvemock schemas check``: exit 0 when the answer is valid, 1 with the report when not, 2 on bad input."""

from __future__ import annotations

import json

from pytest_pvemock.cli import main


def write(tmp_path, body: object):
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def test_valid_answer_exits_0(tmp_path, capsys):
    answer = write(tmp_path, {"data": {"version": "9.1.4", "release": "9.1", "repoid": "0123456789abcdef"}})
    assert main(["schemas", "check", "GET", "/version", answer]) == 0
    assert "OK: GET /version matches the PVE 9.1.5 schema" in capsys.readouterr().out


def test_invalid_answer_exits_1_with_the_report(tmp_path, capsys):
    answer = write(tmp_path, [{"node": "bad_node!", "status": "online"}])
    assert main(["schemas", "check", "get", "/nodes", answer, "--pve-version", "8.4"]) == 1
    out = capsys.readouterr().out
    assert "GET /nodes (PVE 8.4.2, path /nodes)" in out
    assert "/0/node: expected format 'pve-node'" in out


def test_unreadable_or_broken_file_exits_2_naming_it(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [1,\n', encoding="utf-8")
    assert main(["schemas", "check", "GET", "/version", str(broken)]) == 2
    assert f"{broken}:2:1: not JSON" in capsys.readouterr().err
    assert main(["schemas", "check", "GET", "/version", str(tmp_path / "missing.json")]) == 2
