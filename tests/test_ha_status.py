"""What the API shows of HA state: hastate, status/current rows and texts, manager_status, is_primary."""

from __future__ import annotations

import calendar
import datetime as dt
from types import SimpleNamespace

import pytest

from pytest_pvemock.model.ha.ha_files import HAFiles
from pytest_pvemock.model.ha.provider import HAStatusProvider
from pytest_pvemock.model.ha.status import (
    guest_ha_status,
    guest_hastate,
    ha_manager_status,
    ha_status_current,
    is_ha_managed,
    is_primary,
    node_hastate,
    perl_localtime,
    sid_of,
    verbose_service_state,
)

# Wed Nov 23 11:07:23 2016 UTC, the time in SPEC 2.4's `ha-manager status` example
T0 = calendar.timegm((2016, 11, 23, 11, 7, 23))


def manager_status(**services: dict) -> dict:
    return {
        "master_node": "node1",
        "timestamp": T0,
        "node_status": {"node1": "online", "node2": "online"},
        "service_status": services,
    }


def lrm(state: str = "active", mode: str = "active", timestamp: int = T0 - 4) -> dict:
    return {"state": state, "mode": mode, "results": {}, "timestamp": timestamp}


def test_sid_maps_guest_types() -> None:
    assert sid_of("qemu", 100) == "vm:100"
    assert sid_of("lxc", "101") == "ct:101"


def test_guest_hastate_is_the_crm_state_then_the_request_state_then_absent() -> None:
    ms = manager_status(**{"vm:100": {"state": "stopped", "node": "node1"}})
    resources = {"vm:100": {"state": "disabled", "node": "node1"}, "vm:101": {"state": "started", "node": "node1"}}
    # a disabled HA guest shows "stopped", the CRM's state
    assert guest_hastate("vm:100", ms, resources) == "stopped"
    # not yet seen by the CRM: the raw request state
    assert guest_hastate("vm:101", ms, resources) == "started"
    assert guest_hastate("vm:102", ms, resources) is None
    assert guest_hastate("ct:200", ms, {"ct:200": {"state": "ignored", "node": "node2"}}) == "ignored"


def test_node_hastate_comes_from_node_status() -> None:
    ms = manager_status()
    ms["node_status"]["node3"] = "fence"
    assert node_hastate("node3", ms) == "fence"
    assert node_hastate("node9", ms) is None


@pytest.mark.parametrize(
    ("sd", "cfg", "expected"),
    [
        (None, None, "deleting"),
        (None, {"state": "ignored", "node": "node1"}, "ignored"),
        (None, {"state": "started"}, "not found"),
        (None, {"state": "started", "node": "node1"}, "queued"),
        ({"state": "stopped"}, {"state": "started", "node": "node1"}, "starting"),
        ({"state": "stopped"}, {"state": "disabled", "node": "node1"}, "disabled"),
        ({"state": "started", "running": 1}, {"state": "disabled", "node": "node1"}, "stopping"),
        # started without running beats stopping
        ({"state": "started"}, {"state": "stopped", "node": "node1"}, "starting"),
        ({"state": "started", "running": 1}, {"state": "started", "node": "node1"}, "started"),
        ({"state": "error"}, {"state": "disabled", "node": "node1"}, "clearing error flag"),
        ({"state": "migrate"}, {"state": "started", "node": "node1"}, "migrate"),
    ],
)
def test_verbose_service_state(sd: dict | None, cfg: dict | None, expected: str) -> None:
    assert verbose_service_state(sd, cfg) == expected


def test_perl_localtime_pads_the_day_with_a_space() -> None:
    assert perl_localtime(T0) == "Wed Nov 23 11:07:23 2016"
    assert perl_localtime(calendar.timegm((2026, 9, 1, 8, 0, 0))) == "Tue Sep  1 08:00:00 2026"
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert perl_localtime(1789062521, plus_two) == "Thu Sep 10 19:48:41 2026"  # QUIRKS 2.6


