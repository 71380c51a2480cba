"""``DELETE /nodes/{node}/subscription``: pve-manager ``PVE/API2/Subscription.pm`` (14a22df3) ``delete`` (370-393)
unlinks ``/etc/subscription``; ``get`` (128-253) then answers ``notfound``."""

from __future__ import annotations

import pytest


@pytest.mark.pve_cluster("default")
def test_deleting_the_key_leaves_the_node_without_subscription(pve_api, pve_cluster):
    pve_cluster.node("pve2").level = "c"
    assert pve_api.nodes("pve2").subscription.get()["status"] == "active"
    assert pve_api.nodes("pve2").subscription.delete() is None
    answer = pve_api.nodes("pve2").subscription.get()
    assert answer["status"] == "notfound" and "key" not in answer and "nextduedate" not in answer
    levels = {row["node"]: row["level"] for row in pve_api.cluster.resources.get(type="node")}
    assert levels["pve2"] == ""
    # a node without /etc/subscription: nothing to delete, no error (Subscription.pm 389)
    assert pve_api.nodes("pve1").subscription.delete() is None
