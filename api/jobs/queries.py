"""Jobs queries: the jobs the caller may see, and one job."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.ids import parse_id
from api.jobs.types import JobType
from api.pagination import Connection, build_connection, page_request
from domain.jobs import service as jobs

__all__ = ["JobsQuery"]


@strawberry.type
class JobsQuery:
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
        row = await info.context.read(jobs.get_job, info.context.actor, parse_id(id))
        return JobType.from_row(row)
