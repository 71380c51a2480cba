"""Parameter verification with PVE's own wording (PVE::JSONSchema::check_prop in pve-common)."""

from __future__ import annotations

import pytest

from pytest_pvemock.errors import ParameterError
from pytest_pvemock.schema.registry import get_registry


@pytest.fixture(scope="module")
def registry():
    return get_registry("9.1")


def errors_of(registry, method: str, path: str, raw: dict) -> dict[str, str]:
    endpoint = registry.resolve(method, path)
    assert endpoint is not None
    with pytest.raises(ParameterError) as caught:
        endpoint.check_parameters(raw)
    assert caught.value.code == 400
    assert caught.value.message == "Parameter verification failed."
    return caught.value.errors


def create_vm_errors(registry, **raw: object) -> dict[str, str]:
    return errors_of(registry, "POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", **raw})


def test_valid_text_values_are_converted(registry):
    endpoint = registry.resolve("POST", "/nodes/pve1/qemu")
    checked = endpoint.check_parameters(
        {"node": "pve1", "vmid": "100", "cores": "2", "cpulimit": "1.5", "onboot": "1", "numa": True, "name": "web"}
    )
    assert checked == {"node": "pve1", "vmid": 100, "cores": 2, "cpulimit": 1.5, "onboot": 1, "numa": 1, "name": "web"}


def test_json_numbers_are_accepted_like_text(registry):
    checked = registry.resolve("POST", "/nodes/pve1/qemu").check_parameters({"node": "pve1", "vmid": 100, "cores": 4})
    assert checked["vmid"] == 100 and checked["cores"] == 4


def test_missing_required_property(registry):
    errors = errors_of(registry, "POST", "/nodes/pve1/qemu", {"node": "pve1"})
    assert errors == {"vmid": "property is missing and it is not optional"}


def test_integer_type_check(registry):
    assert create_vm_errors(registry, cores="abc") == {"cores": "type check ('integer') failed - got 'abc'"}


def test_number_type_check(registry):
    assert create_vm_errors(registry, cpulimit="1,5") == {"cpulimit": "type check ('number') failed - got '1,5'"}


@pytest.mark.parametrize("text", ["true", "yes", "on", "True", "2"])
def test_boolean_text_other_than_0_or_1_is_rejected_as_pve_does(registry, text):
    # check_type accepts only '0' and '1' (and JSON booleans); real PVE answers skipsmart=true with 400
    errors = errors_of(registry, "GET", "/nodes/pve1/disks/list", {"node": "pve1", "skipsmart": text})
    assert errors == {"skipsmart": f"type check ('boolean') failed - got '{text}'"}


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("1", 1), (0, 0), (1, 1), (True, 1), (False, 0)])
def test_boolean_accepted_forms(registry, raw, expected):
    endpoint = registry.resolve("GET", "/nodes/pve1/disks/list")
    assert endpoint.check_parameters({"node": "pve1", "skipsmart": raw})["skipsmart"] == expected


def test_object_for_a_scalar_is_a_type_error(registry):
    assert create_vm_errors(registry, name={"a": 1}) == {"name": "type check ('string') failed - got HASH"}


def test_minimum_and_maximum(registry):
    assert create_vm_errors(registry, cores="0") == {"cores": "value must have a minimum value of 1"}
    assert create_vm_errors(registry, cpulimit="129") == {"cpulimit": "value must have a maximum value of 128"}


def test_enumeration(registry):
    errors = create_vm_errors(registry, ostype="foo")
    assert errors["ostype"].startswith("value 'foo' does not have a value in the enumeration 'other, wxp, w2k,")


def test_pattern(registry):
    errors = errors_of(registry, "POST", "/access/domains", {"realm": "ex", "type": "openid", "domain": "a b"})
    assert errors["domain"] == "value does not match the regex pattern"


def test_max_length(registry):
    errors = errors_of(registry, "POST", "/access/domains", {"realm": "ex", "type": "ldap", "base_dn": "x" * 257})
    assert errors["base_dn"] == "value may only be 256 characters long"


def test_unknown_property(registry):
    errors = create_vm_errors(registry, bogus="1")
    assert errors == {"bogus": "property is not defined in schema and the schema does not allow additional properties"}


def test_named_format_node(registry):
    errors = errors_of(registry, "GET", "/nodes/bad_node!/status", {"node": "bad_node!"})
    assert errors == {"node": "invalid format - value does not look like a valid node name\n"}


def test_named_format_vmid_and_list_formats(registry):
    assert create_vm_errors(registry, vmid="42") == {
        "vmid": "invalid format - value does not look like a valid VM ID\n"
    }
    assert create_vm_errors(registry, tags="prod;-bad") == {"tags": "invalid format - invalid characters in tag\n"}
    registry.resolve("POST", "/nodes/pve1/qemu").check_parameters({"node": "pve1", "vmid": "100", "tags": "a;b c"})


def test_property_string_keys_default_key_and_booleans(registry):
    endpoint = registry.resolve("POST", "/nodes/pve1/qemu")
    endpoint.check_parameters(
        {
            "node": "pve1",
            "vmid": "100",
            "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=on",
            "scsi0": "local-lvm:32,iothread=1,discard=on,ssd=yes",
            "agent": "1,fstrim_cloned_disks=true",
        }
    )


