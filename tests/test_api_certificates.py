"""``GET /nodes/{node}/certificates/info``: pve-manager ``PVE/API2/Certificates.pm`` ``info`` (14a22df3, 51-82) over
the cluster's root CA and the node's ``pve-ssl.pem`` as pve-cluster's ``gen_pveca_cert`` and ``gen_pve_ssl_cert``
make them (``src/PVE/Cluster/Setup.pm`` 423-452, 487-570 at 7091d92e), read as pve-common's
``PVE::Certificate::get_certificate_info`` reads a certificate (``src/PVE/Certificate.pm`` 263-329 at f665029e)."""

from __future__ import annotations

import calendar
import hashlib

import pytest

x509 = pytest.importorskip("cryptography.x509")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")


def validity(cert):
    """(not before, not after) in epoch seconds: ``not_valid_*_utc`` from cryptography 42, the naive UTC ones before."""
    if hasattr(cert, "not_valid_before_utc"):
        return int(cert.not_valid_before_utc.timestamp()), int(cert.not_valid_after_utc.timestamp())
    return calendar.timegm(cert.not_valid_before.timetuple()), calendar.timegm(cert.not_valid_after.timetuple())


def test_a_node_lists_the_cluster_ca_and_its_own_certificate_the_ca_signed(pve_api):
    root, own = pve_api.nodes("pve2").certificates.info.get()
    assert (root["filename"], own["filename"]) == ("pve-root-ca.pem", "pve-ssl.pem")
    ca = x509.load_pem_x509_certificate(root["pem"].encode())
    cert = x509.load_pem_x509_certificate(own["pem"].encode())
    if hasattr(cert, "verify_directly_issued_by"):  # cryptography 40 and later
        cert.verify_directly_issued_by(ca)
    assert root["subject"] == root["issuer"] == own["issuer"]
    assert root["subject"].startswith("/CN=Proxmox Virtual Environment/OU=")
    assert root["subject"].endswith("/O=PVE Cluster Manager CA")
    assert own["subject"] == "/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=pve2.pvemock.lan"
    assert (root["public-key-bits"], own["public-key-bits"], own["public-key-type"]) == (4096, 2048, "rsaEncryption")


def test_the_node_certificate_names_its_key_and_the_cas_as_openssl_3_writes_them(pve_api):
    # pve-cluster Setup.pm gen_pve_ssl_cert (7091d92e) signs with `openssl x509 -req -CA`, which adds the subject and
    # authority key identifiers by default since OpenSSL 3.0 (PVE 8, 9); strict verifiers (Python 3.13's default
    # context, VERIFY_X509_STRICT) refuse a CA-signed certificate without the authority's
    root, own = pve_api.nodes("pve1").certificates.info.get()
    ca = x509.load_pem_x509_certificate(root["pem"].encode())
    cert = x509.load_pem_x509_certificate(own["pem"].encode())
    authority = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_key = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert authority.key_identifier == ca_key.digest
    own_key = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert own_key.digest == x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def test_the_answer_is_what_the_pem_holds(pve_api):
    for info in pve_api.nodes("pve1").certificates.info.get():
        cert = x509.load_pem_x509_certificate(info["pem"].encode())
        der_hash = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
        assert info["fingerprint"].replace(":", "") == der_hash
        assert (info["notbefore"], info["notafter"]) == validity(cert)


def test_the_node_certificate_names_the_node_its_address_and_localhost(pve_api, pve_cluster):
    # Setup.pm gen_pve_ssl_cert 497-505: IP:127.0.0.1,IP:::1,DNS:localhost,IP:<ip>,DNS:<node>,DNS:<fqdn>; two years
    _, own = pve_api.nodes("pve3").certificates.info.get()
    ip = pve_cluster.node("pve3").ip
    assert own["san"] == ["127.0.0.1", "0000:0000:0000:0000:0000:0000:0000:0001", "localhost", ip, "pve3",
                          "pve3.pvemock.lan"]  # fmt: skip
    assert own["notafter"] - own["notbefore"] == 730 * 86400
    others = {info["fingerprint"] for node in ("pve1", "pve2") for info in pve_api.nodes(node).certificates.info.get()}
    assert own["fingerprint"] not in others  # each node its own key and certificate, one CA
