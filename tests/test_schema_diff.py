"""``pvemock schemas diff A B``: what a client maintainer must know before upgrading from release A to B."""

from __future__ import annotations

import json

from pytest_pvemock.cli import main


def test_8_4_to_9_1_names_the_ha_rules_endpoints(capsys):
    assert main(["schemas", "diff", "8.4", "9.1"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("PVE 8.4.2 -> 9.1.5: 63 method(s) added, 1 removed, ")
    for method in ("GET", "POST"):
        assert f"  + {method} /cluster/ha/rules\n" in out
    for method in ("GET", "PUT", "DELETE"):
        assert f"  + {method} /cluster/ha/rules/{{rule}}\n" in out


def test_7_4_to_8_1_shows_the_memory_type_change_of_qemu_server_8_0_8(capsys):
    # qemu-server 8.0.8 made 'memory' a property string (current=..., the amount in MiB) instead of an integer
    assert main(["schemas", "diff", "7.4", "8.1", "--format", "json"]) == 0

    diff = json.loads(capsys.readouterr().out)
    assert (diff["from"], diff["to"]) == ("7.4-2", "8.1.5")
    for name in ("POST /nodes/{node}/qemu", "PUT /nodes/{node}/qemu/{vmid}/config"):
        parameters = diff["methods_changed"][name]["parameters"]
        assert parameters["changed"]["memory"]["type"] == ["integer", "string"]
        assert "memory{current}" in parameters["added"]
    answer = diff["methods_changed"]["GET /nodes/{node}/qemu/{vmid}/config"]["returns"]
    assert answer["changed"]["memory"]["type"] == ["integer", "string"]


def test_the_text_lists_parameter_changes_one_per_line(capsys):
    assert main(["schemas", "diff", "7.4", "8.1"]) == 0

    out = capsys.readouterr().out
    assert "  PUT /nodes/{node}/qemu/{vmid}/config\n" in out
    assert (
        "    parameter memory: type integer -> string; format (none) -> (property string); default 512 -> (none)" in out
    )
    assert "  - " in out  # 7.4 methods that 8.1 no longer has are listed as removed


def test_a_release_against_itself_has_no_change(capsys):
    assert main(["schemas", "diff", "8.2.0", "8.2.0"]) == 0
    assert capsys.readouterr().out == "PVE 8.2.0 -> 8.2.0: 0 method(s) added, 0 removed, 0 changed\n"


def test_an_unknown_release_is_a_usage_error(capsys):
    assert main(["schemas", "diff", "8.4", "9.9"]) == 2
    assert "PVE version '9.9' is not a known release" in capsys.readouterr().err
