"""``/nodes/{node}/certificates/info`` and ``custom``: the node's certificates as pve-manager reads and writes them.

pve-manager ``PVE/API2/Certificates.pm`` (14a22df3) ``info`` (51-82) reads ``/etc/pve/pve-root-ca.pem``, the node's
``pve-ssl.pem`` and, when present, ``pveproxy-ssl.pem`` (a custom or ACME certificate:
:mod:`pytest_pvemock.model.node_certificates`) with pve-common's ``PVE::Certificate::get_certificate_info``
(``src/PVE/Certificate.pm`` 263-329 at f665029e): the SHA-256 fingerprint, subject and issuer as
``X509_NAME_oneline`` prints them, validity in epoch seconds, the subject's alternative names, the PEM, the key type
and size, and the file's base name.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.errors import ParameterError
from pytest_pvemock.model.cluster_ca import node_certificate, root_ca
from pytest_pvemock.model.nodes.files import node_domain
from pytest_pvemock.model.pem import strip_leading_text


@handles("GET", "/nodes/{node}/certificates/info")
def certificate_info(ctx: HandlerContext) -> list[dict[str, Any]]:
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    ca = root_ca(str(cluster.seed), cluster.created_at)
    issuer = "/" + ca.subject.replace(", ", "/")
    own = node_certificate(ca, str(cluster.seed), node.name, node.nodeid, node.ip, node_domain(cluster))
    rows = [
        _info("pve-root-ca.pem", ca.pem, issuer, issuer, ca.not_before, ca.not_after, (), 4096),
        _info("pve-ssl.pem", own.pem, own.subject, issuer, own.not_before, own.not_after, own.san, 2048),
    ]
    custom = cluster.node_certificates.info(cluster, node)
    if custom is not None:  # a pveproxy-ssl.pem that does not read is left out (the eval around each file)
        rows.append(custom)
    return ordered_rows(ctx, rows, key="filename")


def _info(
    filename: str, pem: str, subject: str, issuer: str, not_before: int, not_after: int, san: tuple[str, ...], bits: int
) -> dict[str, Any]:
    der = base64.b64decode("".join(re.findall(r"^[A-Za-z0-9+/=]+$", pem, re.MULTILINE)))
    fingerprint = ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())
    return {
        "filename": filename,
        "fingerprint": fingerprint,
        "subject": subject,
        "issuer": issuer,
        "notbefore": not_before,
        "notafter": not_after,
        "san": list(san),
        "pem": pem,
        "public-key-type": "rsaEncryption",
        "public-key-bits": bits,
    }


@handles("POST", "/nodes/{node}/certificates/custom")
def upload_custom_certificate(ctx: HandlerContext) -> dict[str, Any]:
    """Certificates.pm ``upload_custom_cert`` (85-161): without ``key``, the node must hold one already (a parameter
    error); then ``set_cert_files`` under the certificate lock, and pveproxy reloads when ``restart`` is set."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    certificates = cluster.node_certificates
    chain = strip_leading_text(ctx.params["certificates"])
    key = ctx.params.get("key")
    if key:
        key = strip_leading_text(key)
    elif certificates.of(node.name).key is None:
        raise ParameterError({"key": "Attempted to upload custom certificate without (existing) key."})
    log = ["Setting custom certificate files"]
    info = certificates.set_files(cluster, node, chain, key or None, bool(int(ctx.params.get("force", 0))), log)
    if int(ctx.params.get("restart", 0)):
        certificates.reload_proxy(node.name)
    return ordered(ctx, info, f"{node.name}/pveproxy-ssl.pem")


@handles("DELETE", "/nodes/{node}/certificates/custom")
def remove_custom_certificate(ctx: HandlerContext) -> None:
    """Certificates.pm ``remove_custom_cert`` (163-210): both files unlinked; pveproxy goes back to ``pve-ssl.pem``
    when it reloads (``restart``)."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    cluster.node_certificates.remove(node.name)
    if int(ctx.params.get("restart", 0)):
        cluster.node_certificates.reload_proxy(node.name)
