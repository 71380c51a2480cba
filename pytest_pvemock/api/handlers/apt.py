"""``/nodes/{node}/apt/...``: pve-manager PVE/API2/APT.pm (commit 14a22df3). ``versions`` lists the packages
``pveversion -v`` shows in APT.pm's order (``proxmox-ve``, ``pve-manager``, the kernels, then the rest by name),
with the release's versions (:mod:`pytest_pvemock.model.node_packages`); a node whose packages are current has no
``update``; ``changelog`` answers what ``apt-get changelog`` prints for a package without a changelog in the
cluster's package index; ``repositories`` the standard Proxmox repository files of the release's Debian suite."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.model.node_packages import package_facts, release_packages

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

SUITES = {7: "bullseye", 8: "bookworm", 9: "trixie"}


def _proxmox_ve_version(version: str) -> str:
    # the metapackage's version follows the series: 7.4-1 on PVE 7, 8.2.0 / 9.1.0 later (pveversion -v outputs)
    major, minor = version.replace("-", ".").split(".")[:2]
    return f"{major}.{minor}-1" if major == "7" else f"{major}.{minor}.0"


def _row(name: str, version: str, facts: dict[str, str]) -> dict[str, Any]:
    return {
        "Package": name,
        "Title": facts.get("Title", name),
        "Description": facts.get("Description", facts.get("Title", name)),
        "Origin": "Proxmox",
        "Section": facts.get("Section", "admin"),
        "Arch": facts.get("Arch", "amd64"),
        "Priority": "optional",
        "Version": version,
        "OldVersion": version,
        "CurrentState": "Installed",
    }


@handles("GET", "/nodes/{node}/apt/versions")
def apt_versions(ctx: HandlerContext) -> list[dict[str, Any]]:
    ctx.cluster.require_node_reachable(ctx.params["node"])
    return ordered_rows(ctx, version_rows(ctx.cluster), key="Package")


def version_rows(cluster: FakeCluster) -> list[dict[str, Any]]:
    """The rows of ``apt/versions`` (and of ``pveversion -v``) for the cluster's release."""
    packages = release_packages(cluster.version)
    kernel, _build = cluster.kernel
    rows = []
    meta = _proxmox_ve_version(cluster.version)
    row = _row("proxmox-ve", meta, {"Title": "Proxmox Virtual Environment", "Section": "admin", "Arch": "all",
               "Description": "The Proxmox Virtual Environment is an easy to use Open Source virtualization "
               "platform for running Virtual Appliances and Virtual Machines."})  # fmt: skip
    row["RunningKernel"] = kernel
    rows.append(row)
    row = _row("pve-manager", cluster.full_version, package_facts("pve-manager"))
    row["ManagerVersion"] = f"{cluster.full_version}/{cluster.repoid}"
    rows.append(row)
    prefix = "pve-kernel" if cluster.release.major < 8 else "proxmox-kernel"
    kernel_version = kernel.removesuffix("-pve")
    series = ".".join(kernel_version.split(".")[:2])
    title = f"Proxmox Kernel Image{' (signed)' if prefix == 'proxmox-kernel' else ''}"
    for name in (f"{prefix}-{kernel}{'-signed' if prefix == 'proxmox-kernel' else ''}", f"{prefix}-{series}"):
        rows.append(_row(name, kernel_version, {"Title": title, "Section": "admin", "Arch": "amd64",
                                                "Description": f"This is a metapackage for the {series} kernel "
                                                "of Proxmox VE." if name.endswith(series) else
                                                f"This package contains the Linux kernel {kernel}."}))  # fmt: skip
    for name in sorted(packages):
        if name in ("pve-manager", "kernel", "kernel-build"):
            continue
        rows.append(_row(name, packages[name], package_facts(name)))
    return rows


@handles("GET", "/nodes/{node}/apt/update")
def apt_updates(ctx: HandlerContext) -> list[dict[str, Any]]:
    """No pending updates: the scenario's nodes run their release's packages (APT.pm list_updates)."""
    ctx.cluster.require_node_reachable(ctx.params["node"])
    return []


@handles("GET", "/nodes/{node}/apt/changelog")
def apt_changelog(ctx: HandlerContext) -> str:
    """``apt-get changelog -qq -- NAME`` on a node without network access to the changelog server: apt's error
    and ``RC: 100`` (APT.pm ``changelog`` appends the exit code when it is not 0)."""
    ctx.cluster.require_node_reachable(ctx.params["node"])
    name = ctx.params["name"]
    version = ctx.params.get("version")
    wanted = f"{name}={version}" if version else name
    known = release_packages(ctx.cluster.version)
    if name not in known and name != "pve-manager":
        return "E: No packages found\nRC: 100"
    return f"E: Failed to fetch changelog:/{wanted}.changelog  Changelog unavailable for {wanted}\nRC: 100"


