"""What a node of a given PVE release runs: kernel, QEMU and machine version, per release series.

The cluster's release is any release of ``third_party/pve-api/INDEX.json`` (resolved by
``pytest_pvemock.schema.registry.resolve_release``); its kernel build and QEMU come from the Debian changelogs of
pve-kernel and pve-qemu at the release's date (``third_party/pve-packages``). The series table is the fallback
(the bump commits before a major's first packages), from Proxmox's release notes for that series
(https://pve.proxmox.com/wiki/Roadmap, "Proxmox VE X.Y": the default kernel and the QEMU version), whose
``uname -v`` has no build date.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_pvemock.model.node_packages import qemu_server_facts, release_packages

__all__ = ["FEATURES", "Platform", "has_feature", "platform_of"]


@dataclass(frozen=True)
class Platform:
    """``uname -r``, ``uname -v``, the QEMU version (``running-qemu``, ``creation-qemu``) and its machine type."""

    kernel: str
    kernel_build: str
    qemu: str
    machine: str


def _pve_kernel(release: str) -> str:
    # PVE 7 kernels print "#1 SMP PVE <version>", PVE 8 and later "#1 SMP PREEMPT_DYNAMIC PMX <version>".
    version = release.removesuffix("-pve")
    return f"#1 SMP PVE {version}" if release.startswith("5.") else f"#1 SMP PREEMPT_DYNAMIC PMX {version}"


_SERIES: dict[str, tuple[str, str, str]] = {
    # series: (kernel, QEMU, machine version of a new VM)
    "7.0": ("5.11.22-1-pve", "6.0.0", "pc-i440fx-6.0+pve0"),
    "7.1": ("5.13.19-1-pve", "6.1.0", "pc-i440fx-6.1+pve0"),
    "7.2": ("5.15.30-2-pve", "6.2.0", "pc-i440fx-6.2+pve0"),
    "7.3": ("5.15.74-1-pve", "7.1.0", "pc-i440fx-7.1+pve0"),
    "7.4": ("5.15.102-1-pve", "7.2.0", "pc-i440fx-7.2+pve0"),
    "8.0": ("6.2.16-3-pve", "8.0.2", "pc-i440fx-8.0+pve0"),
    "8.1": ("6.5.11-4-pve", "8.1.2", "pc-i440fx-8.1+pve0"),
    "8.2": ("6.8.4-2-pve", "8.1.5", "pc-i440fx-8.1+pve0"),
    "8.3": ("6.8.12-4-pve", "9.0.2", "pc-i440fx-9.0+pve0"),
    "9.0": ("6.14.8-2-pve", "10.0.2", "pc-i440fx-10.0+pve0"),
}
_EXACT = {
    "8.4": Platform(
        "6.8.12-9-pve", "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-9 (2025-03-16T19:18Z)", "9.2.0", "pc-i440fx-9.2+pve1"
    ),
    "9.1": Platform(
        "6.17.2-1-pve", "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)", "10.1.2", "pc-i440fx-10.1+pve0"
    ),
}


def platform_of(version: str) -> Platform:
    """The platform of a release (``"8.2.5"``, ``"7.2-3"``): its default kernel's build (the newest changelog entry
    of that kernel series on the release's date, whose trailer time is ``uname -v``'s build stamp) and its
    pve-qemu-kvm, from ``third_party/pve-packages``; the series table below where that data has no kernel."""
    packages = release_packages(version) if version[:1].isdigit() and "." in version else {}
    kernel, stamp, qemu_package = packages.get("kernel"), packages.get("kernel-build"), packages.get("pve-qemu-kvm")
    if kernel and stamp and qemu_package:
        release = f"{kernel}-pve"
        qemu = qemu_package.split("-", 1)[0]
        series = ".".join(qemu.split(".")[:2])
        revisions = qemu_server_facts(version)["machine_revisions"].get(series, {})
        revision = max((int(name.removeprefix("+pve")) for name in revisions), default=0)
        return Platform(release, f"{_pve_kernel(release)} ({stamp})", qemu, f"pc-i440fx-{series}+pve{revision}")
    return _series_platform(version)


def _series_platform(version: str) -> Platform:
    """The platform of a series (``"8.2"``); a series not listed gets the nearest older one's (a release newer
    than the table, the newest)."""
    parts = version.replace("-", ".").split(".")
    series = f"{parts[0]}.{parts[1]}" if len(parts) > 1 else parts[0]
    if series in _EXACT:
        return _EXACT[series]
    if series in _SERIES:
        kernel, qemu, machine = _SERIES[series]
        return Platform(kernel, _pve_kernel(kernel), qemu, machine)
    known = sorted([*_SERIES, *_EXACT], key=lambda s: tuple(int(p) for p in s.split(".")))
    wanted = tuple(int(p) for p in series.split(".") if p.isdigit())
    older = [s for s in known if tuple(int(p) for p in s.split(".")) <= wanted]
    return _series_platform(older[-1] if older else known[0])


#: API behaviours that changed inside a major, by the first release whose schema has them (read from
#: third_party/pve-api with ``pvemock schemas diff``): the model and the handlers ask ``cluster.has(name)``
#: instead of comparing majors, so every release answers in its own shape.
FEATURES: dict[str, str] = {
    # /cluster/ha/rules and HA groups migrated into rules (pve-ha-manager 5.0): not in 9.0.0-9.0.4's schema
    "ha-rules": "9.0.5",
    # POST /cluster/ha/resources/{sid}/migrate and .../relocate answer {sid, requested-node, ...}, not null
    "ha-move-answer": "9.0.6",
    # GET /cluster/ha/status/current lists a 'fencing' row (ha-manager 5.1.3)
    "ha-status-fencing-row": "9.1.3",
    # POST /nodes/{node}/qemu/{vmid}/template forks a 'qmtemplate' worker and answers its UPID; before, the
    # conversion ran in the request and the answer was null (returns 'null' in 7.0-1 to 7.1-1's schema)
    "qemu-template-worker": "7.1-2",
    # /cluster/resources lists SDN zones as type 'network' (id network/NODE/zone/ZONE); before, as type 'sdn'
    "resources-network-type": "9.0.9",
    # GET /nodes/{node}/lxc answers vmid as an integer (pve-container 81aa4bd "config list helper: fix return
    # type of vmid", in 5.0.10, 2024-04-19: the first release whose package set has it, third_party/pve-packages)
    "lxc-list-vmid-integer": "8.2.0",
    # 'memhost' in /nodes/{node}/qemu, .../status/current and /cluster/resources (first in 9.0.5's schema)
    "memhost": "9.0.5",
    # a running container's pressure stall figures (pressurecpusome ... pressurememoryfull) in the lxc list and
    # status (pve-container 275807b, 2025-07-31; first in 9.0.5's schema)
    "lxc-pressure": "9.0.5",
    # GET /nodes/{node}/qemu/{vmid}/migrate answers 'has-dbus-vmstate' (first in 9.0.5's schema)
    "migrate-dbus-vmstate": "9.0.5",
    # HA resource rows and status carry 'failback' (first in 9.0.5's /cluster/ha/status/current schema)
    "ha-failback": "9.0.5",
    # DELETE /cluster/ha/resources/{sid} takes 'purge' (default 1: the resource leaves its rules; first in 9.0.9)
    "ha-delete-purge": "9.0.9",
    # pvestatd writes pve-{node,vm,storage}-9.0 RRDs with PVE 9's time frames (pve-manager 24ccdc29,
    # 2025-07-31, bump 9.0.0~15: the first release dated after it)
    "rrd-pve9-format": "9.0.5",
    # Services.pm reads postfix's state from 'postfix', not 'postfix@-' (pve-manager 21a6ed78, 2025-07-19)
    "services-postfix-unit": "9.0.5",
    # /nodes/{node}/status cpuinfo has 'vendor' and 'family' (pve-common d2582a9b, 9.1.6, 2026-01-20: the first
    # release whose package set has libpve-common-perl >= 9.1.6)
    "cpuinfo-vendor-family": "9.1.3",
}


def has_feature(version: str, name: str) -> bool:
    """Whether the release ``version`` (``"9.0.7"``, ``"7.2-3"``) has the behaviour ``name`` of :data:`FEATURES`."""
    return _release_key(version) >= _release_key(FEATURES[name])


def _release_key(version: str) -> tuple[int, ...]:
    """``"9.0.7"`` -> (9, 0, 7); PVE 7's ``"7.1-2"`` -> (7, 1, 2)."""
    return tuple(int(part) for part in version.replace("-", ".").split("."))
