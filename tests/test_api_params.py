"""Raw parameters collected as pveproxy collects them: form and JSON bodies, query, path; repeated keys."""

from __future__ import annotations

import pytest

from pytest_pvemock.api.app import split_api_path
from pytest_pvemock.api.params import collect, decode_urlencoded
from pytest_pvemock.errors import ParameterError, PVEError


def test_form_decoding_follows_pve():
    assert decode_urlencoded("a=1&b=x+y;c=%2Fpool%2Fp") == {"a": "1", "b": "x y", "c": "/pool/p"}


def test_repeated_keys_become_lists():
    assert decode_urlencoded("net=a&net=b&net=c") == {"net": ["a", "b", "c"]}


def test_keys_without_value_are_dropped():
    assert decode_urlencoded("delete=&force&ok=1") == {"ok": "1"}


def test_query_overrides_body_and_dc_is_removed():
    params = collect("POST", "name=q&_dc=123", b"name=b&memory=512", "application/x-www-form-urlencoded", None)
    assert params == {"name": "q", "memory": "512"}


def test_json_body_keeps_json_types():
    params = collect(
        "PUT", "", b'{"memory": 512, "onboot": true, "skip": null}', "application/json; charset=utf-8", None
    )
    assert params == {"memory": 512, "onboot": True}


def test_body_of_get_is_ignored():
    assert collect("GET", "", b"a=1", None, None) == {}


def test_path_parameters_join_and_must_agree():
    assert collect("GET", "vmid=100", b"", None, {"node": "pve1", "vmid": "100"}) == {"node": "pve1", "vmid": "100"}
    assert collect("POST", "", b'{"vmid": 100}', "application/json", {"vmid": "100"}) == {"vmid": "100"}
    with pytest.raises(ParameterError) as raised:
        collect("GET", "node=other", b"", None, {"node": "pve1"})
    assert raised.value.errors == {"node": "duplicate parameter (already defined in URI) with conflicting values!"}


def test_malformed_json_is_a_pve_error():
    with pytest.raises(PVEError) as raised:
        collect("POST", "", b"{", "application/json", None)
    assert raised.value.code == 500


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api2/json/nodes", ("json", "/nodes")),
        ("/api2/json/nodes/", ("json", "/nodes")),
        ("/api2/json", ("json", "/")),
        ("/api2//extjs//access//users", ("extjs", "/access/users")),
        ("/api2/json/access/users/root%40pam", ("json", "/access/users/root@pam")),
        ("/index.html", None),
    ],
)
def test_api_paths_split_into_format_and_path(path, expected):
    assert split_api_path(path) == expected
