"""``/cluster/ha/*`` and guest actions on HA guests through a real proxmoxer client (answers schema-checked)."""

from __future__ import annotations

import pytest

pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException

pytestmark = pytest.mark.pve_cluster("ha-three-node", validate=True)

ERROR_STATE = "service 'vm:102' in error state, must be disabled and fixed first"


def error_of(call):
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value


def vm_row(api, vmid):
    return next(row for row in api.cluster.resources.get(type="vm") if row["vmid"] == vmid)


def test_index_and_status_index(pve_api):
    assert pve_api.cluster.ha.get() == [{"id": "status"}, {"id": "resources"}, {"id": "groups"}, {"id": "rules"}]
    assert [row["name"] for row in pve_api.cluster.ha.status.get()] == [
        "current", "manager_status", "disarm-ha", "arm-ha"
    ]  # fmt: skip


def test_resources_list_read_and_filter_by_type(pve_api):
    rows = pve_api.cluster.ha.resources.get()
    assert [row["sid"] for row in rows] == ["vm:100", "vm:101", "vm:102", "vm:103", "ct:200"]
    assert rows[2] == {
        "sid": "vm:102", "type": "vm", "digest": rows[0]["digest"], "state": "started", "max_restart": 2,
        "max_relocate": 1, "comment": "database",
    }  # fmt: skip
    assert rows[4] == {"sid": "ct:200", "type": "ct", "digest": rows[0]["digest"], "state": "started"}  # no defaults
    assert [row["sid"] for row in pve_api.cluster.ha.resources.get(type="ct")] == ["ct:200"]
    assert pve_api.cluster.ha.resources("102").get()["sid"] == "vm:102"  # a plain VMID is accepted
    assert "no such resource 'ct:999'" in str(error_of(lambda: pve_api.cluster.ha.resources("ct:999").get()))


def test_create_update_and_delete_a_resource(pve_cluster, pve_api):
    pve_cluster.add_vm(300, node="pve2", status="running")
    pve_api.cluster.ha.resources.post(sid="300", max_restart=3, comment="new")
    assert pve_api.cluster.ha.resources("vm:300").get()["max_restart"] == 3
    assert vm_row(pve_api, 300)["hastate"] == "started"
    assert pve_api.nodes("pve2").qemu(300).status.current.get()["ha"] == {"managed": 1, "state": "started"}

    pve_api.cluster.ha.resources("vm:300").put(state="stopped", delete="comment")
    entry = pve_api.cluster.ha.resources("vm:300").get()
    assert entry["state"] == "stopped" and "comment" not in entry
    assert vm_row(pve_api, 300)["status"] == "stopped" and vm_row(pve_api, 300)["hastate"] == "stopped"

    stale = entry["digest"]
    pve_api.cluster.ha.resources("vm:300").put(comment="again")
    assert "file changed by other user" in str(
        error_of(lambda: pve_api.cluster.ha.resources("vm:300").put(digest=stale))
    )

    pve_api.cluster.ha.resources("vm:300").delete()
    assert "hastate" not in vm_row(pve_api, 300)
    assert "cannot delete service 'vm:300', not HA managed!" in str(
        error_of(lambda: pve_api.cluster.ha.resources("vm:300").delete())
    )


def test_create_refuses_what_pve_refuses(pve_api):
    already = error_of(lambda: pve_api.cluster.ha.resources.post(sid="vm:100"))
    assert "resource ID 'vm:100' already defined" in str(already)
    assert "resource 'vm:999' does not exist in cluster" in str(
        error_of(lambda: pve_api.cluster.ha.resources.post(sid="vm:999"))
    )
    assert "resource 'ct:101' - guest with ID 101 is not a CT" in str(
        error_of(lambda: pve_api.cluster.ha.resources.post(sid="ct:101"))
    )
    assert "types does not match" in str(error_of(lambda: pve_api.cluster.ha.resources.post(sid="vm:101", type="ct")))
    assert "unable to detect SID from VMID - VM/CT 999 does not exist" in str(
        error_of(lambda: pve_api.cluster.ha.resources.post(sid="999"))
    )


