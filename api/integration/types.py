"""GraphQL types for integration (集成对接): data sources, batches, status."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.integration import service
from domain.integration.models import DataSource, IngestionBatch, IngestionError

__all__ = ["DataSourceType", "IngestionBatchType", "IngestionErrorType", "IntegrationStatusType",
           "SourceStatusType"]


@strawberry.type(name="DataSource", description="A connected system (数据源).")
class DataSourceType:
    id: strawberry.ID
    code: str = strawberry.field(description="Code used as `source` when pushing (数据源编码).")
    name: str
    kind: str = strawberry.field(description="phase_one / department_system / data_centre / manual "
                                             "(一期平台/部门业务系统/数据中心主题库/手工导入).")
    expected_feeds: list[str] = strawberry.field(description="Kinds it is expected to send (应推送数据类别).")
    stale_after_days: int = strawberry.field(description="Stale after this many days without data (时效天数).")
    active: bool
    description: str

    @classmethod
    def build(cls, s: DataSource) -> DataSourceType:
        return cls(id=strawberry.ID(str(s.id)), code=s.code, name=s.name, kind=s.kind,
                   expected_feeds=list(s.expected_feeds), stale_after_days=s.stale_after_days, active=s.active,
                   description=s.description)


@strawberry.type(name="IngestionError", description="One rejected record of a batch (拒收记录).")
class IngestionErrorType:
    index: int = strawberry.field(description="0-based position in the batch (序号).")
    field: str | None
    code: str
    message: str

    @classmethod
    def build(cls, e: IngestionError) -> IngestionErrorType:
        return cls(index=e.record_index, field=e.field, code=e.code, message=e.message)


@strawberry.type(name="IngestionBatch", description="One push or file (导入批次).")
class IngestionBatchType:
    id: strawberry.ID
    source_code: str
    source_name: str
    kind: str = strawberry.field(description="entities / items / actions / complaints / credit.")
    channel: str = strawberry.field(description="api / file / cli / demo (渠道).")
    mode: str
    status: str = strawberry.field(description="done / rejected (状态).")
    file_name: str | None
    received: int
    accepted: int
    rejected: int
    created_by: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def build(cls, row: service.BatchRow) -> IngestionBatchType:
        b: IngestionBatch = row.batch
        return cls(id=strawberry.ID(str(b.id)), source_code=row.source_code, source_name=row.source_name,
                   kind=b.kind, channel=b.channel, mode=b.mode, status=b.status, file_name=b.file_name,
                   received=b.received, accepted=b.accepted, rejected=b.rejected, created_by=row.created_by,
                   created_at=b.created_at, finished_at=b.finished_at)


@strawberry.type(name="RecordCount", description="Records held from a source, by kind (记录数).")
class RecordCountType:
    kind: str
    count: int


@strawberry.type(name="FeedStatus", description="Freshness of one kind of data from a source (数据类别时效).")
class FeedStatusType:
    kind: str
    expected: bool
    last_push_at: datetime | None
    fresh: bool


@strawberry.type(name="BatchSummary", description="A recent batch (近期批次).")
class BatchSummaryType:
    id: strawberry.ID
    kind: str
    status: str
    received: int
    accepted: int
    rejected: int
    created_at: datetime


@strawberry.type(name="SourceStatus", description="Integration status of one source (数据源接入状态).")
class SourceStatusType:
    source: DataSourceType
    last_push_at: datetime | None = strawberry.field(description="Last push (最近推送).")
    records: list[RecordCountType]
    rejection_rate: float | None = strawberry.field(description="Rejected / received over 30 days (拒收率).")
    fresh: bool = strawberry.field(description="Every expected feed arrived in time (数据及时).")
    expected: bool = strawberry.field(description="Counted in the completion figure (纳入完成率).")
    integration_user: str | None = strawberry.field(description="The account whose tokens write as this source "
                                                                "(集成账号).")
    feeds: list[FeedStatusType]
    latest_batches: list[BatchSummaryType]

    @classmethod
    def build(cls, s: service.SourceStatus) -> SourceStatusType:
        return cls(
            source=DataSourceType.build(s.source), last_push_at=s.last_push_at,
            records=[RecordCountType(kind=k, count=n) for k, n in sorted(s.records.items())],
            rejection_rate=s.rejection_rate, fresh=s.fresh, expected=s.expected, integration_user=s.integration_user,
            feeds=[FeedStatusType(kind=f.kind, expected=f.expected, last_push_at=f.last_push_at, fresh=f.fresh)
                   for f in s.feeds],
            latest_batches=[BatchSummaryType(id=strawberry.ID(str(b.id)), kind=b.kind, status=b.status,
                                             received=b.received, accepted=b.accepted, rejected=b.rejected,
                                             created_at=b.created_at) for b in s.latest_batches])


@strawberry.type(name="IntegrationStatus", description="Integration status (集成对接状态) and completion (集成完成率).")
class IntegrationStatusType:
    completion: float | None = strawberry.field(description="Sources connected and fresh / sources expected "
                                                            "(集成完成率, target > 0.95).")
    expected: int
    connected_fresh: int
    as_of: datetime
    sources: list[SourceStatusType]

    @classmethod
    def build(cls, s: service.IntegrationStatus) -> IntegrationStatusType:
        return cls(completion=s.completion, expected=s.expected, connected_fresh=s.connected_fresh, as_of=s.as_of,
                   sources=[SourceStatusType.build(x) for x in s.sources])
