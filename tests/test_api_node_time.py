"""``/nodes/{node}/time``: server time in UTC epoch, ``localtime`` shifted by the cluster's zone, and setting it."""

from __future__ import annotations

import proxmoxer
import pytest
from proxmoxer.core import ResourceException

from pytest_pvemock import mock
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.ha.status import perl_localtime


@pytest.fixture
def vienna():
    cluster = FakeCluster.from_scenario("ha-three-node", timezone="Europe/Vienna")
    with mock(cluster, validate=True):
        yield (
            cluster,
            proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False),
        )


def test_localtime_is_the_epoch_shifted_by_the_zones_offset(vienna):
    cluster, api = vienna
    now = cluster.clock.now()
    assert api.nodes("pve1").time.get() == {"timezone": "Europe/Vienna", "time": now, "localtime": now + 7200}


def test_localtime_follows_daylight_saving_time():
    december = FakeCluster.from_scenario("single-node", timezone="Europe/Vienna", start_time=1796198400)
    with mock(december, validate=True):
        api = proxmoxer.ProxmoxAPI(december.host, user=december.user, password=december.password, verify_ssl=False)
        answer = api.nodes(december.nodes[0].name).time.get()
    assert answer["time"] == 1796198400 and answer["localtime"] == 1796198400 + 3600


def test_setting_the_zone_changes_the_ha_status_texts(vienna):
    cluster, api = vienna
    api.nodes("pve2").time.put(timezone="UTC")
    assert cluster.timezone == "UTC"
    assert api.nodes("pve1").time.get()["localtime"] == cluster.clock.now()
    cluster.clock.advance(20)
    master = next(row for row in api.cluster.ha.status.current.get() if row["id"] == "master")
    assert master["status"] == f"pve1 (active, {perl_localtime(master['timestamp'])})"


def test_an_unknown_zone_is_refused_like_pve(vienna):
    cluster, api = vienna
    with pytest.raises(ResourceException) as error:
        api.nodes("pve1").time.put(timezone="Europe/Atlantis")
    assert error.value.status_code == 400 and error.value.errors == {"timezone": "No such timezone"}
    assert cluster.timezone == "Europe/Vienna"
