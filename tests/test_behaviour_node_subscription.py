"""``DELETE /nodes/{node}/subscription``: pve-manager ``PVE/API2/Subscription.pm`` (14a22df3) ``delete`` (370-393)
unlinks ``/etc/subscription``; ``get`` (128-253) then answers ``notfound``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from proxmoxer.core import ResourceException


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


# PUT: Subscription.pm ``set`` (313-368 @14a22df3); the key parameter's pattern (line 330) answers 400 before the code
@pytest.mark.pve_cluster("default")
def test_setting_a_key_the_shop_knows_makes_it_active(pve_api, pve_cluster):
    node = pve_cluster.node("pve1")
    node.level = ""
    node.shop_keys = frozenset({"pve2s-0123456789"})
    now = pve_cluster.clock.now()
    serverid = pve_api.nodes("pve1").subscription.get()["serverid"]
    assert pve_api.nodes("pve1").subscription.put(key="  pve2s-0123456789 ") is None
    answer = pve_api.nodes("pve1").subscription.get()
    assert answer["status"] == "active" and answer["key"] == "pve2s-0123456789" and answer["level"] == "s"
    assert answer["productname"] == "Proxmox VE Standard Subscription 2 CPUs/year"
    registered = datetime.fromtimestamp(now, tz=timezone.utc)
    assert answer["checktime"] == now and answer["regdate"] == registered.strftime("%Y-%m-%d %H:%M:%S")
    due = datetime.fromtimestamp(now + 365 * 86400, tz=timezone.utc)
    assert answer["nextduedate"] == due.strftime("%Y-%m-%d") and answer["serverid"] == serverid
    levels = {row["node"]: row["level"] for row in pve_api.cluster.resources.get(type="node")}
    assert levels["pve1"] == "s"
    with pytest.raises(ResourceException) as refused:
        pve_api.nodes("pve1").subscription.put(key="pve3c-0123456789")
    assert refused.value.status_code == 400 and "key" in (refused.value.errors or {})


@pytest.mark.pve_cluster("default")
def test_setting_a_key_the_shop_does_not_know_stores_it_invalid(pve_api, pve_cluster):
    assert pve_api.nodes("pve1").subscription.put(key="pve1p-00000000ff") is None
    answer = pve_api.nodes("pve1").subscription.get()
    assert answer["status"] == "invalid" and answer["key"] == "pve1p-00000000ff"
    assert "level" not in answer and "nextduedate" not in answer and "productname" not in answer
    levels = {row["node"]: row["level"] for row in pve_api.cluster.resources.get(type="node")}
    assert levels["pve1"] == ""


# POST: Subscription.pm ``update`` (255-311 @14a22df3): ``return undef if !force && cache_is_valid`` (line 295)
@pytest.mark.pve_cluster("default")
def test_checking_again_refreshes_checktime_only_when_forced_or_old(pve_api, pve_cluster):
    sub = pve_api.nodes("pve1").subscription
    before = sub.get()
    pve_cluster.clock.advance(3600)
    assert sub.post() is None
    assert sub.get()["checktime"] == before["checktime"]  # checked recently: not checked again
    assert sub.post(force=1) is None
    after = sub.get()
    assert after["checktime"] == pve_cluster.clock.now() and after["status"] == "active"
    assert (after["key"], after["regdate"]) == (before["key"], before["regdate"])
    node = pve_cluster.node("pve1")
    node.subscription = replace(node.subscription, checktime=pve_cluster.clock.now() - 16 * 86400)
    sub.post()
    assert sub.get()["checktime"] == pve_cluster.clock.now()  # older than 15 days: checked without force
    # a node without key: nothing to check
    pve_api.nodes("pve2").subscription.delete()
    assert pve_api.nodes("pve2").subscription.post(force=1) is None
    assert pve_api.nodes("pve2").subscription.get()["status"] == "notfound"
