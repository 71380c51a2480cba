"""Catalogue rows (docs/behaviour.md, "Node services"): pve-manager ``PVE/API2/Services.pm`` at 14a22df3 (the
``start``/``stop``/``restart``/``reload`` workers, ``$service_cmd``, ``$essential_services``), through proxmoxer."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)


def state(api, node, service):
    answer = api.nodes(node).services(service).state.get()
    return answer["state"], answer["active-state"]


def test_service_stop_and_start(pve_api):
    # Services.pm service_stop 383-420 ('srvstop' worker, 'systemctl stop'), service_start 343-380; state 114-138
    upid = pve_api.nodes("pve1").services("pvestatd").stop.post()
    assert ":srvstop:pvestatd:root@pam:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert state(pve_api, "pve1", "pvestatd") == ("dead", "inactive")
    assert state(pve_api, "pve2", "pvestatd") == ("running", "active")  # another node's unit is its own
    listed = {row["service"]: row["state"] for row in pve_api.nodes("pve1").services.get()}
    assert listed["pvestatd"] == "dead" and listed["pveproxy"] == "running"
    upid = pve_api.nodes("pve1").services("pvestatd").start.post()
    assert ":srvstart:pvestatd:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert state(pve_api, "pve1", "pvestatd") == ("running", "active")


def test_service_stop_essential_fails_in_task(pve_api):
    # Services.pm $service_cmd 107-109, inside the worker: the POST answers a UPID, the task fails
    upid = pve_api.nodes("pve1").services("pveproxy").stop.post()
    status = finish(pve_api, upid)
    assert status["exitstatus"] == "invalid service cmd 'pveproxy stop': refusing to stop essential service!"
    assert state(pve_api, "pve1", "pveproxy") == ("running", "active")
    assert log_of(pve_api, upid)[-1].startswith("TASK ERROR: invalid service cmd 'pveproxy stop'")


def test_service_restart_and_reload_start_a_stopped_unit(pve_api):
    # Services.pm service_restart 423-456 ('systemctl restart'), service_reload 460-495 ('try-reload-or-restart')
    finish(pve_api, pve_api.nodes("pve1").services("cron").stop.post())
    upid = pve_api.nodes("pve1").services("cron").restart.post()
    assert ":srvrestart:cron:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert state(pve_api, "pve1", "cron") == ("running", "active")
    upid = pve_api.nodes("pve1").services("cron").reload.post()
    assert ":srvreload:cron:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"


def test_service_units_come_back_at_boot(pve_cluster, pve_api):
    # every enabled unit starts again when the node boots
    finish(pve_api, pve_api.nodes("pve2").services("pvestatd").stop.post())
    pve_cluster.node("pve2").reboot()
    assert state(pve_api, "pve2", "pvestatd") == ("running", "active")


def test_service_not_installed_fails_in_task(pve_api):
    # Services.pm $service_cmd 111: run_command dies with systemctl's exit code (5: the unit is not loaded)
    upid = pve_api.nodes("pve1").services("syslog").start.post()
    assert finish(pve_api, upid)["exitstatus"] == "command 'systemctl start syslog' failed: exit code 5"
    assert state(pve_api, "pve1", "syslog") == ("dead", "inactive")
