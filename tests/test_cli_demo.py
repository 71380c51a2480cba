"""``pvemock demo``: what a new user sees first, read the way they would read it."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_pvemock.cli import main

pytest.importorskip("proxmoxer")

UPID = re.compile(
    r"UPID:(?P<node>[\w.-]+):(?P<pid>[0-9A-F]{8}):(?P<pstart>[0-9A-F]{8}):(?P<starttime>[0-9A-F]{8}):"
    r"(?P<type>\w+):(?P<id>[^:]*):(?P<user>[^:]+):"
)


def run_demo(capsys, *args):
    code = main(["demo", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def table_after(text, header_start):
    """The rows (cells split on runs of 2+ spaces) of the first table whose header starts with ``header_start``.

    A line with another number of cells (the prose after the table) ends it.
    """
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header_start))
    width = len(re.split(r"\s{2,}", lines[start].strip()))
    rows = []
    for line in lines[start + 1 :]:
        cells = re.split(r"\s{2,}", line.strip())
        if not line.startswith("  ") or len(cells) != width:
            break
        rows.append(cells)
    return rows


def section(text, title):
    """The text of one ``== title ==`` section."""
    _, _, rest = text.partition(f"== {title} ==")
    return rest.split("\n== ", 1)[0]


@pytest.fixture(scope="module")
def default_output():
    from pytest_pvemock.cli.demo import Demo, build_cluster

    out = io.StringIO()
    Demo(out).run(build_cluster("default", None), "default", None)
    return out.getvalue()


def test_demo_exits_0_and_prints_every_part(capsys):
    code, out, err = run_demo(capsys)
    assert code == 0 and err == ""
    for title in ("The cluster", "A task's life", "A migration, step by step"):
        assert f"== {title} ==" in out
    assert "\033[" not in out  # not a terminal: no colour codes


def test_demo_shows_the_cluster_nodes_guests_and_storage(default_output):
    cluster = section(default_output, "The cluster")
    assert "cluster 'pvemock': 3 nodes, quorate" in cluster
    nodes = table_after(cluster, "NODE")
    assert [row[:2] for row in nodes] == [["pve1", "online"], ["pve2", "online"], ["pve3", "online"]]
    assert all(re.fullmatch(r"\d+\.\d% of \d+", row[2]) for row in nodes)
    guests = {row[0]: row for row in table_after(cluster, "VMID")}
    assert set(guests) == {"100", "101", "102", "103", "110", "111", "9000"}
    assert guests["100"][2:5] == ["web01", "pve1", "running"]
    assert guests["102"][2:5] == ["build01", "pve2", "stopped"]
    assert guests["9000"][1] == "qemu (template)"
    storage = table_after(cluster, "STORAGE")
    assert storage[-1][:4] == ["nas", "pve1,pve2,pve3", "nfs", "yes"]  # a shared storage once, for every node
    assert sum(1 for row in storage if row[0] == "local-lvm") == 3


def test_demo_shows_a_task_from_upid_to_log(default_output):
    part = section(default_output, "A task's life")
    upid = UPID.search(part)
    assert upid is not None and upid["node"] == "pve2" and upid["type"] == "qmstart" and upid["id"] == "102"
    assert upid["user"] == "root@pam"
    fields = {row[0]: row[1:] for row in table_after(part, "FIELD")}
    assert fields["pid"] == [str(int(upid["pid"], 16)), upid["pid"]]
    assert fields["pstart"] == [str(int(upid["pstart"], 16)), upid["pstart"]]
    assert fields["starttime"][1] == upid["starttime"] and fields["starttime"][0].endswith(" UTC")
    steps = table_after(part, "CLOCK")
    assert steps[0] == ["t+0s", "running", "-", "stopped"]
    assert steps[-1][1:] == ["stopped", "OK", "running"]
    assert [row[1] for row in table_after(part, "N  LINE")][-1] == "TASK OK"


def test_demo_shows_the_migration_lock_then_the_node_change(default_output):
    part = section(default_output, "A migration, step by step")
    upid = UPID.search(part)
    assert upid is not None and upid["type"] == "qmigrate" and upid["id"] == "100" and upid["node"] == "pve1"
    steps = table_after(part, "CLOCK")
    header = ["CLOCK", "TASK STATUS", "EXITSTATUS", "NODE", "LOCK", "STATUS"]
    rows = [dict(zip(header, row, strict=True)) for row in steps]
    running = [row for row in rows if row["TASK STATUS"] == "running"]
    assert len(running) >= 2  # seen while it runs, not only before and after
    assert all(row["NODE"] == "pve1" and row["LOCK"] == "migrate" for row in running)
    assert rows[-1] == {**rows[-1], "TASK STATUS": "stopped", "EXITSTATUS": "OK", "NODE": "pve2", "LOCK": "-"}
    assert rows[-1]["STATUS"] == "running"
    log = [row[1] for row in table_after(part, "N  LINE")]
    assert log[0].endswith("starting migration of VM 100 to node 'pve2' (192.168.100.12)") and log[-1] == "TASK OK"


def test_demo_shows_ha_failover_when_the_cluster_runs_the_ha_manager(default_output):
    from pytest_pvemock.model.cluster import FakeCluster

    wired = FakeCluster.from_scenario("ha-three-node").ha_provider is not None
    assert ("== HA failover ==" in default_output) is wired
    if wired:
        part = section(default_output, "HA failover")
        rows = table_after(part, "CLOCK")  # CLOCK, HASTATE, NODE, STATUS, a row whenever something changed
        first, last = rows[0], rows[-1]
        assert first[0] == "before" and first[1:] == ["started", first[2], "running"]
        assert "fence" in [row[1] for row in rows]  # seen between the power loss and the recovery
        assert last[1] == "started" and last[2] != first[2] and last[3] == "running"


def test_demo_follows_an_ha_managed_guest_until_the_ha_manager_has_moved_it(capsys):
    code, out, err = run_demo(capsys, "--scenario", "ha-three-node")
    assert code == 0, err
    part = section(out, "A migration, step by step")
    target = re.search(r"move it to (\w+)\.", part).group(1)
    rows = table_after(part, "CLOCK")
    header = re.split(r"\s{2,}", next(line for line in part.splitlines() if "CLOCK" in line).strip())
    last = dict(zip(header, rows[-1], strict=True))
    assert last["TASK STATUS"] == "stopped" and last["EXITSTATUS"] == "OK"
    assert last["NODE"] == target and last["LOCK"] == "-" and last["STATUS"] == "running"
    assert last.get("HASTATE", "started") == "started"  # an HA request task ends before the guest moves


def test_demo_on_another_scenario_and_version(capsys):
    code, out, _ = run_demo(capsys, "--scenario", "single-node", "--pve-version", "8.4")
    assert code == 0
    assert "Proxmox VE 8.4.2" in out  # 8.4 is its last release
    assert "needs a running guest and a second online node" in out  # one node: nothing to migrate to


def test_demo_names_the_file_and_line_of_a_broken_scenario(capsys, tmp_path):
    broken = tmp_path / "lab.yaml"
    broken.write_text("nodes:\n  - {name: pve1, cpu: 4}\n")
    code, out, err = run_demo(capsys, "--scenario", str(broken))
    assert code == 2 and out == ""
    assert f"{broken}, line 2" in err and "cpu" in err and "Traceback" not in err


def test_demo_without_proxmoxer_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "proxmoxer", None)  # import proxmoxer -> ImportError
    code, out, err = run_demo(capsys)
    assert code == 1 and out == ""
    assert "pip install 'pytest-pvemock[proxmoxer]'" in err and "Traceback" not in err


def test_the_pvemock_console_script_runs_the_demo():
    script = Path(sys.executable).with_name("pvemock")
    command = [str(script), "demo"] if script.exists() else [sys.executable, "-m", "pytest_pvemock.cli", "demo"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert UPID.search(done.stdout) and "TASK OK" in done.stdout


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_demo_headings_are_bold_on_a_terminal_unless_no_color(monkeypatch):
    from pytest_pvemock.cli.demo import Demo

    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = Terminal()
    Demo(terminal).section("The cluster")
    assert "\033[1m== The cluster ==\033[0m" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    Demo(plain).section("The cluster")
    assert plain.getvalue().strip() == "== The cluster =="
