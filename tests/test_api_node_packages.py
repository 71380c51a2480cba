"""Node data taken from PVE per release: ``apt/versions`` (pve-manager PVE/API2/APT.pm ``versions``, commit
14a22df3: proxmox-ve, pve-manager, the kernels, then the rest by name), ``apt/update``, ``apt/changelog``,
``apt/repositories``, ``capabilities/qemu/{cpu,cpu-flags,machines}`` (qemu-server CPU.pm, CPUFlags.pm,
Machine.pm), ``vzdump/defaults`` (pve-manager PVE/VZDump.pm ``read_vzdump_defaults``), ``journal`` and
``netstat`` (pve-manager PVE/API2/Nodes.pm) and ``aplinfo``. Versions: third_party/pve-packages (Debian
changelogs of Proxmox's repositories at each release's date)."""

from __future__ import annotations

import proxmoxer
import pytest


def client(pve_cluster_factory, version):
    cluster = pve_cluster_factory(version=version, validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    return cluster, api


@pytest.mark.parametrize(
    ("version", "manager", "kernel_package", "qemu_server", "qemu"),
    [
        ("7.4", "7.4-2", "pve-kernel-5.15.102-1-pve", "7.4-2", "7.2.0-8"),
        ("8.2.5", "8.2.5", "proxmox-kernel-6.8.12-4-pve-signed", "8.2.7", "9.0.2-4"),
        ("9.1.3", "9.1.3", "proxmox-kernel-6.17", "9.1.9", "10.2.1-1"),
    ],
)
def test_versions_list_the_releases_packages_in_pveversion_order(
    pve_cluster_factory, version, manager, kernel_package, qemu_server, qemu
):
    cluster, api = client(pve_cluster_factory, version)
    rows = api.nodes("pve1").apt.versions.get()
    names = [row["Package"] for row in rows]
    assert names[:2] == ["proxmox-ve", "pve-manager"]
    assert names[2].startswith(("pve-kernel-", "proxmox-kernel-"))
    assert names[4:] == sorted(names[4:])
    by_name = {row["Package"]: row for row in rows}
    assert by_name["pve-manager"]["Version"] == manager
    assert by_name["pve-manager"]["ManagerVersion"] == f"{manager}/{cluster.repoid}"
    assert by_name["proxmox-ve"]["RunningKernel"] == cluster.kernel[0]
    assert kernel_package in by_name
    assert by_name["qemu-server"]["Version"] == qemu_server  # qemu-server debian/changelog at the release's date
    assert by_name["pve-qemu-kvm"]["Version"] == qemu
    assert all(row["CurrentState"] == "Installed" and row["Origin"] == "Proxmox" for row in rows)


def test_a_current_node_has_no_updates_and_no_changelog_server(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory, "9.1")
    node = api.nodes("pve1")
    assert node.apt.update.get() == []
    assert node.apt.changelog.get(name="qemu-server").endswith("RC: 100")


@pytest.mark.parametrize(("version", "paths"), [
    ("8.4", ["/etc/apt/sources.list", "/etc/apt/sources.list.d/pve-enterprise.list"]),
    ("9.1", ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list.d/pve-enterprise.sources"]),
])  # fmt: skip
def test_repositories_are_the_standard_files_of_the_major(pve_cluster_factory, version, paths):
    _cluster, api = client(pve_cluster_factory, version)
    answer = api.nodes("pve1").apt.repositories.get()
    assert [entry["path"] for entry in answer["files"]] == paths
    suite = "trixie" if version.startswith("9") else "bookworm"
    enterprise = answer["files"][1]["repositories"][0]
    assert (enterprise["Suites"], enterprise["Components"]) == ([suite], ["pve-enterprise"])
    assert {"handle": "enterprise", "name": "Enterprise", "status": True} in answer["standard-repos"]


@pytest.mark.parametrize(("version", "count", "newest"), [
    ("7.4", 54, "pc-q35-7.2"),  # qemu-server 7.4-2's $cpu_vendor_list; pve-qemu-kvm 7.2.0-8
    ("8.4", 80, "pc-q35-9.2+pve1"),  # 76 models + x86-64-v2..v4; Machine.pm's '9.2' => '+pve1'
])  # fmt: skip
def test_cpu_models_and_machines_are_the_releases(pve_cluster_factory, version, count, newest):
    _cluster, api = client(pve_cluster_factory, version)
    node = api.nodes("pve1")
    models = node.capabilities.qemu.cpu.get()
    assert len(models) == count
    assert {"name": "EPYC", "custom": 0, "vendor": "AuthenticAMD"} in models
    machines = node.capabilities.qemu.machines.get()
    assert machines[0]["id"] == newest
    assert {"id": "pc-i440fx-2.4", "type": "i440fx", "version": "2.4"} in machines


def test_cpu_flags_name_the_nodes_whose_cpu_has_them(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory, "9.1")
    flags = {row["name"]: row for row in api.nodes("pve1").capabilities.qemu("cpu-flags").get()}
    assert flags["nested-virt"]["supported-on"] == ["pve1", "pve2", "pve3"]  # the nodes' CPUs have svm
    assert flags["pcid"]["supported-on"] == []  # an AMD host flag list: no pcid
    assert "Spectre" in flags["ibpb"]["description"]


def test_vzdump_defaults_are_pves_with_the_storages_dump_dir(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory, "9.1")
    defaults = api.nodes("pve1").vzdump.defaults.get()
    assert defaults["storage"] == "local" and defaults["dumpdir"] == "/var/lib/vz/dump"
    assert (defaults["mode"], defaults["prune-backups"], defaults["lockwait"]) == ("snapshot", "keep-all=1", 180)


def test_the_journal_tells_the_tasks_and_continues_from_its_cursor(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory, "9.1")
    node = api.nodes("pve2")
    upid = node.qemu(102).status.start.post()
    lines = node.journal.get(lastentries=5)
    assert lines[0].startswith("s=") and lines[-1].startswith("s=")
    assert any(f"starting task {upid}" in line for line in lines[1:-1])
    assert node.journal.get(startcursor=lines[-1]) == []
    node.qemu(102).status.stop.post()
    newer = node.journal.get(startcursor=lines[-1])
    assert any("starting task UPID:pve2" in line and "qmstop" in line for line in newer[1:-1])


def test_netstat_counts_each_running_guests_nics_and_moves_with_the_clock(pve_cluster_factory):
    cluster, api = client(pve_cluster_factory, "9.1")
    node = api.nodes("pve2")
    before = node.netstat.get()
    running = {str(g.vmid) for g in cluster.guests_on("pve2") if g.running and "net0" in g.config}
    assert {row["vmid"] for row in before} == running
    cluster.clock.advance(600)
    after = {(row["vmid"], row["dev"]): int(row["in"]) for row in node.netstat.get()}
    assert all(after[(row["vmid"], row["dev"])] > int(row["in"]) for row in before)


def test_a_node_that_never_downloaded_the_appliance_index_lists_none(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory, "8.4")
    assert api.nodes("pve1").aplinfo.get() == []


@pytest.mark.parametrize(("version", "kernel"), [("8.4", "6.8.12-20-pve"), ("9.1", "6.17.13-9-pve")])
def test_the_report_is_pvereport_of_the_nodes_state(pve_cluster_factory, version, kernel):
    cluster, api = client(pve_cluster_factory, version)
    report = api.nodes("pve1").report.get()
    titles = [line for line in report.splitlines() if line.startswith("==== ")]
    assert titles[0] == "==== general system info ===="  # PVE/Report.pm: sections by their order
    assert f"proxmox-ve: {'8.4.0' if version == '8.4' else '9.1.0'} (running kernel: {kernel})" in report
    assert f"pve-manager: {cluster.full_version} (running version: {cluster.full_version}/{cluster.repoid})" in report
    web01 = cluster.guest(100)
    assert f"{100:>10} {web01.name:<20} {web01.status:<10}" in report  # qm list's printf
    assert "# cat /etc/pve/qemu-server/100.conf" in report


def test_hardware_is_a_host_for_the_nodes_cpu_with_pves_filters(pve_cluster_factory):
    cluster, api = client(pve_cluster_factory, "9.1")
    node = api.nodes("pve1")
    vendor, _family = cluster.node("pve1").cpu_identity()
    rows = node.hardware.pci.get()
    assert not any(row["class"].startswith(("0x05", "0x06", "0x0b")) for row in rows)  # default blacklist
    assert any(row["class"].startswith("0x06") for row in node.hardware.pci.get(**{"pci-class-blacklist": "07"}))
    chipset = "0x1022" if vendor == "AuthenticAMD" else "0x8086"
    assert any(row["vendor"] == chipset and row["class"] == "0x0c0330" for row in rows)  # the board's xHCI
    assert "vendor_name" not in node.hardware.pci.get(verbose=0)[0]
    assert node.hardware.pci(rows[0]["id"]).mdev.get() == []  # no device with mediated device types
    usb = node.hardware.usb.get()
    assert [(row["busnum"], row["level"]) for row in usb] == [(1, 0), (1, 1), (2, 0)]  # scan_usb's walk order
    assert usb[0]["manufacturer"] == f"Linux {cluster.kernel[0]} xhci-hcd"
