"""GraphQL types of the jobs feature (后台任务)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry

from domain.jobs.models import Job

__all__ = ["JobType"]


@strawberry.type(name="Job", description="A long-running task (后台任务): import, training, scoring, report.")
class JobType:
    id: strawberry.ID
    kind: str
    status: str = strawberry.field(description="queued / running / succeeded / failed (排队/运行/成功/失败).")
    progress_done: int
    progress_total: int | None
    message: str
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: strawberry.scalars.JSON | None

    @classmethod
    def from_row(cls, job: Job) -> JobType:
        return cls(id=strawberry.ID(str(job.id)), kind=job.kind, status=job.status, progress_done=job.progress_done,
                   progress_total=job.progress_total, message=job.message, error=job.error,
                   created_by=job.created_by_name, created_at=job.created_at, started_at=job.started_at,
                   finished_at=job.finished_at, result=cast(strawberry.scalars.JSON, job.result))