def test_a_service_in_error_refuses_everything_but_disabled(pve_cluster, pve_api):
    pve_cluster.ha.set_error("vm:102")
    assert vm_row(pve_api, 102)["hastate"] == "error"
    rows = {row["id"]: row for row in pve_api.cluster.ha.status.current.get()}
    assert rows["service:vm:102"]["status"] == "vm:102 (pve3, error)"
    for call in (
        lambda: pve_api.cluster.ha.resources("vm:102").put(state="started"),
        lambda: pve_api.cluster.ha.resources("vm:102").migrate.post(node="pve1"),
        lambda: pve_api.cluster.ha.resources("vm:102").relocate.post(node="pve1"),
    ):
        failure = error_of(call)
        assert failure.status_code == 500 and ERROR_STATE in str(failure)
    # guest actions ask ha-manager inside their task: the task fails
    upid = pve_api.nodes("pve3").qemu(102).status.start.post()
    status = pve_api.nodes("pve3").tasks(upid).status.get()
    assert ":hastart:102:" in upid and status["exitstatus"].startswith("command 'ha-manager set vm:102")
    assert ERROR_STATE in [line["t"] for line in pve_api.nodes("pve3").tasks(upid).log.get()]
    # the way out: disabled, then started again
    pve_api.cluster.ha.resources("vm:102").put(state="disabled")
    assert vm_row(pve_api, 102)["hastate"] == "stopped"
    pve_api.cluster.ha.resources("vm:102").put(state="started")
    assert vm_row(pve_api, 102)["hastate"] == "started" and vm_row(pve_api, 102)["status"] == "running"


def test_guest_actions_on_ha_guests_are_ha_tasks(pve_cluster, pve_api):
    node = pve_api.nodes("pve1")
    upid = node.qemu(100).status.shutdown.post(timeout=30)
    assert ":hastop:100:root@pam:" in upid
    assert [line["t"] for line in node.tasks(upid).log.get()] == ["Requesting HA stop for VM 100", "TASK OK"]
    assert any("got crm command: stop vm:100 30" in line for line in pve_cluster.ha.log)
    assert vm_row(pve_api, 100)["status"] == "stopped" and vm_row(pve_api, 100)["hastate"] == "stopped"
    assert pve_api.cluster.ha.resources("vm:100").get()["state"] == "stopped"  # the CRM rewrote the request

    upid = node.qemu(100).status.start.post()
    assert ":hastart:100:" in upid and vm_row(pve_api, 100)["status"] == "running"
    upid = node.qemu(100).status.stop.post()
    assert ":hastop:100:" in upid and any("got crm command: stop vm:100 0" in line for line in pve_cluster.ha.log)
    node.qemu(100).status.start.post()

    upid = node.qemu(100).migrate.post(target="pve2", online=1)
    assert ":hamigrate:100:" in upid
    assert node.tasks(upid).log.get()[0]["t"] == "Requesting HA migration for VM 100 to node pve2"
    row = vm_row(pve_api, 100)
    assert (row["node"], row["status"], row["hastate"]) == ("pve2", "running", "started")

    upid = node.lxc(200).status.shutdown.post()
    assert ":hastop:200:" in upid and any("got crm command: stop ct:200 60" in line for line in pve_cluster.ha.log)
    # reboot is not an HA action
    assert ":qmreboot:101:" in pve_api.nodes("pve2").qemu(101).status.reboot.post()


def test_relocate_stops_moves_and_starts_again(pve_api):
    assert pve_api.cluster.ha.resources("ct:200").relocate.post(node="pve3") == {
        "sid": "ct:200", "requested-node": "pve3"
    }  # fmt: skip
    row = vm_row(pve_api, 200)
    assert (row["node"], row["status"], row["hastate"]) == ("pve3", "running", "started")


def test_status_current_rows_in_pves_order_and_texts(pve_cluster, pve_api):
    rows = pve_api.cluster.ha.status.current.get()
    assert [row["id"] for row in rows][:6] == ["quorum", "master", "fencing", "lrm:pve1", "lrm:pve2", "lrm:pve3"]
    assert rows[0] == {"id": "quorum", "type": "quorum", "node": "pve1", "status": "OK", "quorate": 1}
    assert rows[1]["status"] == "pve1 (active, Mon Sep 14 09:27:53 2026)"
    assert rows[2]["status"] == "armed (CRM watchdog active)"
    assert rows[3]["status"] == "pve1 (active, watchdog active, Mon Sep 14 09:27:53 2026)"
    service = next(row for row in rows if row["id"] == "service:ct:200")
    assert service == {
        "id": "service:ct:200", "type": "service", "sid": "ct:200", "node": "pve1", "crm_state": "started",
        "state": "started", "status": "ct:200 (pve1, started)", "request_state": "started", "max_restart": 1,
        "max_relocate": 1, "failback": 1,
    }  # fmt: skip
    manager = pve_api.cluster.ha.status.manager_status.get()
    assert manager["manager_status"]["master_node"] == "pve1" and manager["quorum"] == {"node": "pve1", "quorate": "1"}
    assert manager["lrm_status"]["pve2"]["mode"] == "active"


@pytest.mark.pve_cluster("empty-ha", validate=True)
def test_a_cluster_where_ha_was_never_configured(pve_api):
    manager = pve_api.cluster.ha.status.manager_status.get()
    assert manager["manager_status"] == {} and "master_node" not in manager["manager_status"]
    assert [row["id"] for row in pve_api.cluster.ha.status.current.get()] == ["quorum", "fencing"]
    assert all("hastate" not in row for row in pve_api.cluster.resources.get())
    assert pve_api.cluster.ha.resources.get() == []
    assert pve_api.nodes("pve1").qemu(100).status.current.get()["ha"] == {"managed": 0}


