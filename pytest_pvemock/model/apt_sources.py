"""Each node's APT repository files (``/etc/apt/sources.list`` and ``sources.list.d``) and what ``apt-get update``
prints for them.

A node starts with the files a fresh PVE install writes (Debian's and the enterprise repository; PVE 9 writes deb822
``.sources`` files, earlier ``.list``). Writes follow proxmox-perl-rs ``pve-rs/src/apt/repositories.rs``
(commit 1ae868ad, since moved unchanged into proxmox-apt): ``add_repository`` (66-121) enables a standard
repository that is configured already and appends it to its standard file otherwise; ``change_repository``
(127-161) sets ``enabled`` of the repository at ``path`` and ``index``; both refuse a stale ``digest``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pytest_pvemock.errors import PVEError

SUITES = {7: "bullseye", 8: "bookworm", 9: "trixie"}
CEPH_RELEASES = {8: "quincy", 9: "squid"}
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
PROXMOX_KEYRING = "/usr/share/keyrings/proxmox-archive-keyring.gpg"
ENTERPRISE = "https://enterprise.proxmox.com/debian"
DOWNLOAD = "http://download.proxmox.com/debian"
LISTS = "/etc/apt/sources.list.d"
_MODIFIED = "detected modified configuration - file changed by other user? Try again."


@dataclass
class RepositoryFile:
    """One file of repositories, as proxmox-apt parses it (``FileType`` ``list`` or ``sources``)."""

    path: str
    kind: str
    repositories: list[dict[str, Any]] = field(default_factory=list)

    def digest(self) -> bytes:
        """The file's SHA-256 (over a stable rendering of its repositories)."""
        return hashlib.sha256(repr(self.repositories).encode()).digest()


@dataclass(frozen=True)
class StandardRepository:
    """A repository proxmox-apt knows by ``handle`` (``APTRepositoryHandle``)."""

    handle: str
    name: str
    uri: str
    component: str
    legacy_path: str
    deb822_path: str


def repository(
    kind: str, uri: str, suite: str, components: list[str], enabled: bool = True, comment: str = ""
) -> dict[str, Any]:
    """One repository entry in proxmox-apt's ``APTRepository`` shape."""
    repo: dict[str, Any] = {"Types": ["deb"], "URIs": [uri], "Suites": [suite], "Components": components,
                            "FileType": kind, "Enabled": enabled}  # fmt: skip
    if comment:
        repo["Comment"] = comment
    if kind == "sources":
        keyring = PROXMOX_KEYRING if "proxmox.com" in uri else DEBIAN_KEYRING
        repo["Options"] = [{"Key": "Signed-By", "Values": [keyring]}]
    return repo


def standard_repositories(major: int) -> list[StandardRepository]:
    """The handles ``standard-repos`` lists for a release, in proxmox-apt's order."""
    pve = [
        StandardRepository("enterprise", "Enterprise", f"{ENTERPRISE}/pve", "pve-enterprise",
                           f"{LISTS}/pve-enterprise.list", f"{LISTS}/pve-enterprise.sources"),
        StandardRepository("no-subscription", "No-Subscription", f"{DOWNLOAD}/pve", "pve-no-subscription",
                           "/etc/apt/sources.list", f"{LISTS}/proxmox.sources"),
        StandardRepository("test", "Test", f"{DOWNLOAD}/pve", "pvetest",
                           "/etc/apt/sources.list", f"{LISTS}/proxmox.sources"),
    ]  # fmt: skip
    ceph = CEPH_RELEASES.get(major)
    if ceph is None:
        return pve
    for flavour, name, base in (("enterprise", "Enterprise", ENTERPRISE), ("no-subscription", "No-Subscription",
                                DOWNLOAD), ("test", "Test", DOWNLOAD)):  # fmt: skip
        pve.append(StandardRepository(f"ceph-{ceph}-{flavour}", f"Ceph {ceph.title()} {name}", f"{base}/ceph-{ceph}",
                                      flavour, "/etc/apt/sources.list.d/ceph.list",
                                      "/etc/apt/sources.list.d/ceph.sources"))  # fmt: skip
    return pve


def installed_files(major: int) -> list[RepositoryFile]:
    """The files a fresh install of the release holds."""
    suite = SUITES.get(major, "trixie")
    if major >= 9:
        kind = "sources"
        debian = [
            repository(kind, "http://deb.debian.org/debian", suite, ["main", "contrib"]),
            repository(kind, "http://deb.debian.org/debian", f"{suite}-updates", ["main", "contrib"]),
            repository(kind, "http://security.debian.org/debian-security", f"{suite}-security", ["main", "contrib"]),
        ]
        enterprise = [repository(kind, f"{ENTERPRISE}/pve", suite, ["pve-enterprise"])]
        return [RepositoryFile("/etc/apt/sources.list.d/debian.sources", kind, debian),
                RepositoryFile("/etc/apt/sources.list.d/pve-enterprise.sources", kind, enterprise)]  # fmt: skip
    kind = "list"
    security = f"{suite}-security" if major >= 7 else f"{suite}/updates"
    debian = [
        repository(kind, "http://ftp.debian.org/debian", suite, ["main", "contrib"]),
        repository(kind, "http://ftp.debian.org/debian", f"{suite}-updates", ["main", "contrib"]),
        repository(kind, "http://security.debian.org", security, ["main", "contrib"], comment=" security updates"),
    ]
    enterprise = [repository(kind, f"{ENTERPRISE}/pve", suite, ["pve-enterprise"])]
    return [RepositoryFile("/etc/apt/sources.list", kind, debian),
            RepositoryFile("/etc/apt/sources.list.d/pve-enterprise.list", kind, enterprise)]  # fmt: skip