def test_status_current_rows_and_texts() -> None:
    ms = manager_status(**{"vm:100": {"state": "started", "node": "node1", "running": 1, "uid": "x"}})
    resources = {"vm:100": {"node": "node1"}, "vm:101": {"node": "node2", "state": "started", "max_restart": 3}}
    rows = ha_status_current(
        node="node1",
        quorate=True,
        manager_status=ms,
        lrm_status={"node1": lrm(), "node2": lrm(state="wait_for_agent_lock")},
        resources=resources,
        now=T0 + 2,
    )
    assert [r["id"] for r in rows] == [
        "quorum",
        "master",
        "fencing",
        "lrm:node1",
        "lrm:node2",
        "service:vm:100",
        "service:vm:101",
    ]
    by_id = {r["id"]: r for r in rows}
    assert by_id["quorum"] == {"id": "quorum", "type": "quorum", "node": "node1", "status": "OK", "quorate": 1}
    assert by_id["master"]["status"] == "node1 (active, Wed Nov 23 11:07:23 2016)"
    assert by_id["fencing"]["status"] == "armed (CRM watchdog active)"
    assert by_id["lrm:node1"]["status"] == "node1 (active, watchdog active, Wed Nov 23 11:07:19 2016)"
    assert by_id["lrm:node2"]["status"] == "node2 (idle, watchdog standby, Wed Nov 23 11:07:19 2016)"
    service = by_id["service:vm:100"]
    assert service["status"] == "vm:100 (node1, started)"
    # defaults are filled in for the service rows
    assert (service["request_state"], service["max_restart"], service["max_relocate"], service["failback"]) == (
        "started",
        1,
        1,
        1,
    )
    assert service["crm_state"] == "started"
    queued = by_id["service:vm:101"]
    assert queued["state"] == "queued" and "crm_state" not in queued and queued["max_restart"] == 3


def test_status_current_of_pve8_has_no_failback() -> None:
    rows = ha_status_current(
        node="node1",
        quorate=True,
        manager_status=manager_status(),
        lrm_status={},
        resources={"vm:100": {"node": "node1", "group": "g1"}},
        now=T0,
        fencing_row=False,
        failback_field=False,
    )
    service = rows[-1]
    assert "failback" not in service and service["group"] == "g1" and service["state"] == "queued"


def test_status_current_without_quorum_master_or_lrm_file() -> None:
    rows = ha_status_current(
        node="node2",
        quorate=False,
        manager_status={"node_status": {"node2": "unknown"}},
        lrm_status={},
        resources={},
        now=T0,
        fencing_row=False,
    )
    assert rows[0]["status"] == "No quorum on node 'node2'!" and rows[0]["quorate"] == 0
    assert [r["id"] for r in rows] == ["quorum", "lrm:node2"]
    assert rows[1] == {"id": "lrm:node2", "type": "lrm", "node": "node2", "status": "node2 (unable to read lrm status)"}


def test_status_current_stale_master_maintenance_and_crs() -> None:
    ms = manager_status()
    rows = ha_status_current(
        node="node1",
        quorate=True,
        manager_status=ms,
        lrm_status={"node1": lrm(state="maintenance", mode="maintenance", timestamp=T0 + 100)},
        resources={"vm:100": {"node": "node1"}},
        now=T0 + 100,
        crs_mode="static",
        fencing_row=False,
    )
    by_id = {r["id"]: r for r in rows}
    assert by_id["master"]["status"] == "node1 (old timestamp - dead?, Wed Nov 23 11:07:23 2016) - static load CRS"
    assert by_id["lrm:node1"]["status"] == "node1 (maintenance mode, Wed Nov 23 11:09:03 2016)"


def test_status_current_after_migration_shows_starting_on_the_target() -> None:
    ms = manager_status(**{"vm:100": {"state": "started", "node": "node2", "uid": "y"}})
    rows = ha_status_current(
        node="node1", quorate=True, manager_status=ms, lrm_status={}, resources={"vm:100": {"node": "node2"}}, now=T0
    )
    assert rows[-1]["status"] == "vm:100 (node2, starting)"


