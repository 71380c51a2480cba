"""``pvemock ha-sim CASE_DIR``: the simulator's log, and clear errors for broken case files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_pvemock.cli import main

CASES_DIR = Path(__file__).resolve().parent.parent / "third_party" / "pve-ha-manager" / "cases"


def test_ha_sim_prints_the_log_of_a_case(capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES_DIR / "test-basic1"
    assert main(["ha-sim", str(case)]) == 0
    assert capsys.readouterr().out.splitlines() == (case / "log.expect").read_text().splitlines()


@pytest.fixture
def broken_case(tmp_path: Path) -> Path:
    case = tmp_path / "case"
    shutil.copytree(CASES_DIR / "test-basic1", case)
    return case


def test_ha_sim_names_the_file_and_line_of_bad_json(broken_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = '{\n  "vm:101": {"node": "node1",\n}\n'
    (broken_case / "service_config").write_text(text)
    assert main(["ha-sim", str(broken_case)]) == 2
    err = capsys.readouterr().err
    # the line Python's parser blames: 3 up to Python 3.12 (the "}"), 2 from 3.13 on ("Illegal trailing comma")
    with pytest.raises(json.JSONDecodeError) as parsed:
        json.loads(text)
    assert f"{broken_case / 'service_config'}:{parsed.value.lineno}: invalid JSON" in err
    assert "Traceback" not in err


def test_ha_sim_names_the_line_of_an_unknown_command(broken_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (broken_case / "cmdlist").write_text('[\n  ["power node1 on"],\n  ["frobnicate node1"]\n]\n')
    assert main(["ha-sim", str(broken_case)]) == 2
    assert f"{broken_case / 'cmdlist'}:3: unknown command 'frobnicate node1'" in capsys.readouterr().err


def test_ha_sim_rejects_a_service_without_node(broken_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (broken_case / "service_config").write_text('{\n  "vm:101": {"state": "started"}\n}\n')
    assert main(["ha-sim", str(broken_case)]) == 2
    assert f"{broken_case / 'service_config'}:2: service 'vm:101' without node" in capsys.readouterr().err


def test_ha_sim_reports_a_bad_rules_line(broken_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (broken_case / "rules_config").write_text("node-affinity: r1\n\tresources vm:101\n\tnodes node1\nbogus line\n")
    assert main(["ha-sim", str(broken_case)]) == 2
    assert f"{broken_case / 'rules_config'}:4:" in capsys.readouterr().err


def test_ha_sim_reports_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ha-sim", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
