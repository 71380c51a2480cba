"""Facts current PVE sends that clients read: ``cpuinfo.vendor``/``family`` in node status (pve-common
src/PVE/ProcFSTools.pm ``read_cpuinfo``, since d2582a9b) and the LXC list's pressure stall figures (pve-container
src/PVE/LXC.pm lines 361-367, 94f55852: read from a running container's cgroup only)."""

from __future__ import annotations

from support.clients import proxmoxer_client


def client(pve_cluster_factory, version="9.1"):
    cluster = pve_cluster_factory(version=version, validate=True)
    return proxmoxer_client(cluster)


def test_cpuinfo_names_vendor_and_family_of_the_model(pve_cluster_factory):
    cpuinfo = client(pve_cluster_factory).nodes("pve3").status.get()["cpuinfo"]  # 12 cores: a Ryzen 5 5600G
    assert (cpuinfo["model"], cpuinfo["vendor"], cpuinfo["family"]) == (
        "AMD Ryzen 5 5600G with Radeon Graphics",
        "AuthenticAMD",
        "25",
    )
    assert "vendor" not in client(pve_cluster_factory, "8.4").nodes("pve3").status.get()["cpuinfo"]


def test_running_containers_report_pressure_stopped_ones_do_not(pve_cluster_factory):
    pve = client(pve_cluster_factory)
    running = next(row for row in pve.nodes("pve2").lxc.get() if row["vmid"] == 110)
    stopped = next(row for row in pve.nodes("pve3").lxc.get() if row["vmid"] == 111)
    pressure = {"pressurecpusome", "pressurecpufull", "pressureiosome", "pressureiofull", "pressurememorysome",
                "pressurememoryfull"}  # fmt: skip
    assert pressure <= set(running)
    assert all(isinstance(running[key], str) for key in pressure)  # "0.00": PVE prints them as strings
    assert not pressure & set(stopped)
