"""Build third_party/pve-packages/packages.json: the version of each Proxmox package a PVE release shipped.

For every release of third_party/pve-api/INDEX.json, each package's version is the newest entry of its Debian
changelog (union over every branch of its Proxmox git repository) whose distribution is the release's Debian
suite (7: bullseye, 8: bookworm, 9: trixie) and whose date is on or before the release's pve-docs bump date.
Titles, descriptions, sections and architectures come from the repository's ``debian/control`` (master).

Usage: python scripts/pve_package_versions.py MIRRORS_DIR > third_party/pve-packages/packages.json
MIRRORS_DIR holds bare mirrors named ``proxmox+<repo>/repo`` (github.com/proxmox/<repo>).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

SUITES = {"7": "bullseye", "8": "bookworm", "9": "trixie"}
# package -> (repository, changelog path inside it, control path)
PACKAGES = {
    "pve-manager": ("pve-manager", "debian/changelog", "debian/control"),
    "qemu-server": ("qemu-server", "debian/changelog", "debian/control"),
    "pve-container": ("pve-container", "debian/changelog", "debian/control"),
    "libpve-common-perl": ("pve-common", "debian/changelog", "debian/control"),
    "pve-cluster": ("pve-cluster", "debian/changelog", "debian/control"),
    "libpve-cluster-perl": ("pve-cluster", "debian/changelog", "debian/control"),
    "libpve-cluster-api-perl": ("pve-cluster", "debian/changelog", "debian/control"),
    "libpve-storage-perl": ("pve-storage", "debian/changelog", "debian/control"),
    "libpve-access-control": ("pve-access-control", "debian/changelog", "debian/control"),
    "libpve-guest-common-perl": ("pve-guest-common", "debian/changelog", "debian/control"),
    "pve-ha-manager": ("pve-ha-manager", "debian/changelog", "debian/control"),
    "pve-firewall": ("pve-firewall", "debian/changelog", "debian/control"),
    "libpve-http-server-perl": ("pve-http-server", "debian/changelog", "debian/control"),
    "libpve-network-perl": ("pve-network", "debian/changelog", "debian/control"),
    "pve-docs": ("pve-docs", "debian/changelog", "debian/control"),
    "proxmox-widget-toolkit": ("proxmox-widget-toolkit", "debian/changelog", "debian/control"),
    "pve-qemu-kvm": ("pve-qemu", "debian/changelog", "debian/control"),
    "pve-edk2-firmware": ("pve-edk2-firmware", "debian/changelog", "debian/control"),
    "lxc-pve": ("lxc", "debian/changelog", "debian/control"),
    "pve-xtermjs": ("pve-xtermjs", "xterm.js/debian/changelog", "xterm.js/debian/control"),
    "spiceterm": ("spiceterm", "debian/changelog", "debian/control"),
    "vncterm": ("vncterm", "debian/changelog", "debian/control"),
}
QUOTED = re.compile(r"\"([^\"]*)\"|'([^']*)'")
HEADER = re.compile(r"^(\S+) \(([^)]+)\) ([^;]+);")
TRAILER = re.compile(r"^ -- .+?  (.+)$")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else ""


def changelog_stamps(repo: Path, path: str) -> Iterator[tuple[str, str, datetime]]:
    """(version, suite, date of the entry's trailer) of every changelog entry, branch by branch."""
    for branch in git(repo, "for-each-ref", "refs/heads", "--format=%(refname:short)").split():
        version = suite = None
        for line in git(repo, "show", f"{branch}:{path}").splitlines():
            header = HEADER.match(line)
            if header:
                version, suite = header.group(2), header.group(3).split()[0]
                continue
            trailer = TRAILER.match(line)
            if trailer and version and suite:
                try:
                    when = parsedate_to_datetime(trailer.group(1).strip())
                except (TypeError, ValueError):
                    continue
                yield version, suite, when
                version = suite = None


def changelog_entries(repo: Path, path: str) -> dict[str, tuple[str, str]]:
    """version -> (suite, ISO date) over every branch's changelog (the first branch that has it wins)."""
    entries: dict[str, tuple[str, str]] = {}
    for version, suite, when in changelog_stamps(repo, path):
        entries.setdefault(version, (suite, when.date().isoformat()))
    return entries


def control_facts(repo: Path, path: str, package: str) -> dict[str, str]:
    """Title (short description), Description (long, as APT.pm's assemble_pkginfo joins it), Section, Arch."""
    text = git(repo, "show", f"HEAD:{path}")
    source_section = ""
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Source" in fields:
            source_section = fields.get("Section", "")
        if fields.get("Package") == package:
            title, _, rest = fields.get("Description", "").partition("\n")
            long = " ".join(part.strip() for part in rest.splitlines() if part.strip() not in (".", ""))
            return {
                "Title": title.strip(),
                "Description": long,
                "Section": fields.get("Section", source_section) or "admin",
                "Arch": "all" if fields.get("Architecture", "any") == "all" else "amd64",
            }
    return {}


# The default kernel series of each PVE minor (Proxmox VE release notes, https://pve.proxmox.com/wiki/Roadmap)
KERNEL_SERIES = {"7.0": "5.11", "7.1": "5.13", "7.2": "5.15", "7.3": "5.15", "7.4": "5.15", "8.0": "6.2",
                 "8.1": "6.5", "8.2": "6.8", "8.3": "6.8", "8.4": "6.8", "9.0": "6.14", "9.1": "6.17"}  # fmt: skip
PERL_PAIR = re.compile(r"^\s*'?([\w.+-]+)'?\s*=>\s*'(GenuineIntel|AuthenticAMD|default)',", re.M)
FLAG = re.compile(r"name\s*=>\s*'([\w.-]+)',\s*description\s*=>\s*((?:\s*\.?\s*(?:\"[^\"]*\"|'[^']*'))+)", re.S)


def kernels(repo: Path) -> dict[str, tuple[str, str, str]]:
    """kernel version (``6.8.12-9``) -> (suite, ISO date, uname -v build stamp) over every branch."""
    found: dict[str, tuple[str, str, str]] = {}
    for version, suite, when in changelog_stamps(repo, "debian/changelog"):
        utc = when.astimezone(timezone.utc)
        found.setdefault(version, (suite, utc.date().isoformat(), utc.strftime("%Y-%m-%dT%H:%MZ")))
    return found


def bump_commit(repo: Path, version: str) -> str:
    return git(repo, "log", "--all", "-1", "--format=%H", f"--grep=^bump version to {re.escape(version)}$").strip()


def qemu_server_facts(repo: Path, qemu_repo: Path, version: str, qemu_version: str) -> dict[str, object]:
    """CPU models (name -> vendor), built-in models, VM-specific CPU flags and PVE machine revisions of a
    qemu-server release, read at its "bump version to" commit (CPU models from pve-qemu's
    ``debian/cpu-models-x86_64.json`` once qemu-server reads them from there)."""
    commit = bump_commit(repo, version)
    text = ""
    for path in ("src/PVE/QemuServer/CPUConfig.pm", "PVE/QemuServer/CPUConfig.pm"):
        text = git(repo, "show", f"{commit}:{path}")
        if text:
            break
    flags_text = git(repo, "show", f"{commit}:src/PVE/QemuServer/CPUFlags.pm") or text
    machine = git(repo, "show", f"{commit}:src/PVE/QemuServer/Machine.pm") or git(
        repo, "show", f"{commit}:PVE/QemuServer/Machine.pm"
    )
    if "cpu_vendor_list = {" in text:
        vendor_block = text.split("cpu_vendor_list = {", 1)[1].split("\n};", 1)[0]
    else:  # the hard-coded list of initialize_cpu_models, used while pve-qemu ships no cpu-models JSON
        vendor_block = text.split("cpu_models_by_arch = {", 1)[-1].split("aarch64", 1)[0]
    models = dict(PERL_PAIR.findall(vendor_block))
    qemu_commit = bump_commit(qemu_repo, qemu_version)
    shipped = git(qemu_repo, "show", f"{qemu_commit}:debian/cpu-models-x86_64.json") if qemu_commit else ""
    if "cpu-models-x86_64.json" in text and shipped:
        models = json.loads(shipped)
    marker = "builtin_models_by_arch = {" if "builtin_models_by_arch = {" in text else "builtin_models = {"
    builtin = text.split(marker, 1)[1].split("\n};", 1)[0].split("aarch64", 1)[0] if marker in text else ""
    flags_block = ""
    for marker in ("supported_vm_specific_cpu_flags_by_arch = {", "supported_cpu_flags_by_arch = {",
                   "@supported_cpu_flags = ("):  # fmt: skip
        if marker in flags_text:
            flags_block = flags_text.split(marker, 1)[1].split("aarch64", 1)[0].split("\n);", 1)[0]
            break
    flags = {
        name: "".join(
            re.findall(r"\"([^\"]*)\"|'([^']*)'", desc)
            and [a or b for a, b in re.findall(r"\"([^\"]*)\"|'([^']*)'", desc)]
        )
        for name, desc in FLAG.findall(flags_block)
    }
    revisions: dict[str, dict[str, str]] = {}
    if "PVE_MACHINE_VERSION = {" in machine:
        table = machine.split("PVE_MACHINE_VERSION = {", 1)[1].split("\n};", 1)[0]
        for qemu, body in re.findall(r"'([\d.]+)' => \{(.*?)\n    \},", table, re.S):
            pairs = re.findall(r"'(\+pve\d+)' =>\s*((?:\s*\.?\s*(?:\"[^\"]*\"|'[^']*'))+)", body)
            revisions[qemu] = {rev: "".join(a or b for a, b in QUOTED.findall(desc)) for rev, desc in pairs}
    return {
        "commit": commit,
        "cpu_models": dict(sorted(models.items())),
        "builtin_models": sorted(set(re.findall(r"^\s+'([\w-]+)' => \{", builtin, re.M))),
        "vm_cpu_flags": flags,
        "machine_revisions": revisions,
    }


def main() -> None:
    mirrors = Path(sys.argv[1])
    index = json.loads((Path(__file__).resolve().parent.parent / "third_party/pve-api/INDEX.json").read_text())
    packages: dict[str, dict[str, str]] = {}
    history: dict[str, dict[str, tuple[str, str]]] = {}
    commits: dict[str, str] = {}
    for package, (name, changelog, control) in PACKAGES.items():
        repo = mirrors / f"proxmox+{name}" / "repo"
        if name not in history:
            history[name] = changelog_entries(repo, changelog)
            commits[name] = git(repo, "rev-parse", "HEAD").strip()
        facts = control_facts(repo, control, package)
        packages[package] = {"repository": f"proxmox/{name}", **facts}
    releases: dict[str, dict[str, str]] = {}
    kernel_history = kernels(mirrors / "proxmox+pve-kernel/repo")
    commits["pve-kernel"] = git(mirrors / "proxmox+pve-kernel/repo", "rev-parse", "HEAD").strip()
    qemu: dict[str, dict[str, object]] = {}
    for release in index["releases"]:
        version, date = release["version"], release["date"]
        suite = SUITES[version[0]]
        found: dict[str, str] = {}
        for package, (name, _changelog, _control) in PACKAGES.items():
            candidates = [(when, ver) for ver, (dist, when) in history[name].items() if dist == suite and when <= date]
            if not candidates:  # the bump before the major's first packages: their first version
                firsts = [(when, ver) for ver, (dist, when) in history[name].items() if dist == suite]
                candidates = (
                    [min(firsts, key=lambda c: (c[0], [int(n) for n in re.findall(r"\d+", c[1])]))] if firsts else []
                )
            if candidates:
                found[package] = max(candidates, key=lambda c: (c[0], [int(n) for n in re.findall(r"\d+", c[1])]))[1]
        releases[version] = found
        series = KERNEL_SERIES[".".join(version.replace("-", ".").split(".")[:2])]
        builds = [(when, ver, stamp) for ver, (dist, when, stamp) in kernel_history.items()
                  if dist == suite and ver.startswith(series + ".") and when <= date]  # fmt: skip
        if builds:
            _when, kernel, stamp = max(builds, key=lambda b: (b[0], [int(n) for n in re.findall(r"\d+", b[1])]))
            found["kernel"], found["kernel-build"] = kernel, stamp
        qemu_server = found.get("qemu-server")
        if qemu_server and qemu_server not in qemu:
            qemu[qemu_server] = qemu_server_facts(
                mirrors / "proxmox+qemu-server/repo",
                mirrors / "proxmox+pve-qemu/repo",
                qemu_server,
                found.get("pve-qemu-kvm", ""),
            )
    json.dump(
        {"repositories": commits, "packages": packages, "releases": releases, "qemu-server": qemu},
        sys.stdout,
        indent=1,
        sort_keys=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
