"""A downstream test as a user writes it: proxmoxer against pve_cluster, no extra setup, answers schema-checked."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.tools import Tasks  # noqa: E402


def wait(api, upid):
    status = Tasks.blocking_status(api, upid, timeout=5, polling_interval=0.01)
    assert status["exitstatus"] == "OK", status
    return status


def test_list_start_stop_migrate_clone_and_read_back(pve_api):
    nodes = sorted(node["node"] for node in pve_api.nodes.get())
    vm = next(row for row in pve_api.cluster.resources.get(type="vm") if row["type"] == "qemu" and not row["template"])
    node, vmid = vm["node"], vm["vmid"]
    guest = pve_api.nodes(node).qemu(vmid)

    if guest.status.current.get()["status"] == "running":
        wait(pve_api, guest.status.stop.post())
    assert guest.status.current.get()["status"] == "stopped"
    wait(pve_api, guest.status.start.post())
    assert guest.status.current.get()["status"] == "running"
    wait(pve_api, guest.status.stop.post())

    target = next(name for name in nodes if name != node)
    wait(pve_api, guest.migrate.post(target=target))
    moved = pve_api.nodes(target).qemu(vmid)
    assert moved.status.current.get()["status"] == "stopped"

    newid = int(pve_api.cluster.nextid.get())
    wait(pve_api, moved.clone.post(newid=newid, name="copy"))
    rows = {row["vmid"]: row for row in pve_api.cluster.resources.get(type="vm")}
    assert rows[vmid]["node"] == target
    assert (rows[newid]["node"], rows[newid]["name"]) == (target, "copy")
    assert any(task["type"] == "qmclone" for task in pve_api.nodes(target).tasks.get())
