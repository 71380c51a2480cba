"""``pvemock serve`` as a user runs it: prints where it listens, answers over TLS, stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import requests

PVEMOCK = [sys.executable, "-c", "import sys; from pytest_pvemock.cli import main; sys.exit(main())"]


def start_serve(*options: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start ``pvemock serve`` on a free port; returns it and what it announced (URL, CA file, Login, text)."""
    process = subprocess.Popen(
        [*PVEMOCK, "serve", "--port", "0", "--quiet", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    announced: dict[str, str] = {"text": ""}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        announced["text"] += line
        match = re.match(r"\s+(URL|CA file|Login):\s+(\S+(?: / \S+)?)", line)
        if match:
            announced[match.group(1)] = match.group(2)
        if line.startswith("Press Ctrl-C"):
            return process, announced
    process.kill()
    raise AssertionError(f"pvemock serve did not start: {process.stderr.read()}")


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    try:
        remaining, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, remaining


def test_serve_prints_url_ca_and_login_answers_over_tls_and_stops_on_ctrl_c():
    process, announced = start_serve()
    try:
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+/api2/json", announced["URL"])
        user, password = announced["Login"].split(" / ")
        assert (user, password) == ("root@pam", "pvemock")
        assert "loopback only" in announced["text"]
        response = requests.post(
            f"{announced['URL']}/access/ticket",
            data={"username": user, "password": password},
            verify=announced["CA file"],
            timeout=30,
        )
        assert response.status_code == 200
        assert response.json()["data"]["username"] == "root@pam"
    finally:
        code, remaining = stop(process)
    assert code == 0
    assert "stopped" in remaining


def test_serve_with_another_user_over_plain_http_warns_when_not_on_loopback():
    process, announced = start_serve("--http", "--host", "0.0.0.0", "--user", "ci@pve", "--password", "s3cret")
    try:
        assert announced["URL"].startswith("http://127.0.0.1:")
        assert announced["Login"] == "ci@pve / s3cret"
        assert "WARNING: bound to 0.0.0.0, not loopback" in announced["text"]
        response = requests.post(
            f"{announced['URL']}/access/ticket", data={"username": "ci@pve", "password": "s3cret"}, timeout=30
        )
        assert response.status_code == 200
    finally:
        code, _ = stop(process)
    assert code == 0


def test_serve_names_a_broken_scenario_without_a_traceback():
    process = subprocess.run(
        [*PVEMOCK, "serve", "--port", "0", "--scenario", "no-such-scenario"], capture_output=True, text=True, timeout=60
    )
    assert process.returncode == 2
    assert "no-such-scenario" in process.stderr
    assert "Traceback" not in process.stderr


def test_serve_without_trustme_names_the_extra_to_install():
    without_trustme = "import sys; sys.modules['trustme'] = None; from pytest_pvemock.cli import main; sys.exit(main())"
    process = subprocess.run(
        [sys.executable, "-c", without_trustme, "serve", "--port", "0"], capture_output=True, text=True, timeout=60
    )
    assert process.returncode == 2
    assert "pip install 'pytest-pvemock[server]'" in process.stderr and "--http" in process.stderr
    assert "Traceback" not in process.stderr


def test_a_library_server_without_trustme_names_the_extra_to_install():
    # only a server without a cluster makes a throwaway CA: one in front of a cluster presents its node's pve-ssl.pem
    script = (
        "import sys; sys.modules['trustme'] = None\n"
        "from pytest_pvemock import FakeCluster\n"
        "from pytest_pvemock.transports.server import PveServer\n"
        "with PveServer(FakeCluster.default(), port=0) as served:\n"
        "    print(served.ca_file.read_text().splitlines()[0])\n"
        "try:\n"
        "    PveServer(None, port=0, dispatcher=print).start()\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "-----BEGIN CERTIFICATE-----" in process.stdout, process.stderr
    assert "pip install 'pytest-pvemock[server]'" in process.stdout, process.stderr


def test_serve_churn_needs_a_moving_clock_and_good_numbers():
    for options, option in (
        (["--churn", "7"], "--churn"),
        (["--churn", "7", "--clock", "manual", "--churn-rate", "0"], "--churn-rate"),
        (["--churn-rate", "5"], "--churn-rate"),
    ):
        process = subprocess.run([*PVEMOCK, "serve", "--port", "0", *options], capture_output=True, text=True,
                                 timeout=60)  # fmt: skip
        assert process.returncode == 2 and option in process.stderr and "Traceback" not in process.stderr


def test_serve_with_churn_announces_it():
    process, announced = start_serve("--clock", "realtime", "--speed", "10", "--churn", "7", "--scenario",
                                     "ha-three-node")  # fmt: skip
    try:
        assert "Churn:    seed 7, 12 events/hour" in announced["text"]
    finally:
        code, _ = stop(process)
    assert code == 0


def test_serve_token_and_login_stay_through_scenario_loads_and_resets():
    secret = "7d2c9e4a-1b3f-4c5d-8e6f-0a1b2c3d4e5f"
    process, announced = start_serve("--password", "s3cretpw", "--token", f"root@pam!ci={secret}")
    try:
        assert "Token:    root@pam!ci" in announced["text"] and secret not in announced["text"]
        control = announced["URL"].replace("/api2/json", "/pvemock-api")
        with requests.Session() as session:
            session.headers["Authorization"] = f"PVEAPIToken=root@pam!ci={secret}"
            ca = announced["CA file"]  # per request: requests prefers REQUESTS_CA_BUNDLE over session.verify
            # a scenario that knows nothing of the server's login or token: loading it must not lock the caller out
            loaded = session.post(f"{control}/scenario", data=b"nodes: [{name: solo}]\n", verify=ca, timeout=30)
            assert loaded.status_code == 200, loaded.text
            assert session.post(f"{control}/reset", verify=ca, timeout=30).status_code == 200
            assert session.get(f"{control}/clock", verify=ca, timeout=30).status_code == 200
            nodes = session.get(f"{announced['URL']}/nodes", verify=ca, timeout=30).json()["data"]
            assert [node["node"] for node in nodes] == ["solo"]
        credentials = {"username": "root@pam", "password": "s3cretpw"}
        login = requests.post(f"{announced['URL']}/access/ticket", data=credentials, verify=announced["CA file"],
                              timeout=30)  # fmt: skip
        assert login.status_code == 200
    finally:
        code, _remaining = stop(process)
    assert code == 0


def test_serve_names_a_malformed_token():
    process = subprocess.run([*PVEMOCK, "serve", "--port", "0", "--token", "root@pam:ci"], capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    assert process.returncode == 2
    assert "--token must look like root@pam!ci=SECRET" in process.stderr and "Traceback" not in process.stderr
