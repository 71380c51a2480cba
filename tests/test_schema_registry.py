"""The run-time registry: routing concrete paths to PVE's templates, lazily."""

from __future__ import annotations

import pytest

from pytest_pvemock.schema.registry import get_registry


@pytest.fixture(scope="module")
def registry():
    return get_registry("9.1")


def test_concrete_path_resolves_to_template_and_params(registry):
    endpoint = registry.resolve("GET", "/nodes/pve1/qemu/100/status/current")
    assert endpoint is not None
    assert endpoint.template == "/nodes/{node}/qemu/{vmid}/status/current"
    assert endpoint.method == "GET"
    assert endpoint.params == {"node": "pve1", "vmid": "100"}


def test_upid_with_colons_bang_and_at_is_one_parameter(registry):
    upid = "UPID:pve1:000A1B2C:0001E240:64E10CBA:qmstart:100:root@pam!tok:"
    endpoint = registry.resolve("get", f"/nodes/pve1/tasks/{upid}/status")
    assert endpoint is not None
    assert endpoint.template == "/nodes/{node}/tasks/{upid}/status"
    assert endpoint.params["upid"] == upid


def test_percent_encoded_slash_stays_inside_one_segment(registry):
    endpoint = registry.resolve("GET", "/nodes/pve1/storage/local/content/local:iso%2Fdebian.iso")
    assert endpoint is not None
    assert endpoint.params["volume"] == "local:iso/debian.iso"


def test_static_segment_wins_over_parameter(registry):
    # /cluster/ha/status/current is static; /nodes/{node}/qemu/{vmid} has 'qemu' static before {vmid}
    endpoint = registry.resolve("GET", "/cluster/ha/status/current")
    assert endpoint is not None and endpoint.template == "/cluster/ha/status/current"
    assert registry.resolve("GET", "/nodes/pve1/qemu").template == "/nodes/{node}/qemu"


def test_unknown_path_and_wrong_method(registry):
    assert registry.resolve("GET", "/nodes/x/foo") is None
    assert registry.methods_for("/nodes/x/foo") == set()
    assert registry.resolve("PUT", "/version") is None
    assert registry.methods_for("/version") == {"GET"}
    assert registry.methods_for("/nodes/pve1/qemu") == {"GET", "POST"}


def test_endpoints_and_children(registry):
    endpoints = registry.endpoints()
    assert len(endpoints) == 667
    assert ("GET", "/cluster/resources") in endpoints
    assert "/nodes/{node}/qemu" in registry.children("/nodes/{node}")
    assert len(get_registry("8.4").endpoints()) == 605


def test_method_metadata_is_kept(registry):
    info = registry.endpoint("POST", "/nodes/{node}/qemu").info
    assert info["name"] == "create_vm"
    assert info["protected"] == 1 and info["proxyto"] == "node"
    assert "permissions" in info


def test_unsupported_version_is_a_clear_error():
    with pytest.raises(LookupError, match=r"PVE version '6\.4' is not a known release"):
        get_registry("6.4")


def test_registry_is_built_once_per_version():
    assert get_registry() is get_registry("9.1")
    assert get_registry("8.4") is not get_registry("9.1")
