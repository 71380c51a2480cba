"""``pvemock ctl`` as a shell script uses it: against a running server, JSON out, errors naming the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_pvemock.cli import main
from pytest_pvemock.transports.server import PveServer


@pytest.fixture
def ctl(pve_server: PveServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    with pve_server.lock:
        secret = pve_server.cluster.access.add_token("root@pam", "ci", privsep=False)
    monkeypatch.setenv("PVEMOCK_URL", pve_server.url)
    monkeypatch.setenv("PVEMOCK_TOKEN", f"root@pam!ci={secret}")
    monkeypatch.setenv("PVEMOCK_CA", str(pve_server.ca_file))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["ctl", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_clock_node_and_requests(ctl, pve_server: PveServer) -> None:
    code, out, _ = ctl("clock", "advance", "60")
    assert code == 0 and json.loads(out)["now"] == pve_server.cluster.clock.now()
    code, out, _ = ctl("node", "power-off", "pve2")
    assert code == 0 and json.loads(out)["online"] is False
    assert not pve_server.cluster.node("pve2").online
    code, out, _ = ctl("errors", "inject", "GET", "/version", "--code", "503", "--always")
    assert code == 0 and json.loads(out)["error"]["times"] is None
    code, out, _ = ctl("requests", "--path", "/nodes")
    assert code == 0 and json.loads(out) == {"requests": []}


def test_scenario_dump_and_load_through_files(ctl, pve_server: PveServer, tmp_path: Path) -> None:
    code, dumped, _ = ctl("scenario", "dump")
    assert code == 0 and dumped.startswith("description:") and "guests:" in dumped
    path = tmp_path / "cluster.yaml"
    path.write_text(dumped.replace("name: web01", "name: web99"))
    code, out, _ = ctl("--password", "pvemock", "--token", "", "scenario", "load", str(path))
    assert code == 0, out
    assert pve_server.cluster.guest(100).config["name"] == "web99"


def test_refusals_and_bad_options_say_which(ctl, pve_server: PveServer) -> None:
    code, _, err = ctl("node", "power-off", "nosuch")
    assert code == 1 and "404" in err and "no such node" in err
    code, _, err = ctl("--url", "ftp://x", "clock")
    assert code == 2 and "--url" in err
    code, _, err = ctl("--cacert", "/no/such/ca.pem", "clock")
    assert code == 2 and "--cacert" in err
    code, _, err = ctl("--token", "nonsense", "clock")
    assert code == 2 and "--token" in err
    code, _, err = ctl("--token", "root@pam!ci=wrong", "clock")
    assert code == 1 and "401" in err
    code, _, err = ctl("node", "maintenance", "pve1")
    assert code == 2 and "on or off" in err
    with pve_server.lock:
        port = pve_server.port
    code, _, err = ctl("--url", f"https://127.0.0.1:{port + 1 if port < 65535 else 1}", "clock")
    assert code == 2 and "cannot reach" in err and "Traceback" not in err


def test_watch_shows_nodes_guests_and_the_churn(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("trustme")
    from pytest_pvemock import ChurnSettings, FakeCluster

    cluster = FakeCluster.from_scenario("ha-three-node")
    with PveServer(cluster, clock="manual", churn=ChurnSettings(5, rate=30)) as server:
        server.control.power_off("pve3")
        server.control.advance(3600)
        options = ["--url", server.url, "--cacert", str(server.ca_file), "--password", server.password]
        assert main(["watch", "--once", *options]) == 0
        frame = capsys.readouterr().out
        assert "(manual)" in frame and "churn: seed 5, 30 events/hour" in frame
        rows = {line.split()[0]: line.split() for line in frame.splitlines() if line.startswith(("pve", "10", "200"))}
        assert rows["pve1"][1] == "online" and {"100", "101", "102", "200"} <= set(rows)
        assert len([line for line in frame.splitlines() if line.startswith("  ")]) >= 3  # the last events
        assert main(["watch", "--once", "--interval", "0", *options]) == 2
        assert "--interval" in capsys.readouterr().err
