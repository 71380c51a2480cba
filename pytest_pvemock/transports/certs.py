"""The certificates the HTTPS server presents.

In front of a cluster, the server is a node's pveproxy: it presents what that node's pveproxy loaded (pve-manager
``PVE/Service/pveproxy.pm`` 148-157 at 14a22df3): its ``pve-ssl.pem``, signed by the cluster's root CA, or the
custom or ACME certificate uploaded to ``/nodes/{node}/certificates/custom`` once pveproxy reloaded. The node is the
one the client names (SNI: the node's name or FQDN), else the cluster's first node. ``ca.pem`` is the cluster's
``pve-root-ca.pem``, so that any client (curl, proxmoxer with ``verify_ssl=<file>``, Go, Node) verifies the server
as it would verify a real Proxmox node whose CA it trusts, or pins the fingerprint ``certificates/info`` shows.
A server without a cluster (a transport test's own dispatcher) gets a throwaway CA made with ``trustme``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


@dataclass(frozen=True)
class ServerTls:
    """The files of one generated CA and the certificate it issued for the server's names."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    names: tuple[str, ...]

    def server_context(self) -> ssl.SSLContext:
        return _context(self.cert_file, self.key_file)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA only, for tests and tools in Python."""
        return ssl.create_default_context(cafile=str(self.ca_file))


@dataclass
class NodeTls:
    """The cluster's CA file and, per handshake, the certificate of the node the client asks for."""

    directory: Path
    cluster: FakeCluster
    ca_file: Path = field(init=False)
    _contexts: dict[str, ssl.SSLContext] = field(default_factory=dict, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        from pytest_pvemock.model.cluster_ca import root_ca

        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca_file = self.directory / "ca.pem"
        with self.cluster.lock:
            ca = root_ca(str(self.cluster.seed), self.cluster.created_at)
        self.ca_file.write_text(ca.pem)

    def server_context(self) -> ssl.SSLContext:
        """A context presenting the first node's certificate that switches, at each handshake, to the certificate
        the asked-for node's pveproxy presents now."""
        context = self._context_for(None)
        context.sni_callback = self._choose
        return context

    def _choose(self, sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext) -> None:
        sock.context = self._context_for(server_name)

    def _node(self, server_name: str | None) -> Node:
        from pytest_pvemock.model.nodes.files import node_domain

        nodes = list(self.cluster.nodes)
        wanted = (server_name or "").lower().rstrip(".")
        domain = node_domain(self.cluster)
        return next((node for node in nodes if wanted in (node.name, f"{node.name}.{domain}")), nodes[0])

    def _context_for(self, server_name: str | None) -> ssl.SSLContext:
        with self.cluster.lock:
            node = self._node(server_name)
            served = self.cluster.node_certificates.served(self.cluster, node)
        name = hashlib.sha256((served.chain + served.key).encode()).hexdigest()[:16]
        with self._guard:
            context = self._contexts.get(name)
            if context is None:
                cert_file, key_file = self.directory / f"{name}.pem", self.directory / f"{name}.key"
                cert_file.write_text(served.chain)
                descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(served.key)
                context = self._contexts[name] = _context(cert_file, key_file)
            return context


def certificate_names(bind_host: str, extra_names: Iterable[str] = ()) -> tuple[str, ...]:
    """Every name the certificate must be valid for: loopback, the bound address and the cluster's hosts."""
    names: list[str] = []
    for name in (*LOOPBACK_NAMES, bind_host, *extra_names):
        cleaned = name.strip("[]").lower()
        if cleaned and cleaned not in ("0.0.0.0", "::") and cleaned not in names and _is_valid_name(cleaned):
            names.append(cleaned)
    return tuple(names)


def issue_server_tls(directory: Path, names: Iterable[str]) -> ServerTls:
    """Create a fresh CA and a server certificate for ``names``; write ``ca.pem``, ``server.pem``, ``server.key``."""
    try:
        import trustme  # imported here: only the server needs it, and it is an optional dependency
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "the HTTPS server makes its certificates with trustme: pip install 'pytest-pvemock[server]' "
            "(or serve plain HTTP: PveServer(..., tls=False), pvemock serve --http)",
            name=error.name,
        ) from None

    names = tuple(names)
    ca = trustme.CA(organization_name="pytest-pvemock", organization_unit_name="fake Proxmox VE CA")
    leaf = ca.issue_cert(*names, common_name=names[0], organization_name="pytest-pvemock")
    directory.mkdir(parents=True, exist_ok=True)
    tls = ServerTls(directory / "ca.pem", directory / "server.pem", directory / "server.key", names)
    ca.cert_pem.write_to_path(str(tls.ca_file))
    with open(tls.cert_file, "wb") as chain:
        for blob in leaf.cert_chain_pems:
            chain.write(blob.bytes())
    leaf.private_key_pem.write_to_path(str(tls.key_file))
    tls.key_file.chmod(0o600)
    return tls


def _is_valid_name(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        labels = name.split(".")
        return all(label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels)
