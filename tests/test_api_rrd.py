"""``rrddata``: the usage history of nodes, guests and storages, as dashboards (the GUI, Grafana, Home Assistant)
draw it.

Rows per time frame and their spacing are PVE's: pve-cluster src/PVE/RRD.pm ``create_rrd_data`` (commit 7091d92e,
lines 56-72 for PVE 9's files; stable-bookworm e18c7928 lines 17-23 for PVE 8), the data sources those of
pmxcfs status.c (7091d92e lines 1100-1190); what a stopped guest writes: pve-manager PVE/Service/pvestatd.pm
lines 371-395 (14a22df3).
"""

from __future__ import annotations

import itertools

import pytest
from proxmoxer.core import ResourceException

ROWS = {
    "9.1": {"hour": (60, 60), "day": (60, 1440), "week": (1800, 336), "month": (1800, 1440), "year": (21600, 1440)},
    "8.4": {"hour": (60, 70), "day": (1800, 70), "week": (10800, 70), "month": (43200, 70), "year": (604800, 70)},
}
RUNNING_FIGURES = {"cpu", "mem", "netin", "netout", "diskread", "diskwrite"}


@pytest.mark.parametrize("version", sorted(ROWS))
def test_every_time_frame_has_pves_rows_ending_at_the_clocks_last_boundary(pve_factory_api, version):
    cluster, api = pve_factory_api(version=version)
    now = cluster.clock.now()
    for timeframe, (step, count) in ROWS[version].items():
        for rows in (
            api.nodes("pve1").rrddata.get(timeframe=timeframe),
            api.nodes("pve1").qemu(100).rrddata.get(timeframe=timeframe, cf="MAX"),
            api.nodes("pve2").lxc(110).rrddata.get(timeframe=timeframe),
            api.nodes("pve1").storage("local").rrddata.get(timeframe=timeframe),
        ):
            times = [row["time"] for row in rows]
            assert len(times) == count, timeframe
            assert times[-1] == now // step * step
            assert all(later - earlier == step for earlier, later in itertools.pairwise(times))


def test_a_running_guests_newest_rows_follow_its_current_status(pve_factory_api):
    _cluster, api = pve_factory_api()
    status = api.nodes("pve1").qemu(100).status.current.get()
    newest = api.nodes("pve1").qemu(100).rrddata.get(timeframe="hour")[-1]
    assert set(newest) >= RUNNING_FIGURES
    assert (newest["maxmem"], newest["maxcpu"], newest["maxdisk"]) == (
        status["maxmem"],
        status["cpus"],
        status["maxdisk"],
    )
    assert 0.5 * status["cpu"] <= newest["cpu"] <= 1.5 * status["cpu"]
    assert 0 < newest["mem"] <= status["maxmem"]
    assert {"memhost", "pressurecpusome", "pressurememoryfull"} <= set(newest)  # PVE 9's pve-vm-9.0 sources


def test_a_stopped_guest_has_sizes_but_no_figures_until_it_runs(pve_factory_api):
    cluster, api = pve_factory_api()
    vm = api.nodes("pve2").qemu(102)
    rows = vm.rrddata.get(timeframe="hour")
    assert all(not RUNNING_FIGURES & set(row) and row["maxmem"] == 4294967296 for row in rows)
    vm.status.start.post()
    cluster.clock.advance(600)
    rows = vm.rrddata.get(timeframe="hour")
    assert all(set(row) >= RUNNING_FIGURES for row in rows[-9:])
    assert all(not RUNNING_FIGURES & set(row) for row in rows[:-11])


def test_max_is_never_below_average(pve_factory_api):
    _cluster, api = pve_factory_api()
    average = api.nodes("pve1").rrddata.get(timeframe="day")
    peak = api.nodes("pve1").rrddata.get(timeframe="day", cf="MAX")
    pairs = [(a["cpu"], m["cpu"]) for a, m in zip(average, peak, strict=True) if "cpu" in a]
    assert len(pairs) > 1000
    assert all(m >= a for a, m in pairs)


def test_node_and_storage_history_agree_with_their_status(pve_factory_api):
    _cluster, api = pve_factory_api()
    status = api.nodes("pve1").status.get()
    newest = api.nodes("pve1").rrddata.get(timeframe="hour")[-1]
    assert (newest["memtotal"], newest["maxcpu"]) == (status["memory"]["total"], status["cpuinfo"]["cpus"])
    assert newest["rootused"] == status["rootfs"]["used"]
    local = next(row for row in api.nodes("pve1").storage.get() if row["storage"] == "local")
    newest = api.nodes("pve1").storage("local").rrddata.get(timeframe="hour")[-1]
    assert (newest["total"], newest["used"]) == (local["total"], local["used"])


def test_pve8_has_no_pressure_sources(pve_factory_api):
    _cluster, api = pve_factory_api(version="8.4")
    newest = api.nodes("pve1").rrddata.get(timeframe="hour")[-1]
    assert "pressurecpusome" not in newest and "memavailable" not in newest
    assert "memhost" not in api.nodes("pve1").qemu(100).rrddata.get(timeframe="hour")[-1]


def test_a_guest_that_never_existed_has_no_rrd_file(pve_factory_api):
    _cluster, api = pve_factory_api()
    with pytest.raises(ResourceException, match=r"500.*RRD error: opening '/var/lib/rrdcached/db/pve-vm-9.0/4242'"):
        api.nodes("pve1").qemu(4242).rrddata.get(timeframe="hour")


def test_the_graph_names_its_png_after_the_file_and_sources(pve_factory_api):
    _cluster, api = pve_factory_api()
    answer = api.nodes("pve1").rrd.get(timeframe="hour", ds="cpu,iowait")
    assert answer == {"filename": "/var/lib/rrdcached/db/pve-node-9.0/pve1_cpu_iowait.png"}


@pytest.fixture
def pve_factory_api(pve_cluster_factory):
    """``(cluster, proxmoxer client)`` for a cluster built with the given options, schema-checked."""
    import proxmoxer

    def build(**options):
        cluster = pve_cluster_factory(validate=True, **options)
        api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
        return cluster, api

    return build


def test_rrddata_reads_the_file_of_the_vmid_whatever_the_path_says(pve_factory_api):
    # qemu-server Qemu.pm line 1780, pve-container LXC.pm line 798: no config is loaded, the file is pve-vm-9.0/<vmid>
    _cluster, api = pve_factory_api()
    assert api.nodes("pve2").lxc(100).rrddata.get(timeframe="hour") == api.nodes("pve1").qemu(100).rrddata.get(
        timeframe="hour"
    )
