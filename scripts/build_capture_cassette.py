"""Build the example cassettes in cassettes/ from the real captures in third_party/pve-captures/.

- ``pve8-captures.yaml``: a monitoring tool's walk over the go-proxmox 4-node cluster (PVE 8): version,
  membership, resources, nodes, one running VM, a pool, and a task polled until it stops. Every answer matches
  the PVE 8.4 schema.
- ``pve-schema-drift.yaml``: answers that do not: a PVE 7.4 node status (no ``boot-info``, ``current-kernel``)
  and a network list with CIDR lengths as ``netmask``, recorded from a cluster whose ``/version`` says 8.4.1.
  It shows what ``pvemock validate`` reports when a cluster's answers drift from the schema.

It starts the capture server of the test suite (tests/pve_capture_server.py: real TLS on 127.0.0.1, a real login,
answers taken verbatim from the captures), records a proxmoxer client walking the cluster through the recorder,
and writes the cassette with the same scrubbing users get. Two extra filters make the file reproducible: the
random local address becomes ``pve8.example.invalid:8006``; the ``Date`` and ``User-Agent`` headers are left out.

    python scripts/build_capture_cassette.py [FOLDER]
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pve_capture_server import TASK_UPID, capture_server  # noqa: E402

from pytest_pvemock.transports.recording.recorder import RecordingOptions, open_cassette  # noqa: E402

DEFAULT_FOLDER = ROOT / "cassettes"
PUBLIC_HOST = "pve8.example.invalid:8006"


def public_address(interaction: dict[str, Any]) -> dict[str, Any]:
    interaction["request"]["uri"] = re.sub(r"//127\.0\.0\.1:\d+/", f"//{PUBLIC_HOST}/", interaction["request"]["uri"])
    return interaction


def without_date(interaction: dict[str, Any]) -> dict[str, Any]:
    interaction["request"]["headers"].pop("User-Agent", None)  # names the requests version of whoever ran this
    headers = interaction["response"]["headers"]
    for name in [name for name in headers if name.lower() in ("date", "server")]:
        del headers[name]
    headers["Server"] = ["pve-api-daemon/3.0"]
    return interaction


def walk_cluster(api: Any) -> None:
    """What a monitoring tool asks a cluster: version, membership, resources, a VM, a pool, a task until it ends."""
    api.version.get()
    api.cluster.status.get()
    api.cluster.resources.get()
    api.cluster.resources.get(type="vm")
    api.nodes.get()
    api.nodes("node1").qemu(101).status.current.get()
    api.pools("testpool").get()
    task = api.nodes("node1").tasks(TASK_UPID).status
    while task.get()["status"] == "running":
        pass


def walk_drift(api: Any) -> None:
    api.version.get()
    api.nodes("node1").status.get()
    api.nodes("node1").network.get()


def build(folder: Path) -> list[Path]:
    options = RecordingOptions(record_mode="rewrite", filters=[public_address, without_date])
    written = []
    with tempfile.TemporaryDirectory() as scratch, capture_server(Path(scratch)) as server:
        for name, walk in (("pve8-captures.yaml", walk_cluster), ("pve-schema-drift.yaml", walk_drift)):
            with open_cassette(folder / name, options, environ=server.environment()) as session:
                walk(session.client())
            written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER):
        print(f"wrote {path}")
