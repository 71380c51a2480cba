"""Bombs in scenario and cassette files: refused at once with file and line, never a memory blow-up or a traceback.

The cases of issue 12: a 0.5 KB scenario of nested aliases exhausted memory, a 0.7 KB cassette kept ``pvemock
validate`` busy for over a minute, self-referencing aliases gave raw tracebacks. ``safe_yaml.check_limits`` reads
the event stream once before anything is built, so these tests are bounded by construction.
"""

from __future__ import annotations

import pytest

from pytest_pvemock.cassette.file_format import CassetteFile, CassetteFormatError
from pytest_pvemock.cli import main
from pytest_pvemock.model.builders.scenario import ScenarioError
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.safe_yaml import MAX_DEPTH


def alias_bomb(levels: int = 9) -> str:
    """``levels`` anchors of nine aliases each: 9**levels values from a few hundred bytes."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BOMB = alias_bomb()
BOMB_LINE = 6  # the alias that takes the expansion over the limit: *l4 on line 6 stands for 9**4 values, x9


def test_the_bomb_is_as_small_as_the_issue_says():
    assert len(BOMB) < 512


def test_scenario_alias_bomb_is_refused_with_file_and_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB + "nodes: *l8\n")
    with pytest.raises(ScenarioError, match=r"aliases expand to more than 100000 values") as raised:
        FakeCluster.from_scenario(path)
    assert str(raised.value).startswith(f"{path}, line {BOMB_LINE}: invalid YAML: ")


def test_recursive_scenario_is_refused_with_file_and_line(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("nodes: &nodes\n  - name: pve1\n  - *nodes\n")
    with pytest.raises(ScenarioError) as raised:
        FakeCluster.from_scenario(path)
    assert str(raised.value) == (
        f"{path}, line 3: invalid YAML: the alias *nodes refers to a value that contains it (a recursive structure)"
    )


@pytest.mark.parametrize(
    "nesting",
    [
        "nodes: " + "[" * 5000 + "]" * 5000 + "\n",  # flow style
        "nodes:\n" + "".join("  " * depth + "-\n" for depth in range(1, 400)),  # block style
    ],
    ids=["flow", "block"],
)
def test_deep_scenario_is_refused_not_a_recursion_error(tmp_path, nesting):
    path = tmp_path / "deep.yaml"
    path.write_text(nesting)
    with pytest.raises(ScenarioError, match=r"line \d+: invalid YAML: .*nest"):
        FakeCluster.from_scenario(path)


def test_aliases_within_bounds_still_work(tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text(
        "nodes:\n  - {name: pve1, cpus: &cpus 8}\n  - {name: pve2, cpus: *cpus}\n"
        "guests:\n  - {vmid: 100, node: pve1}\n  - {vmid: 101, node: pve2}\n"
    )
    cluster = FakeCluster.from_scenario(path)
    assert sorted(node.name for node in cluster.nodes) == ["pve1", "pve2"]


def test_cassette_alias_bomb_fails_validate_at_once_with_file_and_line(tmp_path, capsys):
    cassette = tmp_path / "bomb.yaml"
    cassette.write_text("version: 1\n" + BOMB + "interactions: *l8\n")
    assert len(cassette.read_text()) < 700
    assert main(["validate", str(cassette)]) == 1
    captured = capsys.readouterr()
    assert f"{cassette}:{BOMB_LINE + 1}: not valid YAML: aliases expand to more than 100000 values" in (
        captured.out + captured.err
    )


def test_recursive_cassette_is_a_format_error_on_replay(tmp_path):
    cassette = tmp_path / "loop.yaml"
    cassette.write_text("version: 1\ninteractions: &all\n  - *all\n")
    with pytest.raises(CassetteFormatError) as raised:
        CassetteFile().load_cassette(cassette)
    assert raised.value.line == 3 and "recursive structure" in raised.value.problem


def test_deep_json_cassette_is_a_format_error_with_line(tmp_path):
    cassette = tmp_path / "deep.json"
    cassette.write_text('{"version": 1,\n "interactions": ' + "[" * 3000 + "]" * 3000 + "}")
    with pytest.raises(CassetteFormatError) as raised:
        CassetteFile().load_cassette(cassette)
    assert (raised.value.line, raised.value.problem) == (2, "not valid JSON: nested deeper than 512 levels")


def test_nesting_at_the_limit_loads(tmp_path):
    cassette = tmp_path / "ok.yaml"
    body = "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3)
    cassette.write_text(f"version: 1\nmetadata: {{deep: {body}}}\ninteractions: []\n")
    assert CassetteFile().load_cassette(cassette)[:2] == ([], [])


def _cassette_with_body(path, body: dict, headers: dict | None = None):
    import yaml

    document = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "GET",
                    "uri": "https://pve1.lan:8006/api2/json/nodes",
                    "body": None,
                    "headers": {},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json"], **(headers or {})},
                    "body": body,
                },
            }
        ],
    }
    path.write_text(yaml.safe_dump(document))
    return path


def test_deep_json_inside_a_recorded_body_is_named_with_its_line(tmp_path, capsys):
    deep = "[" * 3000 + "]" * 3000
    cassette = _cassette_with_body(tmp_path / "deep.yaml", {"json_text": '{"data": ' + deep + "}"})
    assert main(["validate", str(cassette)]) == 1
    out = capsys.readouterr().out
    assert f"{cassette}:2: interaction 1: invalid JSON body: json text or perl structure exceeds maximum nesting" in out


def test_a_gzip_bomb_in_a_recorded_body_is_refused_on_replay(tmp_path):
    import base64
    import gzip

    from pytest_pvemock.cassette.file_format import MAX_INFLATED

    bomb = gzip.compress(b"\0" * (MAX_INFLATED + 1), compresslevel=1)
    cassette = _cassette_with_body(
        tmp_path / "bomb.yaml", {"base64": base64.b64encode(bomb).decode()}, {"Content-Encoding": ["gzip"]}
    )
    with pytest.raises(CassetteFormatError, match=r"interaction 1: unreadable body: the body inflates to more than"):
        CassetteFile().load_cassette(cassette)
