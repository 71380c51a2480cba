"""The cluster's time zone: HA status texts in the servers' local time, timestamps in UTC epoch seconds."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import proxmoxer
import pytest

from pytest_pvemock import mock
from pytest_pvemock.model import time_zone
from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario import ScenarioError
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.ha.status import perl_localtime

# pegaprox capture (QUIRKS 2.6): "pve-node-b1 (active, Thu Sep 10 19:48:41 2026)" with timestamp 1789062521,
# which is 17:48:41 UTC: the server ran at UTC+2 (Central European Summer Time).
CAPTURED_STAMP = 1789062521
QUIET = ("-p", "no:hypothesispytest", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist", "-p", "no:cacheprovider")


def test_the_captured_text_is_the_stamp_in_central_european_summer_time():
    assert perl_localtime(CAPTURED_STAMP, zoneinfo.ZoneInfo("Europe/Vienna")) == "Thu Sep 10 19:48:41 2026"
    assert perl_localtime(CAPTURED_STAMP) == "Thu Sep 10 17:48:41 2026"


def status_rows(cluster: FakeCluster) -> list[dict]:
    with mock(cluster, validate=True):
        api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
        return api.cluster.ha.status.current.get()


def stamped_rows(cluster: FakeCluster) -> dict[str, dict]:
    cluster.clock.advance(20)
    return {row["id"]: row for row in status_rows(cluster) if "timestamp" in row}


def text_time(row: dict) -> str:
    found = re.search(r"(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\)", row["status"])
    assert found, row["status"]
    return found.group(1)


def test_status_texts_show_local_time_while_timestamps_stay_utc_epoch():
    utc = stamped_rows(FakeCluster.from_scenario("ha-three-node"))
    vienna = stamped_rows(FakeCluster.from_scenario("ha-three-node", timezone="Europe/Vienna"))
    assert set(vienna) == set(utc) >= {"master", "lrm:pve1", "lrm:pve2", "lrm:pve3"}
    zone = zoneinfo.ZoneInfo("Europe/Vienna")
    for row_id, row in vienna.items():
        assert row["timestamp"] == utc[row_id]["timestamp"]
        assert text_time(utc[row_id]) == perl_localtime(row["timestamp"])
        assert text_time(row) == perl_localtime(row["timestamp"], zone)
        assert text_time(row) != text_time(utc[row_id])


def test_the_default_zone_is_utc():
    cluster = FakeCluster()
    assert cluster.timezone == "UTC" and cluster.tzinfo.utcoffset(None) == dt.timedelta(0)


def test_the_zone_can_change_on_a_running_cluster():
    cluster = FakeCluster.from_scenario("ha-three-node")
    cluster.timezone = "America/New_York"
    row = stamped_rows(cluster)["master"]
    assert text_time(row) == perl_localtime(row["timestamp"], zoneinfo.ZoneInfo("America/New_York"))


def test_a_scenario_names_its_zone():
    cluster = build_from_text("cluster: {name: lab, timezone: Asia/Tokyo}\nnodes: [{name: pve1}]\n", "lab.yaml")
    assert cluster.timezone == "Asia/Tokyo"


def test_an_unknown_zone_is_reported_with_file_and_line():
    text = "cluster:\n  name: lab\n  timezone: Europe/Atlantis\n"
    with pytest.raises(ScenarioError) as error:
        build_from_text(text, "lab.yaml")
    assert str(error.value).startswith("lab.yaml, line 3: unknown timezone 'Europe/Atlantis'")


@pytest.mark.parametrize("name", ["Europe/Atlantis", "../etc/passwd", "", 2])
def test_an_unknown_zone_is_a_value_error(name):
    with pytest.raises(ValueError, match="timezone"):
        FakeCluster(timezone=name)


def test_without_a_zone_database_only_utc_works(monkeypatch):
    def no_database(name: str) -> zoneinfo.ZoneInfo:
        raise zoneinfo.ZoneInfoNotFoundError(name)

    monkeypatch.setattr(zoneinfo, "ZoneInfo", no_database)
    monkeypatch.setattr(zoneinfo, "available_timezones", set)
    time_zone._zone_info.cache_clear()
    try:
        assert FakeCluster(timezone="UTC").timezone == "UTC"
        with pytest.raises(ValueError, match=r"'Europe/Vienna' needs a time zone database.*pip install tzdata"):
            FakeCluster(timezone="Europe/Vienna")
    finally:
        time_zone._zone_info.cache_clear()


def test_ini_and_command_line_set_the_default_zone(pytester, monkeypatch):
    pytester.makeini("[pytest]\npvemock_timezone = Europe/Vienna\n")
    pytester.makepyfile(
        """
        import os
        import pytest

        def test_default(pve_cluster):
            assert pve_cluster.timezone == os.environ["EXPECTED_ZONE"]

        @pytest.mark.pve_cluster(timezone="UTC")
        def test_marker_wins(pve_cluster):
            assert pve_cluster.timezone == "UTC"
        """
    )
    monkeypatch.setenv("EXPECTED_ZONE", "Europe/Vienna")
    pytester.runpytest(*QUIET).assert_outcomes(passed=2)
    monkeypatch.setenv("EXPECTED_ZONE", "Asia/Tokyo")
    pytester.runpytest(*QUIET, "--pvemock-timezone", "Asia/Tokyo").assert_outcomes(passed=2)
    result = pytester.runpytest(*QUIET, "--pvemock-timezone", "Mars/Olympus")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-pvemock: --pvemock-timezone: unknown timezone 'Mars/Olympus'*"])
