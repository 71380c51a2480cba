"""``/nodes/{node}/apt/...``: pve-manager PVE/API2/APT.pm (commit 14a22df3). ``versions`` lists the packages
``pveversion -v`` shows in APT.pm's order (``proxmox-ve``, ``pve-manager``, the kernels, then the rest by name),
with the release's versions (:mod:`pytest_pvemock.model.node_packages`); a node whose packages are current has no
``update``; ``changelog`` answers what ``apt-get changelog`` prints for a package without a changelog in the
cluster's package index; ``repositories`` each node's repository files (:mod:`pytest_pvemock.model.apt_sources`),
which ``PUT`` (add a standard repository) and ``POST`` (enable or disable one) change; ``POST update`` runs
``apt-get update`` in a task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.apt_sources import RepositoryFile, apt_get_update_output, standard_repositories
from pytest_pvemock.model.node_packages import package_facts, release_packages
from pytest_pvemock.model.tasks import Task

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


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


NO_SUBSCRIPTION_WARNING = "The no-subscription repository is not recommended for production use"
TEST_WARNING = "The test repository may contain unstable updates"


def _infos(file: RepositoryFile, major: int) -> list[dict[str, Any]]:
    infos = []
    for index, repo in enumerate(file.repositories):
        uri = repo["URIs"][0]
        components = repo["Components"]
        if "pve-no-subscription" in components or ("ceph" in uri and "no-subscription" in components):
            infos.append({"path": file.path, "index": str(index), "property": "Components", "kind": "warning",
                          "message": NO_SUBSCRIPTION_WARNING})  # fmt: skip
        if "pvetest" in components or ("ceph" in uri and "test" in components):
            infos.append({"path": file.path, "index": str(index), "property": "Components", "kind": "warning",
                          "message": TEST_WARNING})  # fmt: skip
        origin = "Proxmox" if "proxmox.com" in uri else "Debian"
        infos.append({"path": file.path, "index": str(index), "property": "URIs", "kind": "origin",
                      "message": origin})  # fmt: skip
    return infos


@handles("GET", "/nodes/{node}/apt/repositories")
def apt_repositories(ctx: HandlerContext) -> dict[str, Any]:
    """The node's repository files (proxmox-apt ``list_repositories("pve")``): at first those a fresh PVE install
    writes, then as ``PUT``/``POST`` changed them; ``standard-repos`` tells which handles are configured."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    major = ctx.cluster.release.major
    sources = ctx.cluster.apt_sources
    files = sources.files(node, major)
    answer_files = [{"path": file.path, "file-type": file.kind, "repositories": [dict(repo) for repo in
                     file.repositories], "digest": list(file.digest())} for file in files]  # fmt: skip
    standard = []
    for entry in standard_repositories(major):
        row: dict[str, Any] = {"handle": entry.handle, "name": entry.name}
        status = sources.status(node, major, entry)
        if status is not None:
            row["status"] = status
        standard.append(row)
    infos = [info for file in files for info in _infos(file, major)]
    return ordered(ctx, {"files": answer_files, "errors": [], "digest": sources.digest(node, major), "infos": infos,
                         "standard-repos": standard}, node)  # fmt: skip


@handles("PUT", "/nodes/{node}/apt/repositories")
def add_repository(ctx: HandlerContext) -> None:
    """APT.pm ``add_repository`` (681-717): a standard repository by ``handle``; one configured already is enabled."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    digest = ctx.params.get("digest")
    ctx.cluster.apt_sources.add(node, ctx.cluster.release.major, str(ctx.params["handle"]),
                                str(digest) if digest is not None else None)  # fmt: skip


@handles("POST", "/nodes/{node}/apt/repositories")
def change_repository(ctx: HandlerContext) -> None:
    """APT.pm ``change_repository`` (719-773): enable or disable the repository at ``path`` and ``index``."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    enabled = ctx.params.get("enabled")
    digest = ctx.params.get("digest")
    ctx.cluster.apt_sources.change(node, ctx.cluster.release.major, str(ctx.params["path"]),
                                   int(ctx.params["index"]), bool(int(enabled)) if enabled is not None else None,
                                   str(digest) if digest is not None else None)  # fmt: skip


@handles("POST", "/nodes/{node}/apt/update")
def update_database(ctx: HandlerContext) -> str:
    """APT.pm ``update_database`` (292-420): an ``aptupdate`` worker running ``apt-get update``. Every enabled
    repository is fetched; Proxmox's enterprise repositories answer 401 to a node without a subscription, and
    apt-get then exits 100 (``run_command`` fails the task)."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    quiet = bool(int(ctx.params.get("quiet", 0)))
    major = ctx.cluster.release.major
    files = ctx.cluster.apt_sources.files(node.name, major)
    subscribed = bool(node.level)

    def work(task: Task) -> None:
        lines, errors = apt_get_update_output(files, subscribed)
        if not quiet:
            task.log.append("starting apt-get update")
            task.log.extend(lines)
        if errors:
            raise PVEError("command 'apt-get update' failed: exit code 100")

    return ctx.cluster.tasks.start(node.name, "aptupdate", "", ctx.principal.authid, work=work).upid
