"""HA requests as the API and guest actions make them, with PVE's checks and messages."""

from __future__ import annotations

import pytest

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.ha.ha_files import HAFiles
from pytest_pvemock.model.ha.service_requests import request_move, request_state, request_stop


@pytest.fixture
def files() -> HAFiles:
    files = HAFiles(
        service_config={
            "vm:100": {"node": "node1", "state": "started"},
            "vm:101": {"node": "node1", "state": "started"},
            "ct:200": {"node": "node2", "state": "ignored"},
        },
        rules_config="resource-affinity: together\n\tresources vm:100,vm:101\n\taffinity positive\n",
    )
    files.write_manager_status(
        {"service_status": {"vm:100": {"state": "error", "node": "node1"}, "vm:101": {"state": "started"}}}
    )
    return files


def test_a_service_in_error_only_accepts_disabled(files: HAFiles) -> None:
    message = "service 'vm:100' in error state, must be disabled and fixed first"
    with pytest.raises(PVEError, match=message):
        request_state(files, "vm:100", "started")
    with pytest.raises(PVEError, match=message):
        request_move(files, "vm:100", "node2")
    with pytest.raises(PVEError, match=message):
        request_stop(files, "vm:100", 60)
    request_state(files, "vm:100", "disabled")
    assert files.service_config["vm:100"]["state"] == "disabled"
    assert files.crm_commands == []


def test_moves_and_stops_are_queued_for_the_crm(files: HAFiles) -> None:
    assert request_move(files, "vm:101", "node2") == {
        "sid": "vm:101",
        "requested-node": "node2",
        "comigrated-resources": ["vm:100"],
    }
    request_stop(files, "vm:101", 0)
    assert files.pop_crm_commands() == ["migrate vm:101 node2", "stop vm:101 0"]


def test_ignored_and_unknown_resources_are_not_ha_managed(files: HAFiles) -> None:
    with pytest.raises(PVEError, match="resource 'ct:200' is not HA managed"):
        request_move(files, "ct:200", "node1", "relocate")
    with pytest.raises(PVEError, match="no such resource 'vm:999'"):
        request_state(files, "vm:999", "started")
