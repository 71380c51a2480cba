"""Build the example cassettes in cassettes/, reproducibly.

From the real captures in third_party/pve-captures/ (served by the test suite's capture server,
tests/support/capture_server.py: real TLS on 127.0.0.1, a real login, answers taken verbatim from the captures):

- ``pve8-captures.yaml``: a monitoring tool's walk over the go-proxmox 4-node cluster (PVE 8): version,
  membership, resources, nodes, one running VM, a pool, and a task polled until it stops. Every answer matches
  the PVE 8.4 schema.
- ``pve-schema-drift.yaml``: a PVE 7.4 node status (no ``boot-info``, no ``current-kernel``) and a network list,
  recorded from a cluster whose ``/version`` says 8.4.1: what ``pvemock validate`` reports when a cluster's answers
  drift from the schema of its version.

From the fake itself in server mode (``PveServer`` over HTTPS, the built-in default scenario):

- ``fake-default.yaml``: the same walk plus starting a VM and waiting for its task; ``FakeCluster.from_cassette``
  turns it back into an equivalent fake.

Each is recorded by a proxmoxer client through the recorder, with the scrubbing users get. Two extra filters make
the files reproducible: the random local address becomes a fixed host name; ``Date`` and ``User-Agent`` are left out.

    python scripts/build_example_cassettes.py [FOLDER]
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.capture_server import TASK_UPID, capture_server  # noqa: E402

from pytest_pvemock import FakeCluster  # noqa: E402
from pytest_pvemock.transports.recording.recorder import RecordingOptions, open_cassette  # noqa: E402
from pytest_pvemock.transports.server import PveServer  # noqa: E402

DEFAULT_FOLDER = ROOT / "cassettes"


def public_address(host: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def rename(interaction: dict[str, Any]) -> dict[str, Any]:
        interaction["request"]["uri"] = re.sub(r"//127\.0\.0\.1:\d+/", f"//{host}/", interaction["request"]["uri"])
        return interaction

    return rename


def without_date(interaction: dict[str, Any]) -> dict[str, Any]:
    interaction["request"]["headers"].pop("User-Agent", None)  # names the requests version of whoever ran this
    headers = interaction["response"]["headers"]
    for name in [name for name in headers if name.lower() in ("date", "server")]:
        del headers[name]
    headers["Server"] = ["pve-api-daemon/3.0"]
    interaction["response"]["headers"] = dict(sorted(headers.items()))  # a server may send them in any order
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


def walk_fake(api: Any) -> None:
    api.version.get()
    api.cluster.status.get()
    api.cluster.resources.get()
    nodes = api.nodes.get()
    api.nodes(nodes[0]["node"]).status.get()
    api.pools.get()
    for pool in api.pools.get():
        api.pools(pool["poolid"]).get()
    stopped = next(row for row in api.cluster.resources.get(type="vm") if row["status"] == "stopped")
    guest = api.nodes(stopped["node"]).qemu(stopped["vmid"]) if stopped["type"] == "qemu" else None
    guest = guest or api.nodes(stopped["node"]).lxc(stopped["vmid"])
    guest.config.get()
    upid = guest.status.start.post()
    while api.nodes(stopped["node"]).tasks(upid).status.get()["status"] == "running":
        pass
    guest.status.current.get()
    api.cluster.resources.get(type="vm")


def build(folder: Path) -> list[Path]:
    written = []
    options = RecordingOptions(
        record_mode="rewrite", filters=[public_address("pve8.example.invalid:8006"), without_date]
    )
    with tempfile.TemporaryDirectory() as scratch, capture_server(Path(scratch)) as server:
        for name, walk in (("pve8-captures.yaml", walk_cluster), ("pve-schema-drift.yaml", walk_drift)):
            with open_cassette(folder / name, options, environ=server.environment()) as session:
                walk(session.client())
            written.append(folder / name)
    cluster = FakeCluster.default()
    environment = {"PVEMOCK_USER": cluster.user, "PVEMOCK_PASSWORD": cluster.password}
    options = RecordingOptions(record_mode="rewrite", filters=[public_address("pve.test:8006"), without_date])
    with PveServer(cluster) as fake:
        environment.update(PVEMOCK_HOST=f"127.0.0.1:{fake.port}", PVEMOCK_VERIFY_SSL=str(fake.ca_file))
        with open_cassette(folder / "fake-default.yaml", options, environ=environment) as session:
            walk_fake(session.client())
        written.append(folder / "fake-default.yaml")
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER):
        print(f"wrote {path}")
