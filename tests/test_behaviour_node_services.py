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


def ha_rows(api):
    rows = api.cluster.ha.status.current.get()
    return {row["id"]: row for row in rows}


@pytest.mark.pve_cluster("ha-three-node", validate=True)
def test_stopping_pve_ha_lrm_freezes_the_nodes_ha_services_until_it_starts(pve_api):
    # pve-ha-manager LRM.pm shutdown_request (b71218f): not a node shutdown -> 'restart LRM, freeze all services',
    # mode 'restart'; Manager.pm next_state_*: the services of a node whose LRM is in restart mode are frozen
    upid = pve_api.nodes("pve1").services("pve-ha-lrm").stop.post()
    assert finish(pve_api, upid)["exitstatus"] == "OK"
    rows = ha_rows(pve_api)
    assert rows["service:ct:200"]["state"] == "freeze" and "restart" in rows["lrm:pve1"]["status"]
    assert pve_api.cluster.ha.status.manager_status.get()["lrm_status"]["pve1"]["mode"] == "restart"
    assert state(pve_api, "pve1", "pve-ha-lrm") == ("dead", "inactive")
    upid = pve_api.nodes("pve1").services("pve-ha-lrm").start.post()
    assert finish(pve_api, upid)["exitstatus"] == "OK"
    rows = ha_rows(pve_api)
    assert rows["service:ct:200"]["state"] == "started" and "active" in rows["lrm:pve1"]["status"]


@pytest.mark.pve_cluster("ha-three-node", validate=True)
def test_stopping_the_master_crm_hands_the_manager_to_another_node(pve_api):
    # CRM.pm shutdown_request / work: a stopping master releases the ha_manager_lock, another CRM takes it
    assert pve_api.cluster.ha.status.manager_status.get()["manager_status"]["master_node"] == "pve1"
    finish(pve_api, pve_api.nodes("pve1").services("pve-ha-crm").stop.post())
    assert pve_api.cluster.ha.status.manager_status.get()["manager_status"]["master_node"] != "pve1"
    finish(pve_api, pve_api.nodes("pve1").services("pve-ha-crm").start.post())
    assert state(pve_api, "pve1", "pve-ha-crm") == ("running", "active")