def test_manager_status_object() -> None:
    ms = manager_status()
    data = ha_manager_status(node="node1", quorate=True, manager_status=ms, lrm_status={"node1": lrm()})
    assert data["manager_status"] is ms
    assert data["quorum"] == {"node": "node1", "quorate": "1"}
    assert data["lrm_status"] == {"node1": lrm(), "node2": {}}


@pytest.mark.parametrize(
    ("sd", "running_on", "node", "expected"),
    [
        ({"state": "started", "node": "node1", "running": 1}, "node1", "node1", True),
        ({"state": "started", "node": "node1", "running": 1}, "node1", "node2", False),
        ({"state": "started", "node": "node2"}, None, "node2", False),  # recovered, not started yet
        ({"state": "migrate", "node": "node1", "target": "node2"}, "node1", "node1", False),
        ({"state": "relocate", "node": "node1", "target": "node2"}, "node1", "node1", False),
        ({"state": "fence", "node": "node1"}, "node1", "node1", False),
        ({"state": "recovery", "node": "node1"}, None, "node1", False),
        ({"state": "freeze", "node": "node1"}, "node1", "node1", False),
        ({"state": "request_stop", "node": "node1"}, "node1", "node1", False),
        ({"state": "error", "node": "node1"}, "node1", "node1", False),
    ],
)
def test_is_primary_in_every_state(sd: dict, running_on: str | None, node: str, expected: bool) -> None:
    ms = manager_status(**{"vm:100": sd})
    resources = {"vm:100": {"state": "started", "node": sd["node"]}}
    assert is_primary("vm:100", node, manager_status=ms, resources=resources, running_on=running_on) is expected


def test_is_primary_for_guests_ha_does_not_manage() -> None:
    ms = manager_status()
    assert is_primary("vm:200", "node1", manager_status=ms, resources={}, running_on="node1")
    ignored = {"vm:200": {"state": "ignored", "node": "node1"}}
    assert is_primary("vm:200", "node1", manager_status=ms, resources=ignored, running_on="node1")
    assert not is_primary("vm:200", "node1", manager_status=ms, resources={}, running_on=None)


def test_guest_ha_object_and_ha_management() -> None:
    ms = manager_status(**{"vm:100": {"state": "migrate", "node": "node1", "target": "node2"}})
    resources = {"vm:100": {"node": "node1"}, "ct:200": {"node": "node1", "state": "ignored"}}
    assert guest_ha_status("vm:100", ms, resources) == {"managed": 1, "state": "migrate"}
    assert guest_ha_status("ct:200", ms, resources) == {"managed": 0}
    assert guest_ha_status("vm:999", ms, resources) == {"managed": 0}
    assert is_ha_managed("vm:100", ms, resources)
    assert not is_ha_managed("vm:100", {**ms, "disarm": {"mode": "ignore", "state": "disarmed"}}, resources)


def test_provider_answers_the_cluster_protocol() -> None:
    files = HAFiles(service_config={"vm:100": {"node": "node1"}, "vm:101": {"node": "node2", "state": "started"}})
    provider = HAStatusProvider(files)
    vm100, vm101, ct300 = (SimpleNamespace(kind=k, vmid=i) for k, i in (("qemu", 100), ("qemu", 101), ("lxc", 300)))
    # before the CRM has seen them: the raw request state, null without one, no key for non-HA guests
    assert provider.guest_hastate(vm100) is None
    assert provider.guest_hastate(vm101) == "started"
    assert provider.guest_hastate(ct300) is None and provider.guest_ha_status(ct300) == {"managed": 0}
    before = provider.revision
    files.write_manager_status(manager_status(**{"vm:100": {"state": "stopped", "node": "node1"}}))
    assert provider.revision > before
    assert provider.guest_hastate(vm100) == "stopped"
    assert provider.guest_ha_status(vm101) == {"managed": 1, "state": None}
    assert provider.node_hastate(SimpleNamespace(name="node2")) == "online"
