"""Answers per release, not per major: each behaviour that changed inside a major switches at the release
``release_platform.FEATURES`` names (read from PVE's schemas and the Proxmox commits cited there), and the kernel
and QEMU a node reports are its release's (pve-kernel and pve-qemu changelogs, third_party/pve-packages)."""

from __future__ import annotations

import proxmoxer
import pytest


def client(pve_cluster_factory, version):
    cluster = pve_cluster_factory(version=version, validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    return cluster, api


@pytest.mark.parametrize(("version", "kind"), [("8.1.5", str), ("8.2.0", int)])
def test_the_container_lists_vmid_turns_integer_with_pve_container_5_0_10(pve_cluster_factory, version, kind):
    _cluster, api = client(pve_cluster_factory, version)
    assert {type(row["vmid"]) for row in api.nodes("pve2").lxc.get()} == {kind}


@pytest.mark.parametrize(("version", "has"), [("9.0.4", False), ("9.0.5", True)])
def test_memhost_comes_with_9_0_5s_schema_not_with_the_major(pve_cluster_factory, version, has):
    _cluster, api = client(pve_cluster_factory, version)
    rows = api.cluster.resources.get(type="vm")
    assert all(("memhost" in row) is has for row in rows)
    assert ("memhost" in api.nodes("pve1").qemu(100).status.current.get()) is has


@pytest.mark.parametrize(("version", "has"), [("9.1.2", False), ("9.1.3", True)])
def test_cpuinfo_vendor_and_family_come_with_pve_common_9_1_6(pve_cluster_factory, version, has):
    _cluster, api = client(pve_cluster_factory, version)
    cpuinfo = api.nodes("pve1").status.get()["cpuinfo"]
    assert ("vendor" in cpuinfo and "family" in cpuinfo) is has


@pytest.mark.parametrize(("version", "count"), [("7.0-1", 16), ("9.0.2", 19), ("9.0.3", 23)])
def test_the_service_list_is_the_releases_schema_enum(pve_cluster_factory, version, count):
    _cluster, api = client(pve_cluster_factory, version)
    rows = api.nodes("pve1").services.get()
    assert len(rows) == count
    assert ("qmeventd" in {row["service"] for row in rows}) is (count == 23)  # pve-manager 9fb5deff, 2025-07


@pytest.mark.parametrize(("version", "kernel", "qemu"), [
    ("7.2-3", "5.15.74-1-pve", "7.1.0"),
    ("8.2.5", "6.8.12-4-pve", "9.0.2"),
    ("9.0.9", "6.14.11-4-pve", "10.1.2"),
])  # fmt: skip
def test_kernel_and_qemu_are_the_releases_builds(pve_cluster_factory, version, kernel, qemu):
    cluster, api = client(pve_cluster_factory, version)
    status = api.nodes("pve1").status.get()
    assert status["current-kernel"]["release"] == kernel
    assert status["kversion"].startswith(f"Linux {kernel} #1 SMP ")
    assert status["kversion"].endswith("Z)")  # uname -v's build stamp: the changelog trailer's time in UTC
    assert status["pveversion"].startswith(f"pve-manager/{cluster.full_version}/")
    running = next(g for g in cluster.guests if g.kind == "qemu" and g.running)
    assert api.nodes(running.node).qemu(running.vmid).status.current.get()["running-qemu"] == qemu