def _references(repo: dict[str, Any], standard: StandardRepository, suite: str) -> bool:
    # APTRepository::is_referenced_repository: the URI (without a trailing slash), a suite and the component
    uris = [uri.rstrip("/") for uri in repo["URIs"]]
    return standard.uri in uris and suite in repo["Suites"] and standard.component in repo["Components"]


class AptSources:
    """The repository files of every node, each node's made on first use from its release."""

    def __init__(self) -> None:
        self._files: dict[str, list[RepositoryFile]] = {}

    def files(self, node: str, major: int) -> list[RepositoryFile]:
        """The node's files, sorted by path as proxmox-apt reads them."""
        if node not in self._files:
            self._files[node] = installed_files(major)
        return sorted(self._files[node], key=lambda file: file.path)

    def digest(self, node: str, major: int) -> str:
        """The common digest of the node's files (hex), the one ``digest`` parameters are checked against."""
        joined = b"".join(file.digest() for file in self.files(node, major))
        return hashlib.sha256(joined).hexdigest()

    def _check_digest(self, node: str, major: int, digest: str | None) -> None:
        if digest is not None and digest.lower() != self.digest(node, major):
            raise PVEError(_MODIFIED)

    def status(self, node: str, major: int, standard: StandardRepository) -> bool | None:
        """Whether the standard repository is configured and enabled (``None``: not configured)."""
        suite = SUITES.get(major, "trixie")
        for file in self.files(node, major):
            for repo in file.repositories:
                if _references(repo, standard, suite):
                    return bool(repo["Enabled"])
        return None

    def add(self, node: str, major: int, handle: str, digest: str | None) -> None:
        """``add_repository``: enable the configured one, else append it to its standard file (created if need be)."""
        known = {standard.handle: standard for standard in standard_repositories(major)}
        if handle not in known:
            raise PVEError(f"unknown repository handle '{handle}'")
        standard = known[handle]
        suite = SUITES.get(major, "trixie")
        self._check_digest(node, major, digest)
        files = self.files(node, major)
        for file in files:
            for repo in file.repositories:
                if _references(repo, standard, suite):
                    repo["Enabled"] = True
                    return
        kind = "sources" if major >= 9 else "list"
        path = standard.deb822_path if kind == "sources" else standard.legacy_path
        entry = repository(kind, standard.uri, suite, [standard.component])
        for file in files:
            if file.path == path:
                file.repositories.append(entry)
                return
        self._files[node].append(RepositoryFile(path, kind, [entry]))

    def change(self, node: str, major: int, path: str, index: int, enabled: bool | None, digest: str | None) -> None:
        """``change_repository``: set ``enabled`` of the repository at ``path`` and ``index``."""
        self._check_digest(node, major, digest)
        for file in self.files(node, major):
            if file.path == path:
                if not 0 <= index < len(file.repositories):
                    raise PVEError(f"invalid index - {index}")
                if enabled is not None:
                    file.repositories[index]["Enabled"] = enabled
                return
        raise PVEError(f"invalid path - {path}")


def apt_get_update_output(files: list[RepositoryFile], subscribed: bool) -> tuple[list[str], list[str]]:
    """What ``apt-get update`` prints for the enabled repositories (one ``Hit`` per URI and suite), and its errors:
    the enterprise repositories answer ``401 Unauthorized`` to a node without a subscription key."""
    lines: list[str] = []
    errors: list[str] = []
    seen: set[tuple[str, str]] = set()
    for file in files:
        for repo in file.repositories:
            if not repo["Enabled"]:
                continue
            for uri in repo["URIs"]:
                for suite in repo["Suites"]:
                    if (uri, suite) in seen:
                        continue
                    seen.add((uri, suite))
                    number = len(seen)
                    if uri.startswith(ENTERPRISE) and not subscribed:
                        refused = "401  Unauthorized [IP: 51.91.38.34 443]"
                        lines += [f"Err:{number} {uri} {suite} InRelease", f"  {refused}"]
                        errors += [f"E: Failed to fetch {uri}/dists/{suite}/InRelease  {refused}",
                                   f"E: The repository '{uri} {suite} InRelease' is not signed."]  # fmt: skip
                    else:
                        lines.append(f"Hit:{number} {uri} {suite} InRelease")
    lines.append("Reading package lists...")
    if errors:
        lines += errors
        lines += ["N: Updating from such a repository can't be done securely, and is therefore disabled by default.",
                  "N: See apt-secure(8) manpage for repository creation and user configuration details."]  # fmt: skip
    return lines, errors
