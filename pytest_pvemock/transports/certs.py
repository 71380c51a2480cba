"""The certificate authority and server certificate of the HTTPS server, generated with ``trustme``.

Every server gets its own throwaway CA. The CA's PEM is written to a file so that any client (curl,
proxmoxer with ``verify_ssl=<file>``, Go, Node) can verify the server exactly as it would verify a real
Proxmox node whose CA it trusts, instead of switching verification off.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class ServerTls:
    """The files of one generated CA and the certificate it issued for the server's names."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    names: tuple[str, ...]

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA only, for tests and tools in Python."""
        return ssl.create_default_context(cafile=str(self.ca_file))


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