def test_pve9_rules_and_no_groups(pve_cluster, pve_api):
    rules = pve_api.cluster.ha.rules.get()
    assert [(rule["rule"], rule["type"], rule["nodes"]) for rule in rules] == [
        ("db-prefers-pve3", "node-affinity", "pve3:2,pve1:1")
    ]
    pve_api.cluster.ha.rules.post(rule="keep-apart", type="resource-affinity", resources="vm:100,vm:101",
                                  affinity="negative")  # fmt: skip
    assert pve_api.cluster.ha.rules("keep-apart").get()["affinity"] == "negative"
    assert [r["rule"] for r in pve_api.cluster.ha.rules.get(type="resource-affinity")] == ["keep-apart"]
    assert "cannot use unmanaged resource(s) vm:4242." in str(
        error_of(
            lambda: pve_api.cluster.ha.rules.post(rule="r2", type="node-affinity", resources="vm:4242", nodes="pve1")
        )
    )
    pve_api.cluster.ha.rules("keep-apart").delete()
    assert "no such ha rule 'keep-apart'" in str(error_of(lambda: pve_api.cluster.ha.rules("keep-apart").get()))
    assert "ha groups have been migrated to rules" in str(error_of(lambda: pve_api.cluster.ha.groups.get()))
    # deleting a resource purges it from the rules (PVE 9's default)
    pve_api.cluster.ha.resources("vm:102").delete()
    assert pve_api.cluster.ha.rules.get() == []


@pytest.mark.pve_cluster("ha-three-node", version="8.4", validate=True)
def test_pve8_groups_and_null_answers(pve_cluster, pve_api):
    pve_api.cluster.ha.groups.post(group="fast", nodes="pve1:2,pve2", restricted=1)
    assert pve_api.cluster.ha.groups("fast").get()["nodes"] == "pve1:2,pve2"
    pve_api.cluster.ha.resources("vm:101").put(group="fast")
    assert pve_api.cluster.ha.resources("vm:101").get()["group"] == "fast"
    assert "HA group 'nope' does not exist" in str(
        error_of(lambda: pve_api.cluster.ha.resources("vm:101").put(group="nope"))
    )
    assert pve_api.cluster.ha.resources("vm:101").migrate.post(node="pve1") is None  # PVE 8 answers null
    assert vm_row(pve_api, 101)["node"] == "pve1"
    rows = pve_api.cluster.ha.status.current.get()
    assert "fencing" not in [row["id"] for row in rows]
    assert rows[2]["status"].startswith("pve1 (active, Mon Sep 14")  # no watchdog text before ha-manager 5.1.3
    assert "failback" not in next(row for row in rows if row["id"] == "service:vm:101")
    assert error_of(lambda: pve_api.cluster.ha.rules.get()).status_code == 501


def test_destroying_an_ha_guest_needs_purge_and_removes_the_resource(pve_api):
    refused = error_of(lambda: pve_api.nodes("pve3").qemu(103).delete())
    assert "unable to remove VM 103 - used in HA resources and purge parameter not set." in str(refused)
    upid = pve_api.nodes("pve3").qemu(103).delete(purge=1)
    log = [line["t"] for line in pve_api.nodes("pve3").tasks(upid).log.get()]
    assert "NOTE: removed VM 103 from HA resource configuration." in log
    assert "vm:103" not in [row["sid"] for row in pve_api.cluster.ha.resources.get()]


def test_overrule_shutdown_is_refused_for_ha_guests(pve_api):
    refused = error_of(lambda: pve_api.nodes("pve1").qemu(100).status.stop.post(**{"overrule-shutdown": 1}))
    assert refused.status_code == 400 and "Not applicable for HA resources." in str(refused)


def test_disarm_and_arm_ha(pve_api):
    pve_api.cluster.ha.status("disarm-ha").post(**{"resource-mode": "freeze"})
    rows = {row["id"]: row for row in pve_api.cluster.ha.status.current.get()}
    assert rows["fencing"]["status"] == "disarmed, resource mode: freeze (CRM watchdog released)"
    assert vm_row(pve_api, 100)["hastate"] == "freeze"
    pve_api.cluster.ha.status("arm-ha").post()
    assert vm_row(pve_api, 100)["hastate"] == "started"
    pve_api.cluster.ha.status("disarm-ha").post(**{"resource-mode": "ignore"})
    assert pve_api.nodes("pve1").qemu(100).status.current.get()["ha"] == {"managed": 0}
    assert ":qmstop:100:" in pve_api.nodes("pve1").qemu(100).status.stop.post()  # HA no longer in the way
