"""Index methods answer PVE's own hand-written lists (contents, key and order), per PVE version.

Each expected list below was read from the Proxmox source named next to it (stable-8/bookworm branch for 8.4,
master at the 9.1 schema's date for 9.1).
"""

from __future__ import annotations

import pytest

from pytest_pvemock.api.index import index_key
from pytest_pvemock.api.index_listings import INDEX_LISTINGS
from pytest_pvemock.schema.registry import get_registry

pytest.importorskip("proxmoxer")

QEMU_9 = [
    "config", "cloudinit", "pending", "status", "unlink", "vncproxy", "termproxy", "migrate", "resize", "move", "rrd",
    "rrddata", "monitor", "agent", "snapshot", "spiceproxy", "sendkey", "firewall", "mtunnel", "remote_migrate",
]  # fmt: skip

CASES = [
    # (version, path, key, expected names, source read)
    ("9.1", "/nodes/pve1/qemu/100", "subdir", QEMU_9, "qemu-server src/PVE/API2/Qemu.pm vmdiridx"),
    ("9.1", "/nodes/pve1/qemu/100/status", "subdir",
     ["current", "start", "stop", "reset", "shutdown", "suspend", "reboot"],
     "qemu-server src/PVE/API2/Qemu.pm vmcmdidx"),
    ("8.4", "/nodes/pve3/lxc/111/status", "subdir",
     ["current", "start", "stop", "shutdown", "reboot", "migrate"], "pve-container src/PVE/API2/LXC/Status.pm"),
    ("9.1", "/nodes/pve1/storage/local", "subdir",
     ["content", "download-url", "file-restore", "import-metadata", "identity", "oci-registry-pull", "prunebackups",
      "rrd", "rrddata", "status", "upload"], "pve-storage src/PVE/API2/Storage/Status.pm"),
    ("8.4", "/nodes/pve1/storage/local", "subdir",
     ["content", "download-url", "file-restore", "import-metadata", "prunebackups", "rrd", "rrddata", "status",
      "upload"], "pve-storage src/PVE/API2/Storage/Status.pm (stable-8)"),
    ("8.4", "/cluster/ha", "id", ["status", "resources", "groups"], "pve-manager PVE/API2/HAConfig.pm (stable-8)"),
    ("9.1", "/access", "subdir",
     ["users", "groups", "roles", "acl", "domains", "openid", "tfa", "ticket", "password"],
     "pve-access-control src/PVE/API2/AccessControl.pm"),
    ("9.1", "/cluster/firewall", "name", ["aliases", "rules", "options", "groups", "ipset", "macros", "refs"],
     "pve-firewall src/PVE/API2/Firewall/Cluster.pm"),
    ("9.1", "/nodes/pve1/disks", "name",
     ["list", "initgpt", "smart", "lvm", "lvmthin", "directory", "wipedisk", "zfs"],
     "pve-storage src/PVE/API2/Disks.pm"),
    ("8.4", "/cluster/config", "name", ["nodes", "totem", "join", "qdevice", "apiversion"],
     "pve-cluster src/PVE/API2/ClusterConfig.pm (stable-bookworm)"),
    ("8.4", "/nodes/pve1/scan", "method", ["cifs", "glusterfs", "iscsi", "lvm", "nfs", "pbs", "zfs"],
     "pve-storage src/PVE/API2/Storage/Scan.pm (stable-8)"),
]  # fmt: skip


def _case(version, path, key, names, source):
    cluster = pytest.mark.pve_cluster(version=version, validate=True)
    return pytest.param(path, key, names, id=f"{version}{path}", marks=cluster)


@pytest.mark.parametrize(("path", "key", "names"), [_case(*case) for case in CASES])
def test_index_answers_pve_list(pve_api, path, key, names):
    assert pve_api(path).get() == [{key: name} for name in names]


def test_a_task_index_lists_log_and_status(pve_api):
    upid = pve_api.nodes("pve2").vzdump.post(vmid="102", storage="local")
    assert pve_api.nodes("pve2").tasks(upid).get() == [{"name": "log"}, {"name": "status"}]  # pve-manager Tasks.pm


@pytest.mark.parametrize("version", ["8.4", "9.1"])
def test_every_listing_uses_the_schema_key_of_an_index_that_exists(version):
    registry = get_registry(version)
    major = int(version.split(".")[0])
    for template, listings in INDEX_LISTINGS.items():
        if major not in listings:
            continue
        assert template in registry.paths, template
        key, names = listings[major]
        returns = registry.endpoint("GET", template).returns_schema
        named = list((returns.get("items") or {}).get("properties") or {})
        assert index_key(returns, registry.children(template)) is not None, template
        assert named in ([], [key]), template  # an index without a named key (``links`` only) takes PVE's href
        assert len(set(names)) == len(names), template
