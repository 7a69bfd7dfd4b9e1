"""Long work (imports, training, scoring, reports) recorded as jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = ["JOB_STATUSES", "Job", "JobSchedule"]

JOB_STATUSES = ("queued", "running", "succeeded", "failed")


class Job(SQLModel, table=True):
    """任务: kind, status, progress, result or error, who started it."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64, index=True)
    status: str = Field(default="queued", max_length=16, index=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    progress_done: int = Field(default=0)
    progress_total: int | None = Field(default=None)
    message: str = Field(default="", max_length=500)
    result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    error: str | None = Field(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_by_name: str = Field(default="system", max_length=64)
    owner: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def fraction(self) -> float | None:
        if not self.progress_total:
            return None
        return min(1.0, self.progress_done / self.progress_total)

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")


class JobSchedule(SQLModel, table=True):
    """定时任务: a job queued on a timetable (daily at a local time, or every N minutes)."""

    __tablename__ = "job_schedule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    daily_at: str | None = Field(default=None, max_length=5)  # "HH:MM", Asia/Shanghai
    interval_minutes: int | None = Field(default=None)
    enabled: bool = Field(default=True)
    next_run_at: datetime = Field(sa_type=UTCDateTime, index=True)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_job_id: int | None = Field(default=None, foreign_key="job.id")
