"""``GET /cluster/jobs/schedule-analyze`` counts from the cluster's clock (pve-manager PVE/API2/Cluster/Jobs.pm
lines 49-121 at 14a22df3: ``starttime`` defaults to ``time()``, 10 iterations, ``utc`` from ``scalar(gmtime)``)."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.support.clients import proxmoxer_client


def test_the_next_runs_of_a_schedule_start_from_the_clusters_now(pve_cluster):
    api = proxmoxer_client(pve_cluster)
    now = pve_cluster.clock.now()  # 2026-09-14 09:27:53 UTC
    runs = api.cluster.jobs("schedule-analyze").get(schedule="mon..fri 21:00")
    assert len(runs) == 10
    assert runs[0] == {"timestamp": 1789419600, "utc": "Mon Sep 14 21:00:00 2026"}
    assert all(now < run["timestamp"] for run in runs)
    weekdays = [datetime.fromtimestamp(run["timestamp"], timezone.utc).strftime("%a") for run in runs]
    assert weekdays == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue", "Wed", "Thu", "Fri"]
    pve_cluster.clock.advance(86400)
    api = proxmoxer_client(pve_cluster)  # a day later: a new login (tickets live two hours)
    assert api.cluster.jobs("schedule-analyze").get(schedule="mon..fri 21:00", iterations=1) == [
        {"timestamp": 1789506000, "utc": "Tue Sep 15 21:00:00 2026"}
    ]
    assert api.cluster.jobs("schedule-analyze").get(schedule="*:0/15", starttime=1789378073, iterations=3) == [
        {"timestamp": 1789378200, "utc": "Mon Sep 14 09:30:00 2026"},
        {"timestamp": 1789379100, "utc": "Mon Sep 14 09:45:00 2026"},
        {"timestamp": 1789380000, "utc": "Mon Sep 14 10:00:00 2026"},
    ]
