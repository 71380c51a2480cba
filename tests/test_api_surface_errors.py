"""Parameter checks with PVE's wording on any method, and injected errors on any method and path."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer import ResourceException  # noqa: E402


def failure(call):
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value


def test_unknown_parameter_is_rejected_on_a_generic_method(pve_api):
    error = failure(lambda: pve_api.cluster.backup.post(schedule="daily", storage="local", all=1, bogus=1))
    assert error.status_code == 400
    assert error.content == "Parameter verification failed."
    assert error.errors == {
        "bogus": "property is not defined in schema and the schema does not allow additional properties"
    }


def test_missing_required_parameter(pve_api):
    error = failure(lambda: pve_api.cluster.sdn.zones.post(type="simple"))
    assert error.errors == {"zone": "property is missing and it is not optional"}


def test_property_strings_are_checked_key_by_key(pve_api):
    error = failure(lambda: pve_api.nodes("pve1").qemu(100).config.post(net0="virtio,bridge=vmbr0,foo=1"))
    assert error.errors == {"net0": "invalid format - invalid key in comma-separated list property: foo\n"}
    error = failure(lambda: pve_api.nodes("pve1").qemu(100).config.post(net0="virtio,bridge=vmbr0,firewall=maybe"))
    assert "net0.firewall: type check ('boolean') failed - got 'maybe'" in error.errors["net0"]


def test_enum_values_are_listed(pve_api):
    error = failure(lambda: pve_api.cluster.options.put(keyboard="xx"))
    assert error.errors["keyboard"].startswith("value 'xx' does not have a value in the enumeration 'de, de-ch,")


def test_injected_error_once(pve_api, pve_cluster):
    message = "cfs-lock 'file-sdn' error: got lock timeout"
    pve_cluster.inject_error("GET", "/cluster/sdn/zones", code=500, message=message)
    error = failure(lambda: pve_api.cluster.sdn.zones.get())
    assert (error.status_code, error.content) == (500, message)
    assert pve_api.cluster.sdn.zones.get() == []


def test_injected_error_n_times_on_a_template(pve_api, pve_cluster):
    pve_cluster.inject_error("POST", "/nodes/{node}/vzdump", code=503, message="service busy", times=2)
    for node in ("pve1", "pve2"):
        assert failure(lambda node=node: pve_api.nodes(node).vzdump.post(vmid="100")).status_code == 503
    assert pve_api.nodes("pve3").vzdump.post(vmid="103").startswith("UPID:pve3:")


def test_injected_error_until_cleared(pve_api, pve_cluster):
    pve_cluster.inject_error("GET", "/nodes/pve1/firewall/rules", code=595, message="no route to host", times=None)
    for _ in range(3):
        assert failure(lambda: pve_api.nodes("pve1").firewall.rules.get()).status_code == 595
    pve_api.nodes("pve2").firewall.rules.get()  # another path is not affected
    pve_cluster.clear_errors()
    assert pve_api.nodes("pve1").firewall.rules.get() == []


def test_injected_error_for_any_method(pve_api, pve_cluster):
    pve_cluster.inject_error("*", "/cluster/backup", code=500, message="storage 'nas' is not online", times=None)
    assert failure(lambda: pve_api.cluster.backup.get()).content == "storage 'nas' is not online"
    assert failure(lambda: pve_api.cluster.backup.post(all=1, schedule="daily")).status_code == 500


def test_guest_errors_keep_pve_wording(pve_api):
    error = failure(lambda: pve_api.nodes("pve2").lxc(110).status.start.post())
    assert (error.status_code, error.content) == (500, "CT 110 already running")
    error = failure(lambda: pve_api.nodes("pve1").qemu(4242).status.current.get())
    assert error.content == "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist"


def test_config_writes_need_quorum(pve_api, pve_cluster):
    pve_cluster.set_quorum(False)
    error = failure(lambda: pve_api.cluster.backup.post(all=1, schedule="daily"))
    assert error.status_code == 500
    assert "no quorum" in error.content
    assert pve_api.cluster.backup.get() == []  # reading still works


def test_generic_methods_name_a_missing_guest_or_storage_as_pve_does(pve_api):
    error = failure(lambda: pve_api.nodes("pve1").qemu(4242).feature.get(feature="snapshot"))
    assert (error.status_code, error.content) == (
        500,
        "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist",
    )
    error = failure(lambda: pve_api.nodes("pve2").lxc(100).feature.get(feature="snapshot"))  # 100 is a VM on pve1
    assert error.content == "Configuration file 'nodes/pve2/lxc/100.conf' does not exist"
    error = failure(lambda: pve_api.nodes("pve1").storage("nowhere").prunebackups.get())
    assert error.content == "storage 'nowhere' does not exist"