def _file(path: str, file_type: str, repositories: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return {
        "path": path,
        "file-type": file_type,
        "repositories": repositories,
        "digest": list(hashlib.sha256(text.encode()).digest()),
    }


def _repository(
    kind: str, uri: str, suite: str, components: list[str], enabled: bool, comment: str = ""
) -> dict[str, Any]:
    repo: dict[str, Any] = {"Types": ["deb"], "URIs": [uri], "Suites": [suite], "Components": components,
                            "FileType": kind, "Enabled": enabled}  # fmt: skip
    if comment:
        repo["Comment"] = comment
    return repo


@handles("GET", "/nodes/{node}/apt/repositories")
def apt_repositories(ctx: HandlerContext) -> dict[str, Any]:
    """The files a fresh PVE install writes (proxmox-rs proxmox-apt, ``repositories("pve")``): Debian's, and
    the enterprise repository (``pve-enterprise``); PVE 9 writes deb822 ``.sources`` files, earlier ``.list``."""
    ctx.cluster.require_node_reachable(ctx.params["node"])
    major = ctx.cluster.release.major
    suite = SUITES.get(major, "trixie")
    if major >= 9:
        kind = "sources"
        debian = [
            _repository(kind, "http://deb.debian.org/debian", suite, ["main", "contrib"], True),
            _repository(kind, "http://deb.debian.org/debian", f"{suite}-updates", ["main", "contrib"], True),
            _repository(
                kind, "http://security.debian.org/debian-security", f"{suite}-security", ["main", "contrib"], True
            ),
        ]
        for repo in debian:
            repo["Options"] = [{"Key": "Signed-By", "Values": ["/usr/share/keyrings/debian-archive-keyring.gpg"]}]
        enterprise = [_repository(kind, "https://enterprise.proxmox.com/debian/pve", suite, ["pve-enterprise"], True)]
        enterprise[0]["Options"] = [{"Key": "Signed-By",
                                     "Values": ["/usr/share/keyrings/proxmox-archive-keyring.gpg"]}]  # fmt: skip
        files = [("/etc/apt/sources.list.d/debian.sources", debian),
                 ("/etc/apt/sources.list.d/pve-enterprise.sources", enterprise)]  # fmt: skip
    else:
        kind = "list"
        security = f"{suite}-security" if major >= 7 else f"{suite}/updates"
        debian = [
            _repository(kind, "http://ftp.debian.org/debian", suite, ["main", "contrib"], True),
            _repository(kind, "http://ftp.debian.org/debian", f"{suite}-updates", ["main", "contrib"], True),
            _repository(kind, "http://security.debian.org", security, ["main", "contrib"], True, " security updates"),
        ]
        enterprise = [_repository(kind, "https://enterprise.proxmox.com/debian/pve", suite, ["pve-enterprise"], True)]
        files = [("/etc/apt/sources.list", debian), ("/etc/apt/sources.list.d/pve-enterprise.list", enterprise)]
    answer_files = [_file(path, kind, repos, repr(repos)) for path, repos in files]
    digest = hashlib.sha256("".join(bytes(f["digest"]).hex() for f in answer_files).encode()).hexdigest()
    standard = [
        {"handle": "enterprise", "name": "Enterprise", "status": True},
        {"handle": "no-subscription", "name": "No-Subscription"},
        {"handle": "test", "name": "Test"},
    ]
    if major >= 8:
        ceph = "ceph-squid" if major >= 9 else "ceph-quincy"
        standard += [
            {"handle": f"{ceph}-enterprise", "name": f"Ceph {ceph.split('-')[1].title()} Enterprise"},
            {"handle": f"{ceph}-no-subscription", "name": f"Ceph {ceph.split('-')[1].title()} No-Subscription"},
            {"handle": f"{ceph}-test", "name": f"Ceph {ceph.split('-')[1].title()} Test"},
        ]
    infos = [{"path": files[1][0], "index": "0", "property": "URIs", "kind": "origin", "message": "Proxmox"}]
    infos += [{"path": files[0][0], "index": str(i), "property": "URIs", "kind": "origin", "message": "Debian"}
              for i in range(3)]  # fmt: skip
    return ordered(ctx, {"files": answer_files, "errors": [], "digest": digest, "infos": infos,
                         "standard-repos": standard}, ctx.params["node"])  # fmt: skip
