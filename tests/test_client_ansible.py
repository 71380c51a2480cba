"""A real third-party client: the Ansible collection community.proxmox (bundled with the ``ansible`` PyPI package,
12.x) runs tests/ansible/provision.yml against ``pvemock serve`` over HTTPS.

Skipped unless ``ansible-playbook`` and the collection are installed next to this Python (the main suite does not
install them; ``.ci/run``'s Ansible stage does: ``pip install ansible proxmoxer -e .[server]``). The playbook checks
the cluster's state itself (``proxmox_vm_info`` and ``assert`` tasks); this test checks that no task failed and that
the second run of ``proxmox_disk`` and ``proxmox_nic`` reports ``changed: false``, as on PVE.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PLAYBOOK = Path(__file__).parent / "ansible" / "provision.yml"
PVEMOCK = [sys.executable, "-c", "import sys; from pytest_pvemock.cli import main; sys.exit(main())"]


def ansible_playbook() -> str | None:
    """``ansible-playbook`` beside this Python (its virtualenv), else on PATH, if community.proxmox is importable."""
    try:
        collection = importlib.util.find_spec("ansible_collections.community.proxmox")
    except ModuleNotFoundError:
        collection = None
    if collection is None or importlib.util.find_spec("proxmoxer") is None:
        return None
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else shutil.which("ansible-playbook")


PLAYBOOK_COMMAND = ansible_playbook()
pytestmark = pytest.mark.skipif(
    PLAYBOOK_COMMAND is None, reason="needs ansible (with community.proxmox) and proxmoxer: pip install ansible"
)


@pytest.fixture
def served(tmp_path):
    """``pvemock serve`` (default scenario, answers validated against PVE's schemas) on a free port."""
    process = subprocess.Popen(
        [*PVEMOCK, "serve", "--port", "0", "--quiet", "--validate", "--cert-dir", str(tmp_path / "certs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if match := re.match(r"\s+URL:\s+https://127\.0\.0\.1:(\d+)/api2/json", line):
            url = match.group(1)
        if line.startswith("Press Ctrl-C") and url:
            break
    else:
        process.kill()
    if url is None:
        process.kill()
        pytest.fail(f"pvemock serve did not start: {process.stderr.read()}")
    yield url, tmp_path / "certs" / "ca.pem"
    process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def run_playbook(port: str, ca_file: Path, workdir: Path) -> dict:
    inventory = workdir / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    env = {
        **os.environ,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_HOME": str(workdir / "home"),
        "ANSIBLE_NOCOLOR": "1",
        "REQUESTS_CA_BUNDLE": str(ca_file),  # proxmoxer (requests) checks the fake's certificate against its CA
    }
    assert PLAYBOOK_COMMAND is not None
    command = [PLAYBOOK_COMMAND, "-i", str(inventory), str(PLAYBOOK), "-e", "api_host=127.0.0.1", "-e"]
    done = subprocess.run(
        [*command, f"api_port={port}"], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    try:
        report: dict = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible-playbook said no JSON (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    report["returncode"] = done.returncode
    return report


def test_ansible_provisions_configures_snapshots_clones_migrates_destroys(served, tmp_path):
    port, ca_file = served
    report = run_playbook(port, ca_file, tmp_path)
    results = {task["task"]["name"]: task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]}
    failed = {name: result.get("msg") for name, result in results.items() if result.get("failed")}
    assert failed == {} and report["returncode"] == 0
    assert report["stats"]["localhost"]["failures"] == 0
    changed = {name for name, result in results.items() if result.get("changed")}
    first_runs = {"create VM", "add disk", "add NIC", "snapshot", "clone", "migrate", "destroy clone", "destroy VM"}
    assert first_runs <= changed
    # the second run finds what the first one made, as on PVE: a volume with its size, a NIC with its MAC
    assert "add disk again" in results and "add disk again" not in changed
    assert "add NIC again" in results and "add NIC again" not in changed
    assert {"create CT", "start CT", "stop CT", "destroy CT"} <= changed
    assert results["migrate"]["msg"] == "VM 150 has been migrated from pve1 to pve2"
