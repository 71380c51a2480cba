"""``POST/DELETE /nodes/{node}/certificates/custom`` and what the HTTPS server presents.

pve-manager ``PVE/API2/Certificates.pm`` (14a22df3) ``upload_custom_cert`` (85-161) and ``remove_custom_cert``
(163-210), ``PVE/CertHelpers.pm`` ``set_cert_files`` (64-130), ``PVE/Service/pveproxy.pm`` (148-157: pveproxy uses
``pveproxy-ssl.pem`` with its key when both exist, read when it starts or reloads); pve-common
``src/PVE/Certificate.pm`` (f665029e) ``strip_leading_text`` (129-135) and ``get_certificate_info`` (263-329)."""

from __future__ import annotations

import hashlib
import socket
import ssl

import proxmoxer
import pytest
import requests

trustme = pytest.importorskip("trustme")


def issued(*names: str, rsa: bool = False) -> tuple[str, str]:
    """(chain, key) of a leaf certificate for ``names`` from a fresh CA: the leaf first, then the CA."""
    ca = trustme.CA(key_type=trustme.KeyType.RSA) if rsa else trustme.CA()
    leaf = ca.issue_cert(*names, key_type=trustme.KeyType.RSA) if rsa else ca.issue_cert(*names)
    chain = "".join(blob.bytes().decode() for blob in leaf.cert_chain_pems) + ca.cert_pem.bytes().decode()
    return chain, leaf.private_key_pem.bytes().decode()


