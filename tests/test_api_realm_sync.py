"""Realm sync jobs as PVE keeps them in jobs.cfg (pve-access-control src/PVE/API2/Jobs/RealmSync.pm and
src/PVE/Jobs/RealmSync.pm at 5ccd07d9302562b73374d331b63d25b04b86766c), their next run from the schedule."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from support.clients import refused

from pytest_pvemock.model.calendar_event import CalendarEvent


@pytest.fixture
def jobs(pve_api):
    pve_api.access.domains.post(realm="corp", type="ldap", server1="ldap.corp.test", base_dn="dc=corp,dc=test",
                                user_attr="uid")  # fmt: skip
    return pve_api.cluster.jobs("realm-sync")


def utc(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M")


def test_no_jobs_without_jobs(pve_api):
    assert pve_api.cluster.jobs("realm-sync").get() == []


def test_a_created_job_is_listed_with_its_next_run_from_the_schedule_and_the_clock(jobs, pve_cluster):
    assert utc(pve_cluster.clock.now()) == "2026-09-14 09:27"
    jobs("nightly").post(schedule="02:30", realm="corp", scope="both", comment="users and groups")
    jobs("monthly").post(schedule="sat *-1..7 15:00", realm="corp", scope="users")  # the first Saturday
    # syncjob_index (RealmSync.pm 87-116): the section, its id, next-run = compute_next_event(time())
    rows = {row["id"]: row for row in jobs.get()}
    assert rows["nightly"]["type"] == "realm-sync" and rows["nightly"]["comment"] == "users and groups"
    assert utc(rows["nightly"]["next-run"]) == "2026-09-15 02:30"
    assert utc(rows["monthly"]["next-run"]) == "2026-10-03 15:00"
    assert "last-run" not in rows["nightly"]  # never ran: no state file
    jobs("often").post(schedule="hourly", realm="corp", scope="groups")
    assert utc({row["id"]: row for row in jobs.get()}["often"]["next-run"]) == "2026-09-14 10:00"
    pve_cluster.clock.advance(3600)  # the clock moves on, the next run with it
    assert utc({row["id"]: row for row in jobs.get()}["often"]["next-run"]) == "2026-09-14 11:00"
    # read_job (RealmSync.pm 139-149) answers the section as stored, without id or next-run
    assert jobs("nightly").get() == {"type": "realm-sync", "schedule": "02:30", "realm": "corp", "scope": "both",
                                     "comment": "users and groups"}  # fmt: skip


def test_the_next_run_is_local_time_of_the_cluster(jobs, pve_cluster):
    pve_cluster.timezone = "Europe/Vienna"
    jobs("nightly").post(schedule="02:30", realm="corp", scope="both")
    assert utc(jobs.get()[0]["next-run"]) == "2026-09-15 00:30"  # 02:30 CEST


def test_pves_refusals_of_a_job(jobs, pve_api):
    # create_job (RealmSync.pm 172-203): the realm must exist and be LDAP or AD, check_config wants scope
    error = refused(jobs("sync1").post, schedule="daily", realm="pam", scope="both")
    assert error.status_code == 400 and error.errors == {"realm": "Only LDAP/AD realms can be synced."}
    assert refused(jobs("sync1").post, schedule="daily", realm="nope", scope="both").errors == {
        "realm": "No such realm 'nope'"
    }
    assert "missing value for required option 'scope'" in refused(jobs("sync1").post, schedule="daily",
                                                                   realm="corp").content  # fmt: skip
    jobs("sync1").post(schedule="daily", realm="corp", scope="both")
    assert refused(jobs("sync1").post, schedule="daily", realm="corp", scope="both").content.startswith(
        "Job 'sync1' already exists"
    )
    # update_job / delete_from_config (pve-common SectionConfig.pm 1853-1866)
    jobs("sync1").put(schedule="weekly", comment="x")
    jobs("sync1").put(schedule="weekly", delete="comment")
    assert "comment" not in jobs("sync1").get() and jobs("sync1").get()["schedule"] == "weekly"
    assert "unable to delete required option 'scope'" in refused(jobs("sync1").put, schedule="weekly",
                                                                  delete="scope").content  # fmt: skip
    assert "no such realm-sync job" in refused(jobs("other").put, schedule="weekly").content
    jobs("sync1").delete()
    assert jobs.get() == []
    assert refused(jobs("sync1").delete).errors == {"id": "No such job 'sync1'"}


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        # pve-docs calendar-events.adoc examples
        ("mon..fri", "2026-09-12 10:00", "2026-09-14 00:00"),  # Saturday -> Monday 0:00
        ("*/5", "2026-09-14 09:27", "2026-09-14 09:30"),
        ("mon..wed 30/10", "2026-09-14 09:55", "2026-09-14 10:30"),
        ("fri 12..13:5/20", "2026-09-18 12:46", "2026-09-18 13:05"),
        ("12,14,16,18,20,22:5", "2026-09-14 22:06", "2026-09-15 12:05"),
        ("*-05", "2026-09-14 00:00", "2026-10-05 00:00"),
        ("monthly", "2026-12-14 00:00", "2027-01-01 00:00"),
        ("quarterly", "2026-09-14 00:00", "2026-10-01 00:00"),
    ],
)
def test_calendar_events_fall_due_as_the_documented_examples_say(schedule, after, expected):
    start = int(datetime.strptime(after, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc).timestamp())
    assert utc(CalendarEvent.parse(schedule).next_after(start, timezone.utc)) == expected
