"""Each node's ``pveproxy-ssl.pem`` and ``.key`` (a custom or ACME certificate) and what its pveproxy presents.

pve-manager (14a22df3): ``PVE/CertHelpers.pm`` ``set_cert_files`` (64-130) writes the files, reads the certificate
and loads chain and key into a TLS context (a failure removes both files and restores the old ones, if there were
both); ``PVE/Service/pveproxy.pm`` (148-157) uses ``/etc/pve/local/pveproxy-ssl.pem`` with its key when both exist,
else the node's ``pve-ssl.pem``, and reads them when it starts or reloads (``restart`` of the API calls,
``systemctl reload-or-restart pveproxy``, a reboot). The key is kept in memory only: no answer ever holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.cluster_ca import NodeCertificate, node_certificate, root_ca
from pytest_pvemock.model.nodes.files import node_domain
from pytest_pvemock.model.pem import PemError, key_matches, pem_blocks, read_certificate, read_certificates

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node


def proxy_prefix(node: str) -> str:
    """``PVE::CertHelpers::cert_path_prefix``."""
    return f"/etc/pve/nodes/{node}/pveproxy-ssl"


@dataclass
class ProxyFiles:
    """``pveproxy-ssl.pem`` and ``pveproxy-ssl.key`` of one node, each ``None`` when the file does not exist."""

    pem: str | None = None
    key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Served:
    """The certificate chain and key a node's pveproxy presents (PEM texts)."""

    chain: str
    key: str = field(repr=False)


def pvedaemon_pid(cluster: FakeCluster, node: Node) -> int:
    """The pid of the pvedaemon worker answering API calls on ``node`` (what ``$$`` is in a handler)."""
    return figures.seeded(cluster.seed, "pvedaemon-worker", node.name, node.boot_time).randrange(2400, 60000)


def own_certificate(cluster: FakeCluster, node: Node) -> NodeCertificate:
    """The node's ``pve-ssl.pem``, issued by the cluster's root CA."""
    ca = root_ca(str(cluster.seed), cluster.created_at)
    return node_certificate(ca, str(cluster.seed), node.name, node.nodeid, node.ip, node_domain(cluster))


class NodeCertificates:
    """The custom certificate files of every node, and what each node's pveproxy loaded when it last started."""

    def __init__(self) -> None:
        self.files: dict[str, ProxyFiles] = {}
        #: What pveproxy read at its last (re)start: the custom files, or ``None`` for ``pve-ssl.pem``.
        self.loaded: dict[str, Served | None] = {}

    def of(self, node: str) -> ProxyFiles:
        return self.files.setdefault(node, ProxyFiles())

    def set_files(
        self, cluster: FakeCluster, node: Node, chain: str, key: str | None, force: bool, log: list[str]
    ) -> dict[str, Any]:
        """``set_cert_files``: the certificate info of the new ``pveproxy-ssl.pem``; :class:`PVEError` with PVE's
        message when a file exists without ``force`` or the certificate or key does not load."""
        files = self.of(node.name)
        if not force and files.pem is not None:
            raise PVEError("Custom certificate file exists but force flag is not set.")
        if not force and files.key is not None:
            raise PVEError("Custom certificate key file exists but force flag is not set.")
        old = ProxyFiles(files.pem, files.key)
        path = f"{proxy_prefix(node.name)}.pem"
        files.pem = chain
        if key:
            files.key = key
        try:
            try:
                first = read_certificate(_first_certificate(chain))
            except PemError:  # PVE::Certificate's $read_certificate: PEM_read_bio_X509 read nothing
                raise PVEError(f"unable to read certificate from '{path}'") from None
            pid = pvedaemon_pid(cluster, node)
            try:
                read_certificates(chain)
            except PemError:
                files.pem = files.key = None
                raise PVEError(f"{pid}: could not load certificate (chain) ()") from None
            if files.key is None or not key_matches(first, files.key):
                files.pem = files.key = None
                raise PVEError(f"{pid}: key does not match the certificate (chain) ()")
        except PVEError as error:
            if old.pem is not None and old.key is not None:
                log.append("Attempting to restore old certificate files..")
                files.pem, files.key = old.pem, old.key
            raise PVEError(f"Setting certificate files failed - {error.message}") from None
        return first.info("pveproxy-ssl.pem")

    def remove(self, node: str) -> None:
        """``unlink`` of both files."""
        self.files.pop(node, None)

    def reload_proxy(self, node: str) -> None:
        """pveproxy (re)starts on ``node`` and reads its certificate files."""
        files = self.files.get(node)
        if files is not None and files.pem is not None and files.key is not None:
            self.loaded[node] = Served(files.pem, files.key)
        else:
            self.loaded[node] = None

    def info(self, cluster: FakeCluster, node: Node) -> dict[str, Any] | None:
        """``get_certificate_info`` of ``pveproxy-ssl.pem``; ``None`` when there is none or it does not read."""
        files = self.files.get(node.name)
        if files is None or files.pem is None:
            return None
        try:
            return read_certificate(_first_certificate(files.pem)).info("pveproxy-ssl.pem")
        except PemError:
            return None

    def served(self, cluster: FakeCluster, node: Node) -> Served:
        """The chain and key ``node``'s pveproxy presents: the custom files it loaded, else ``pve-ssl.pem``."""
        loaded = self.loaded.get(node.name)
        if loaded is not None:
            return loaded
        own = own_certificate(cluster, node)
        return Served(own.pem, own.key_pem)


def _first_certificate(chain: str) -> bytes:
    for label, der in pem_blocks(chain):
        if label in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
            return der
    raise PemError("no certificate")
