"""Platform queries: server information and jobs."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.pagination import Connection, build_connection, page_request
from domain.jobs import service as jobs
from domain.jobs.models import Job
from domain.platform import server_info

__all__ = ["JobType", "PlatformQuery", "ServerInfoType"]


@strawberry.type(name="ServerInfo", description="About this server (服务信息).")
class ServerInfoType:
    version: str
    database_backend: str = strawberry.field(description="sqlite or postgresql (数据库类型).")
    migration_head: str | None = strawberry.field(description="The migration the database is at (数据库版本).")


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
                   finished_at=job.finished_at, result=job.result)


@strawberry.type
class PlatformQuery:
    @strawberry.field(description="Version, database backend and migration head (服务信息).")
    async def server_info(self, info: Info) -> ServerInfoType:
        data = await info.context.read(server_info)
        return ServerInfoType(**data)

    @strawberry.field(description="Background jobs you may see, newest first (后台任务列表).")
    async def jobs(self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
                   before: str | None = None, kind: str | None = None,
                   status: str | None = None) -> Connection[JobType]:
        ctx = info.context
        page = await ctx.read(jobs.page_jobs, ctx.actor, page_request(first, after, last, before, info=info),
                              max_size=ctx.settings.max_page_size, kind=kind, status=status)
        return build_connection(page, JobType.from_row)

    @strawberry.field(description="A job by id (后台任务).")
    async def job(self, info: Info, id: strawberry.ID) -> JobType:
        row = await info.context.read(jobs.get_job, info.context.actor, int(id))
        return JobType.from_row(row)
