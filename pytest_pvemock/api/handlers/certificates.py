"""``GET /nodes/{node}/certificates/info``: the node's certificates as pve-manager reads them.

pve-manager ``PVE/API2/Certificates.pm`` (14a22df3) ``info`` (51-82) reads ``/etc/pve/pve-root-ca.pem``, the node's
``pve-ssl.pem`` and, when present, ``pveproxy-ssl.pem`` with pve-common's ``PVE::Certificate::get_certificate_info``
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
from pytest_pvemock.api.handlers.shaping import ordered_rows
from pytest_pvemock.model.cluster_ca import node_certificate, root_ca
from pytest_pvemock.model.nodes.files import node_domain


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