def fingerprint(der: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def test_without_a_key_the_node_must_hold_one_already(pve_api):
    # Certificates.pm 134-141: raise_param_exc before anything is written
    chain, _ = issued("pve1.example.com")
    with pytest.raises(proxmoxer.ResourceException) as refused:
        pve_api.nodes("pve1").certificates.custom.post(certificates=chain)
    assert refused.value.status_code == 400
    assert refused.value.errors == {"key": "Attempted to upload custom certificate without (existing) key."}
    assert [info["filename"] for info in pve_api.nodes("pve1").certificates.info.get()] == [
        "pve-root-ca.pem", "pve-ssl.pem"]  # fmt: skip


def test_an_uploaded_certificate_is_listed_as_pveproxy_ssl_pem(pve_api):
    chain, key = issued("pve1.example.com", "10.0.0.1", rsa=True)
    # strip_leading_text: what comes before the first PEM header is dropped (openssl x509 -text output, say)
    answer = pve_api.nodes("pve1").certificates.custom.post(certificates="Certificate:\n  ...\n" + chain, key=key)
    leaf_pem = chain[: chain.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----\n")]
    assert answer["filename"] == "pveproxy-ssl.pem"
    assert answer["pem"] == leaf_pem  # PEM_get_string_X509: the first certificate of the chain only
    assert answer["san"] == ["pve1.example.com", "10.0.0.1"]
    assert answer["subject"].startswith("/O=trustme") and answer["issuer"].startswith("/O=trustme")
    assert (answer["public-key-type"], answer["public-key-bits"]) == ("rsaEncryption", 2048)
    listed = pve_api.nodes("pve1").certificates.info.get()
    assert [info["filename"] for info in listed] == ["pve-root-ca.pem", "pve-ssl.pem", "pveproxy-ssl.pem"]
    assert listed[2] == answer
    assert "PRIVATE KEY" not in str(listed)  # the key stays in /etc/pve/nodes/pve1/pveproxy-ssl.key
    assert len(pve_api.nodes("pve2").certificates.info.get()) == 2  # one node's files


def test_files_are_only_replaced_with_force(pve_api):
    # CertHelpers.pm 74-77
    first_chain, first_key = issued("pve1.example.com")
    first = pve_api.nodes("pve1").certificates.custom.post(certificates=first_chain, key=first_key)
    second_chain, second_key = issued("pve1.example.org")
    with pytest.raises(proxmoxer.ResourceException, match="Custom certificate file exists but force flag is not set"):
        pve_api.nodes("pve1").certificates.custom.post(certificates=second_chain, key=second_key)
    assert pve_api.nodes("pve1").certificates.info.get()[2]["fingerprint"] == first["fingerprint"]
    second = pve_api.nodes("pve1").certificates.custom.post(certificates=second_chain, key=second_key, force=1)
    assert pve_api.nodes("pve1").certificates.info.get()[2]["fingerprint"] == second["fingerprint"]
    # no key: the existing key must belong to the new certificate (the renewed one, here the same)
    pve_api.nodes("pve1").certificates.custom.post(certificates=second_chain, force=1)


def test_a_key_of_another_certificate_is_refused_and_the_old_files_come_back(pve_api, pve_cluster):
    # CertHelpers.pm 87-124: the key does not load into the TLS context (Net::SSLeay die_now: "$$: $msg"), both
    # files are removed, the old ones restored, and the error names what failed
    chain, key = issued("pve1.example.com")
    kept = pve_api.nodes("pve1").certificates.custom.post(certificates=chain, key=key)
    other_chain, _ = issued("pve1.example.org")
    _, stray_key = issued("elsewhere.example")
    with pytest.raises(proxmoxer.ResourceException) as refused:
        pve_api.nodes("pve1").certificates.custom.post(certificates=other_chain, key=stray_key, force=1)
    message = str(refused.value)
    assert "Setting certificate files failed - " in message
    assert message.endswith(": key does not match the certificate (chain) ()")
    assert pve_api.nodes("pve1").certificates.info.get()[2]["fingerprint"] == kept["fingerprint"]
    # on a node without files before, nothing stays behind
    with pytest.raises(proxmoxer.ResourceException, match="key does not match"):
        pve_api.nodes("pve2").certificates.custom.post(certificates=other_chain, key=stray_key)
    assert len(pve_api.nodes("pve2").certificates.info.get()) == 2


def test_a_certificate_openssl_cannot_read_stays_on_disk_unlisted(pve_api):
    # set_cert_files writes the file, then get_certificate_info dies ("unable to read certificate from ...",
    # Certificate.pm 202) outside the inner clean-up: the file stays, info skips it, and the next upload needs force
    broken = "-----BEGIN CERTIFICATE-----\nTUlJQm5vdGFjZXJ0aWZpY2F0ZQ==\n-----END CERTIFICATE-----\n"
    _, key = issued("pve3.example.com")
    with pytest.raises(proxmoxer.ResourceException) as refused:
        pve_api.nodes("pve3").certificates.custom.post(certificates=broken, key=key)
    assert str(refused.value).endswith(
        "Setting certificate files failed - unable to read certificate from '/etc/pve/nodes/pve3/pveproxy-ssl.pem'"
    )
    assert len(pve_api.nodes("pve3").certificates.info.get()) == 2
    chain, key = issued("pve3.example.com")
    with pytest.raises(proxmoxer.ResourceException, match="Custom certificate file exists but force flag"):
        pve_api.nodes("pve3").certificates.custom.post(certificates=chain, key=key)
    pve_api.nodes("pve3").certificates.custom.post(certificates=chain, key=key, force=1)


def test_text_that_is_not_pem_is_refused_by_the_format(pve_api):
    # Certificate.pm 145-157: the pem-certificate-chain format
    with pytest.raises(proxmoxer.ResourceException) as refused:
        pve_api.nodes("pve1").certificates.custom.post(certificates="hello", key="hello")
    assert refused.value.status_code == 400
    assert refused.value.errors["certificates"] == "invalid format - not a valid PEM-formatted string.\n"


def test_delete_removes_the_files(pve_api):
    chain, key = issued("pve1.example.com")
    pve_api.nodes("pve1").certificates.custom.post(certificates=chain, key=key)
    assert pve_api.nodes("pve1").certificates.custom.delete() is None
    assert len(pve_api.nodes("pve1").certificates.info.get()) == 2
    # the key went with it: a certificate alone is refused again
    with pytest.raises(proxmoxer.ResourceException, match="without \\(existing\\) key"):
        pve_api.nodes("pve1").certificates.custom.post(certificates=chain)


def presented(server, server_name: str | None = None) -> str:
    """The SHA-256 fingerprint of the certificate the server presents, read without verifying it (as a client
    that pins the fingerprint does)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((server.address, server.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return fingerprint(der)


def test_the_server_presents_the_node_certificate_a_client_pins(pve_server):
    api = proxmoxer.ProxmoxAPI(pve_server.address, port=pve_server.port, user=pve_server.user,
                               password=pve_server.password, verify_ssl=str(pve_server.ca_file))  # fmt: skip
    root, own = api.nodes("pve1").certificates.info.get()
    # the CA file is the cluster's pve-root-ca.pem, and the certificate is pve1's pve-ssl.pem it signed
    assert pve_server.ca_file.read_text() == root["pem"]
    assert presented(pve_server) == own["fingerprint"]
    # a client that names another node (SNI) gets that node's certificate
    assert presented(pve_server, "pve2.pvemock.lan") == api.nodes("pve2").certificates.info.get()[1]["fingerprint"]


def test_the_server_presents_a_custom_certificate_once_pveproxy_reloads(pve_server, tmp_path):
    api = proxmoxer.ProxmoxAPI(pve_server.address, port=pve_server.port, user=pve_server.user,
                               password=pve_server.password, verify_ssl=str(pve_server.ca_file))  # fmt: skip
    own = api.nodes("pve1").certificates.info.get()[1]["fingerprint"]
    chain, key = issued("127.0.0.1", "pve1.example.com")
    custom = api.nodes("pve1").certificates.custom.post(certificates=chain, key=key)["fingerprint"]
    assert presented(pve_server) == own  # written, but pveproxy has not read it yet
    # restart=1 (Certificates.pm 150-153): systemctl reload-or-restart pveproxy
    api.nodes("pve1").certificates.custom.post(certificates=chain, force=1, restart=1)
    assert presented(pve_server) == custom
    # the custom CA is no longer the cluster's: a client trusting only pve-root-ca.pem refuses the server now
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(f"{pve_server.url}/api2/json/version", verify=str(pve_server.ca_file), timeout=30)
    (tmp_path / "custom-ca.pem").write_text(chain)
    api = proxmoxer.ProxmoxAPI(pve_server.address, port=pve_server.port, user=pve_server.user,
                               password=pve_server.password, verify_ssl=str(tmp_path / "custom-ca.pem"))  # fmt: skip
    api.nodes("pve1").certificates.custom.delete()
    assert presented(pve_server) == custom  # deleted, still loaded
    api.nodes("pve1").services("pveproxy").reload.post()  # Services.pm: systemctl try-reload-or-restart pveproxy
    assert presented(pve_server) == own
