"""The secret classification: generated from PVE's schema, reproducible, and covering what PVE itself hides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_pvemock.schema.secrets import default_sources, load_secret_index, main, write_classification

SECRETS_DIR = Path(__file__).resolve().parent.parent / "schemas" / "secrets"


def test_every_shipped_release_has_a_classification_and_every_classification_a_source():
    shipped = sorted(path.name for path in SECRETS_DIR.glob("pve-*.json"))
    assert shipped == sorted(f"pve-{version}.json" for version in default_sources())
    assert {"pve-7.0-1.json", "pve-8.4.2.json", "pve-9.1.4.json"} <= set(shipped)  # one per stored schema


@pytest.mark.parametrize("pve_version", sorted(default_sources()))
def test_a_classification_regenerates_byte_for_byte(tmp_path, pve_version):
    written = write_classification(default_sources()[pve_version], tmp_path, pve_version)

    name = f"pve-{pve_version}.json"
    assert written.read_bytes() == (SECRETS_DIR / name).read_bytes()


def test_the_command_classifies_an_apidoc_file(tmp_path, capsys):
    import gzip

    from pytest_pvemock.schema.files import apidoc_json

    source = tmp_path / "apidoc.json.gz"
    source.write_bytes(gzip.compress(apidoc_json(default_sources()["8.4.2"]).encode()))

    assert main(["--source", str(source), "--pve-version", "8.4.2", "--out", str(tmp_path)]) == 0

    written = json.loads((tmp_path / "pve-8.4.2.json").read_text())
    assert written["methods"] == json.loads((SECRETS_DIR / "pve-8.4.2.json").read_text())["methods"]
    assert "methods with secrets" in capsys.readouterr().out


def _methods(pve_version: str) -> dict:
    return json.loads((SECRETS_DIR / f"pve-{pve_version}.json").read_text())["methods"]


@pytest.mark.parametrize(
    ("method", "part", "location"),
    [
        # names
        ("POST /access/ticket", "parameters", "password"),
        ("POST /access/ticket", "returns", "ticket"),
        ("POST /access/ticket", "returns", "CSRFPreventionToken"),
        ("PUT /nodes/{node}/qemu/{vmid}/config", "parameters", "cipassword"),
        ("POST /cluster/acme/account", "parameters", "eab-hmac-key"),
        ("POST /access/tfa/{userid}", "parameters", "totp"),
        ("POST /access/tfa/{userid}", "returns", "recovery"),
        ("POST /nodes/{node}/qemu/{vmid}/vncproxy", "returns", "password"),
        ("GET /nodes/{node}/qemu/{vmid}/vncwebsocket", "parameters", "vncticket"),
        ("POST /cluster/config/nodes/{node}", "returns", "corosync_authkey"),
        # pve-storage sensitive-properties (PBSPlugin.pm, CIFSPlugin.pm, RBDPlugin.pm)
        ("POST /storage", "parameters", "encryption-key"),
        ("POST /storage", "parameters", "master-pubkey"),
        ("PUT /storage/{storage}", "parameters", "keyring"),
        ("POST /storage", "returns", "config/encryption-key"),
        # pve-access-control realms (LDAP.pm password, OpenId.pm client-key, Plugin.pm pve-tfa-config key)
        ("POST /access/domains", "parameters", "password"),
        ("PUT /access/domains/{realm}", "parameters", "client-key"),
        ("POST /access/domains", "parameters", "tfa{key}"),
        ("POST /access/openid/login", "parameters", "code"),
        # pve-manager notifications (Notifications.pm remove_protected_properties) and metric servers (token)
        ("POST /cluster/notifications/endpoints/smtp", "parameters", "password"),
        ("PUT /cluster/notifications/endpoints/gotify/{name}", "parameters", "token"),
        ("POST /cluster/notifications/endpoints/webhook", "parameters", "secret"),
        ("PUT /cluster/metrics/server/{id}", "parameters", "token"),
        ("POST /cluster/sdn/ipams", "parameters", "token"),
        # places: ACME plugin data, certificate private key, SPICE tickets, new token secret
        ("POST /cluster/acme/plugins", "parameters", "data"),
        ("GET /cluster/acme/plugins", "returns", "[]/data"),
        ("POST /nodes/{node}/certificates/custom", "parameters", "key"),
        ("POST /nodes/{node}/qemu/{vmid}/spiceproxy", "returns", "host"),
        ("POST /access/users/{userid}/token/{tokenid}", "returns", "value"),
    ],
)
def test_pve_secrets_are_classified_in_both_shipped_releases(method, part, location):
    for pve_version in ("8.4.2", "9.1.4"):
        assert location in _methods(pve_version)[method][part], (pve_version, method)


def test_what_is_not_a_secret_stays_out():
    methods = _methods("9.1.4")
    assert "PUT /nodes/{node}/qemu/{vmid}/sendkey" not in methods  # 'key' is a keyboard key
    assert "POST /nodes/{node}/vncshell" in methods
    assert "cert" not in methods["POST /nodes/{node}/vncshell"]["returns"]  # the public certificate
    assert not any("lock-token" in json.dumps(entry) for entry in methods.values())
    assert not any("generate-password" in json.dumps(entry) for entry in methods.values())  # a boolean


def test_the_run_time_index_answers_per_request():
    index = load_secret_index()

    assert "cipassword" in index.secret_parameters("PUT", "/nodes/pve1/qemu/100/config")
    assert "data" in index.secret_parameters("POST", "/cluster/acme/plugins")
    assert "data" not in index.secret_parameters("POST", "/nodes/pve1/hosts")  # /etc/hosts content
    assert index.property_string_keys("PUT", "/access/domains/corp") == {"tfa": frozenset({"key"})}
