"""A job whose process died is failed within the stale limit plus one heartbeat, both settings; the README says so
with the same numbers (issue 8 point 16)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from domain.jobs.models import Job
from domain.jobs.runner import HEARTBEAT_SECONDS, STALE_AFTER, JobRunner
from domain.settings import Settings, SettingsError
from domain.types import utcnow

README = Path(__file__).resolve().parents[3] / "README.md"


def test_heartbeat_and_stale_limit_are_settings_with_the_runner_defaults():
    defaults = Settings.from_env({"REGWATCH_SECRET_KEY": "s" * 40})
    assert (defaults.job_heartbeat_seconds, defaults.job_stale_seconds) == (HEARTBEAT_SECONDS,
                                                                           STALE_AFTER.total_seconds())
    custom = Settings.from_env({"REGWATCH_SECRET_KEY": "s" * 40, "REGWATCH_JOB_HEARTBEAT_SECONDS": "2",
                                "REGWATCH_JOB_STALE_SECONDS": "10"})
    assert (custom.job_heartbeat_seconds, custom.job_stale_seconds) == (2.0, 10.0)
    with pytest.raises(SettingsError, match="at least three heartbeats"):
        Settings.from_env({"REGWATCH_SECRET_KEY": "s" * 40, "REGWATCH_JOB_HEARTBEAT_SECONDS": "5",
                           "REGWATCH_JOB_STALE_SECONDS": "10"})


def test_the_readme_states_the_same_numbers():
    text = " ".join(README.read_text(encoding="utf-8").split())
    heartbeat, stale = int(HEARTBEAT_SECONDS), int(STALE_AFTER.total_seconds())
    assert f"`REGWATCH_JOB_HEARTBEAT_SECONDS` ({heartbeat} s)" in text
    assert f"`REGWATCH_JOB_STALE_SECONDS` ({stale} s)" in text
    assert f"within {heartbeat + stale} s by default" in text


def test_a_running_server_fails_a_job_whose_process_died_within_the_stale_limit_and_a_heartbeat(db):
    runner = JobRunner(db, heartbeat_seconds=0.2, stale_seconds=1.0, poll_seconds=0.05)
    runner.start()
    try:
        with db.unit_of_work() as s:
            orphan = Job(kind="test.orphan", status="running", started_at=utcnow(), heartbeat_at=utcnow(),
                         owner="elsewhere:1:1")  # claimed by a process that then died: nobody beats it
            s.add(orphan)
            s.flush()
            job_id = orphan.id
        started = time.monotonic()
        status = "running"
        while status == "running" and time.monotonic() - started < 10:
            time.sleep(0.05)
            with db.unit_of_work("read") as s:
                status = s.get(Job, job_id).status
        elapsed = time.monotonic() - started
    finally:
        runner.stop()
    assert status == "failed"
    # 1 s stale limit + 0.2 s heartbeat, with room for a loaded machine; the old runner looked every 60 s
    assert elapsed < 5, elapsed
    assert elapsed >= 0.8  # not before its heartbeat was stale