def test_property_string_errors_read_like_pve(registry):
    errors = create_vm_errors(
        registry,
        net0="virtio,bridge=vmbr0,foo=1",
        scsi0="local-lvm:32,iothread=maybe",
        watchdog="model=foo",
        rng0="max_bytes=5",
    )
    assert errors["net0"] == "invalid format - invalid key in comma-separated list property: foo\n"
    assert errors["scsi0"] == (
        "invalid format - format error\nscsi0.iothread: type check ('boolean') failed - got 'maybe'\n"
    )
    assert errors["watchdog"] == (
        "invalid format - format error\n"
        "watchdog.model: value 'foo' does not have a value in the enumeration 'i6300esb, ib700'\n"
    )
    assert errors["rng0"] == "invalid format - format error\nrng0.source: property is missing and it is not optional\n"


def test_property_string_alias_is_resolved(registry):
    endpoint = registry.resolve("POST", "/nodes/pve1/qemu")
    endpoint.check_parameters({"node": "pve1", "vmid": "100", "agent": "1,guest-fsfreeze=0"})
    errors = create_vm_errors(registry, agent="1,freeze-fs=1,guest-fsfreeze=0")
    assert errors == {"agent": "invalid format - key 'freeze-fs' is already defined (via alias)\n"}


def test_property_string_requires(registry):
    errors = create_vm_errors(registry, ipconfig0="gw=192.0.2.1")
    assert errors == {
        "ipconfig0": "invalid format - format error\nipconfig0.ip: missing property required by 'ipconfig0.gw'\n"
    }


def test_named_property_string_validator(registry):
    errors = errors_of(registry, "POST", "/cluster/backup", {"all": "1", "fleecing": "enabled=1"})
    assert errors == {"fleecing": "invalid format - 'storage' parameter is required when 'enabled' is set\n"}


@pytest.mark.parametrize(("key", "accepted"), [("net31", True), ("net32", False), ("scsi30", True), ("scsi31", False)])
def test_indexed_keys_follow_pve_limits(registry, key, accepted):
    endpoint = registry.resolve("POST", "/nodes/pve1/qemu")
    value = "virtio,bridge=vmbr0" if key.startswith("net") else "local-lvm:1"
    raw = {"node": "pve1", "vmid": "100", key: value}
    if accepted:
        endpoint.check_parameters(raw)
    else:
        with pytest.raises(ParameterError) as caught:
            endpoint.check_parameters(raw)
        assert caught.value.errors == {
            key: "property is not defined in schema and the schema does not allow additional properties"
        }


def test_type_property_selects_the_one_of_alternative(registry):
    # SDN fabrics (9.x): 'delete' lists different keys per protocol (type-property/instance-types)
    path = "/cluster/sdn/fabrics/fabric/f1"
    registry.resolve("PUT", path).check_parameters({"id": "f1", "protocol": "ospf", "delete": ["area"]})
    errors = errors_of(registry, "PUT", path, {"id": "f1", "protocol": "openfabric", "delete": ["area"]})
    allowed = "hello_interval, csnp_interval, route_filter"
    assert errors == {"delete[0]": f"value 'area' does not have a value in the enumeration '{allowed}'"}


def test_every_error_is_reported_at_once(registry):
    errors = create_vm_errors(registry, cores="x", ostype="foo", bogus="1")
    assert set(errors) == {"cores", "ostype", "bogus"}


def test_min_length(registry):
    errors = errors_of(registry, "PUT", "/access/password", {"userid": "u@pve", "password": "short"})
    assert errors == {"password": "value must be at least 8 characters long"}


CONSISTENCY_CASES = [
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "cores": "2", "onboot": "1"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "cores": "0"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "cores": "abc"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "onboot": "true"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "bogus": "1"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "42"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "net31": "virtio,bridge=vmbr0"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "net32": "virtio,bridge=vmbr0"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "net0": "virtio,bridge=vmbr0,foo=1"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "agent": "1,fstrim_cloned_disks=yes"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "ipconfig0": "gw=192.0.2.1"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "tags": "a;b c"}),
    ("POST", "/nodes/pve1/qemu", {"node": "pve1", "vmid": "100", "tags": "a;-b"}),
    ("POST", "/cluster/backup", {"all": "1", "fleecing": "enabled=1"}),
    ("POST", "/cluster/backup", {"all": "1", "fleecing": "enabled=1,storage=local"}),
    ("PUT", "/cluster/sdn/fabrics/fabric/f1", {"id": "f1", "protocol": "ospf", "delete": ["area"]}),
    ("PUT", "/cluster/sdn/fabrics/fabric/f1", {"id": "f1", "protocol": "openfabric", "delete": ["area"]}),
    ("GET", "/nodes/bad_node!/status", {"node": "bad_node!"}),
]


@pytest.mark.parametrize(("method", "path", "raw"), CONSISTENCY_CASES)
def test_verifier_and_json_schema_validator_agree(registry, method, path, raw):
    from pytest_pvemock.schema.returns import compile_validator

    endpoint = registry.resolve(method, path)
    try:
        endpoint.check_parameters(raw)
        verifier_accepts = True
    except ParameterError:
        verifier_accepts = False
    assert compile_validator(endpoint.parameters_schema).is_valid(raw) == verifier_accepts
