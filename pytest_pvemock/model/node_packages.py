"""The Proxmox packages a node of a PVE release runs (``pveversion -v``, ``/nodes/{node}/apt/versions``) and what
its qemu-server knows (CPU models, VM CPU flags, machine revisions), per release: data in
``third_party/pve-packages`` (see its SOURCE.md), read from the Debian changelogs of Proxmox's repositories."""

from __future__ import annotations

import re
from typing import Any

from pytest_pvemock.pve_data import pve_data


def _data() -> dict[str, Any]:
    data: dict[str, Any] = pve_data("pve-packages", "packages.json")
    return data


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def release_packages(version: str) -> dict[str, str]:
    """Package -> version on the release ``version`` (a release of INDEX.json; another: the nearest older one),
    with ``kernel`` and ``kernel-build`` (the default kernel's version and its ``uname -v`` build stamp)."""
    releases: dict[str, dict[str, str]] = _data()["releases"]
    if version in releases:
        return dict(releases[version])
    wanted = _key(version)
    in_series = [name for name in releases if len(wanted) < 3 and _key(name)[: len(wanted)] == wanted]
    if in_series:  # a minor ("8.2") or a major ("9"): its newest release
        return dict(releases[max(in_series, key=_key)])
    older = [name for name in releases if _key(name) <= _key(version)]
    return dict(releases[max(older, key=_key) if older else min(releases, key=_key)])


def package_facts(package: str) -> dict[str, str]:
    """Title, Description, Section and Arch of a package (its ``debian/control``)."""
    facts: dict[str, str] = _data()["packages"][package]
    return facts


def qemu_server_facts(version: str) -> dict[str, Any]:
    """CPU models, built-in models, VM CPU flags and machine revisions of the release's qemu-server (where its
    bump commit was not found, the nearest older qemu-server's)."""
    known: dict[str, dict[str, Any]] = {k: v for k, v in _data()["qemu-server"].items() if v.get("commit")}
    wanted = release_packages(version).get("qemu-server", "")
    if wanted in known:
        return known[wanted]
    older = [name for name in known if _key(name) <= _key(wanted)]
    return known[max(older, key=_key) if older else min(known, key=_key)]
