"""Integration queries: data sources, ingestion batches, integration status."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.ids import parse_id
from api.integration.types import DataSourceType, IngestionBatchType, IngestionErrorType, IntegrationStatusType
from api.pagination import Connection, build_connection, page_request
from domain.integration import service

__all__ = ["IntegrationQuery"]


def _id(value: strawberry.ID) -> int:
    return parse_id(value, "id")


@strawberry.type
class IntegrationQuery:
    @strawberry.field(description="Connected systems (数据源).")
    async def data_sources(self, info: Info) -> list[DataSourceType]:
        rows = await info.context.read(service.list_data_sources, info.context.actor)
        return [DataSourceType.build(s) for s in rows]

    @strawberry.field(description="Ingestion batches, newest first (导入批次).")
    async def ingestion_batches(self, info: Info, source: str | None = None, kind: str | None = None,
                                first: int | None = None, after: str | None = None, last: int | None = None,
                                before: str | None = None) -> Connection[IngestionBatchType]:
        ctx = info.context
        page = await ctx.read(service.list_batches, ctx.actor, page_request(first, after, last, before, info=info),
                              source=source, kind=kind, max_size=ctx.settings.max_page_size)
        return build_connection(page, IngestionBatchType.build)

    @strawberry.field(description="One batch (导入批次).")
    async def ingestion_batch(self, info: Info, id: strawberry.ID) -> IngestionBatchType:
        return IngestionBatchType.build(await info.context.read(service.get_batch, info.context.actor, _id(id)))

    @strawberry.field(description="The rejected records of a batch (拒收记录).")
    async def ingestion_errors(self, info: Info, batch_id: strawberry.ID, first: int | None = None,
                               after: str | None = None) -> Connection[IngestionErrorType]:
        ctx = info.context
        page = await ctx.read(service.batch_errors, ctx.actor, _id(batch_id), page_request(first, after, info=info),
                              max_size=1000)
        return build_connection(page, IngestionErrorType.build)

    @strawberry.field(description="Per source: last push, records, rejection rate, freshness, latest batches; and "
                                  "the integration completion figure (集成对接状态).")
    async def integration_status(self, info: Info) -> IntegrationStatusType:
        return IntegrationStatusType.build(await info.context.read(service.integration_status, info.context.actor))
