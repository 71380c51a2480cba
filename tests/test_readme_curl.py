"""The README's curl example of the control API, run line by line with bash and curl against a real server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_pvemock.transports.server import PveServer

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def curl_example() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    return next(block for block in blocks if "/pvemock-api" in block and "ctl()" in block)


@pytest.mark.pve_cluster("ha-three-node")
def test_the_readme_curl_example_runs(pve_server: PveServer, tmp_path: Path) -> None:
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("needs curl and bash")
    with pve_server.lock:
        pve_server.cluster.access.add_token("root@pam", "ci", privsep=False, secret="SECRET")
    shutil.copy(pve_server.ca_file, tmp_path / "ca.pem")
    script = curl_example().replace("https://127.0.0.1:8006", pve_server.url)
    # every call must answer 200: curl fails on anything else, and so does the script
    script = script.replace("curl -s ", "curl -sS --fail-with-body ")
    outputs = []
    lines = script.splitlines()
    prelude = "\n".join(line for line in lines if line.startswith(("U=", "ctl()")))
    for line in lines:
        if line.startswith(("U=", "ctl()")) or not line.strip():
            continue
        done = subprocess.run(["bash", "-c", f"{prelude}\n{line}"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    clock, *_ = outputs
    assert json.loads(clock)["mode"] == "instant"
    assert "guests:" in (tmp_path / "cluster.yaml").read_text()
    assert json.loads(outputs[-1])["openapi"].startswith("3.1")
    # the reset went back to the scenario loaded last: dumped after pve2 was powered off
    assert not pve_server.cluster.node("pve2").online and pve_server.cluster.node("pve1").online
