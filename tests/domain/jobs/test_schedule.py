"""The scheduler: timetables in local time, idempotent configuration, one queued job per due run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from domain.errors import InvalidInput
from domain.jobs import service as jobs
from domain.jobs.models import Job, JobSchedule
from domain.jobs.schedule import enqueue_due, ensure_schedule, next_run
from domain.settings import Settings, SettingsError
from tests.domain.jobs.factories import job_kinds_fixture


def scheduled_job(ctx: jobs.JobContext) -> dict:
    return {}


_kinds = job_kinds_fixture({"test.scheduled": scheduled_job})


def test_daily_runs_fall_at_the_local_time_of_day():
    schedule = JobSchedule(name="s", kind="k", daily_at="02:00", next_run_at=datetime.now(UTC))
    # 2026-07-01 17:00 UTC is 07-02 01:00 in Shanghai: the next 02:00 local is one hour later.
    assert next_run(schedule, datetime(2026, 7, 1, 17, 0, tzinfo=UTC)) == datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
    # Exactly at 02:00 local the next run is tomorrow's.
    assert next_run(schedule, datetime(2026, 7, 1, 18, 0, tzinfo=UTC)) == datetime(2026, 7, 2, 18, 0, tzinfo=UTC)


def test_interval_runs():
    schedule = JobSchedule(name="s", kind="k", interval_minutes=15, next_run_at=datetime.now(UTC))
    start = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
    assert next_run(schedule, start) == start + timedelta(minutes=15)


@pytest.mark.parametrize("kwargs", [{"daily_at": "25:00"}, {"daily_at": "2am"}, {},
                                    {"daily_at": "02:00", "interval_minutes": 5}, {"interval_minutes": 0}])
def test_bad_timetables_are_refused(session, kwargs):
    with pytest.raises(InvalidInput):
        ensure_schedule(session, name="bad", kind="test.scheduled", **kwargs)


def test_configuring_twice_keeps_one_schedule_and_its_next_run(session):
    first = ensure_schedule(session, name="daily", kind="test.scheduled", daily_at="02:00")
    planned = first.next_run_at
    again = ensure_schedule(session, name="daily", kind="test.scheduled", daily_at="02:00")
    assert again.id == first.id and again.next_run_at == planned
    moved = ensure_schedule(session, name="daily", kind="test.scheduled", daily_at="03:30")
    assert moved.next_run_at != planned
    assert len(session.exec(select(JobSchedule)).all()) == 1


def test_a_due_run_is_queued_once_even_when_two_runners_check_together(db):
    with db.unit_of_work() as s:
        schedule = ensure_schedule(s, name="often", kind="test.scheduled", interval_minutes=60, params={"x": 1})
        schedule.next_run_at = datetime.now(UTC) - timedelta(minutes=1)
    barrier = threading.Barrier(2)
    results: list[list[int]] = []

    def check() -> None:
        barrier.wait()
        try:
            results.append(enqueue_due(db))
        except Exception:  # SQLite may report the loser as busy; it must not queue anything either
            results.append([])

    threads = [threading.Thread(target=check) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.unit_of_work() as s:
        queued = s.exec(select(Job)).all()
        row = s.exec(select(JobSchedule)).one()
    assert len(queued) == 1 and sum(len(r) for r in results) == 1
    assert queued[0].params == {"x": 1, "schedule": "often"} and row.last_job_id == queued[0].id
    assert row.next_run_at > datetime.now(UTC)
    assert enqueue_due(db) == []  # not due again until the next run time


@pytest.mark.parametrize(("value", "expected"), [("02:00", "02:00"), ("off", None), ("23:59", "23:59")])
def test_daily_scoring_time_setting(tmp_path, value, expected):
    env = {"REGWATCH_VAR_DIR": str(tmp_path), "REGWATCH_SCORE_DAILY_AT": value}
    assert Settings.from_env(env).score_daily_at == expected


def test_bad_daily_scoring_time_is_named(tmp_path):
    with pytest.raises(SettingsError, match="REGWATCH_SCORE_DAILY_AT"):
        Settings.from_env({"REGWATCH_VAR_DIR": str(tmp_path), "REGWATCH_SCORE_DAILY_AT": "2pm"})
