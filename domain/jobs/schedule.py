"""The scheduler: timetables kept in the database; every runner checks them, exactly one queues each due run."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.db import Database
from domain.errors import InvalidInput
from domain.identity.actor import SYSTEM
from domain.jobs.models import JobSchedule
from domain.jobs.service import submit_job
from domain.types import LOCAL_TZ, utcnow

__all__ = ["enqueue_due", "ensure_schedule", "list_schedules", "next_run", "parse_daily_at"]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_daily_at(text: str) -> str:
    """Validate "HH:MM" (24-hour, local time)."""
    text = text.strip()
    if not _HHMM.match(text):
        raise InvalidInput(f"time of day must look like HH:MM (00:00–23:59), got {text!r}", field="daily_at",
                           code="bad_time")
    return text


def next_run(schedule: JobSchedule, after: datetime) -> datetime:
    """The first run strictly after `after` (a zone-aware time)."""
    if schedule.interval_minutes:
        return after + timedelta(minutes=schedule.interval_minutes)
    assert schedule.daily_at, "a schedule needs daily_at or interval_minutes"
    hour, minute = (int(x) for x in schedule.daily_at.split(":"))
    local = after.astimezone(LOCAL_TZ)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def ensure_schedule(session: Session, *, name: str, kind: str, daily_at: str | None = None,
                    interval_minutes: int | None = None, params: dict[str, Any] | None = None,
                    enabled: bool = True) -> JobSchedule:
    """Create or update a named schedule (idempotent; used at start-up from configuration)."""
    if (daily_at is None) == (interval_minutes is None):
        raise InvalidInput("give exactly one of daily_at or interval_minutes", field="daily_at")
    if daily_at is not None:
        daily_at = parse_daily_at(daily_at)
    if interval_minutes is not None and interval_minutes <= 0:
        raise InvalidInput("interval_minutes must be positive", field="interval_minutes")
    row = session.exec(select(JobSchedule).where(JobSchedule.name == name)).first()
    timetable_changed = row is None or (row.daily_at, row.interval_minutes) != (daily_at, interval_minutes)
    if row is None:
        row = JobSchedule(name=name, kind=kind, next_run_at=utcnow())
        session.add(row)
    row.kind, row.params, row.enabled = kind, params or {}, enabled
    row.daily_at, row.interval_minutes = daily_at, interval_minutes
    if timetable_changed:
        row.next_run_at = next_run(row, utcnow())
    session.flush()
    return row


def list_schedules(session: Session) -> list[JobSchedule]:
    return list(session.exec(select(JobSchedule).order_by(JobSchedule.name)))


def enqueue_due(db: Database, now: datetime | None = None) -> list[int]:
    """Queue a job for every due schedule; the conditional update makes one runner win each run."""
    now = now or utcnow()
    queued: list[int] = []
    with db.unit_of_work() as session:
        due = session.exec(
            select(JobSchedule).where(col(JobSchedule.enabled), col(JobSchedule.next_run_at) <= now)).all()
        for schedule in due:
            won = cast("sa.CursorResult[Any]", session.execute(
                sa.update(JobSchedule)
                .where(col(JobSchedule.id) == schedule.id, col(JobSchedule.next_run_at) == schedule.next_run_at)
                .values(next_run_at=next_run(schedule, now), last_run_at=now)
            )).rowcount
            if won != 1:
                continue
            job = submit_job(session, SYSTEM, schedule.kind, {**schedule.params, "schedule": schedule.name})
            session.execute(sa.update(JobSchedule).where(col(JobSchedule.id) == schedule.id).values(last_job_id=job.id))
            assert job.id is not None
            queued.append(job.id)
    return queued
