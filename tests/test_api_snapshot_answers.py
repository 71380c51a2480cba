"""``/cluster/resources`` is encoded once per model snapshot: repeated answers still follow every change."""

from __future__ import annotations

import pytest

pytest.importorskip("proxmoxer")


def rows_by_id(api, **params):
    return {row["id"]: row for row in api.cluster.resources.get(**params)}


def test_repeated_answers_show_each_change_to_the_cluster(pve_api, pve_cluster):
    before = rows_by_id(pve_api)
    assert rows_by_id(pve_api) == before
    vmid = pve_cluster.add_vm(node=pve_cluster.nodes[0].name, name="added-later").vmid
    after = rows_by_id(pve_api)
    assert after[f"qemu/{vmid}"]["name"] == "added-later"
    pve_cluster.guest(vmid).config["name"] = "renamed"
    assert rows_by_id(pve_api)[f"qemu/{vmid}"]["name"] == "renamed"


def test_repeated_answers_follow_the_clock(pve_api, pve_cluster):
    running = next(row for row in pve_api.cluster.resources.get(type="vm") if row["status"] == "running")
    pve_cluster.clock.advance(60)
    again = rows_by_id(pve_api, type="vm")[running["id"]]
    assert again["uptime"] == running["uptime"] + 60


def test_filtered_and_whole_listings_do_not_stand_in_for_each_other(pve_api):
    whole = pve_api.cluster.resources.get()
    nodes = pve_api.cluster.resources.get(type="node")
    assert {row["type"] for row in nodes} == {"node"}
    assert pve_api.cluster.resources.get() == whole
    assert pve_api.cluster.resources.get(type="node") == nodes
    assert len(whole) > len(nodes)
