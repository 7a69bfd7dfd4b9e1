"""Data sources, ingestion batches and the integration status (集成对接状态)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department, User
from domain.identity.policy import require, require_signed_in
from domain.integration.models import (
    COUNTED_KINDS,
    DATA_SOURCE_KINDS,
    INGEST_KINDS,
    DataSource,
    IngestionBatch,
    IngestionError,
    SourceRecordCount,
)
from domain.pagination import Page, PageRequest, select_page
from domain.types import table_of, utcnow

__all__ = [
    "DATA_SOURCE_KIND_LABELS",
    "FeedStatus",
    "IntegrationStatus",
    "SourceStatus",
    "batch_errors",
    "create_data_source",
    "get_batch",
    "get_data_source",
    "integration_status",
    "iter_batch_errors",
    "list_batches",
    "list_data_sources",
    "manual_source_code",
]

DATA_SOURCE_KIND_LABELS = {"phase_one": "一期平台", "department_system": "部门业务系统",
                           "data_centre": "数据中心主题库", "manual": "手工导入"}


def _require_reader(actor: Actor) -> None:
    require_signed_in(actor)


def create_data_source(session: Session, actor: Actor, *, code: str, name: str, kind: str,
                       department_code: str | None = None, username: str | None = None,
                       expected_feeds: list[str] | None = None, stale_after_days: int = 7,
                       description: str = "") -> DataSource:
    """Register a connected system (admin)."""
    require(actor, "settings.manage")
    errors = []
    code, name = code.strip(), name.strip()
    if not code or len(code) > 64:
        errors.append(("code", "编码必填，最长64个字符"))
    if not name or len(name) > 100:
        errors.append(("name", "名称必填，最长100个字符"))
    if kind not in DATA_SOURCE_KINDS:
        errors.append(("kind", f"类别应为：{'、'.join(DATA_SOURCE_KINDS)}"))
    feeds = list(dict.fromkeys(expected_feeds or []))
    bad_feeds = [f for f in feeds if f not in INGEST_KINDS]
    if bad_feeds:
        errors.append(("expected_feeds", f"未知的数据类别：{'、'.join(bad_feeds)}"))
    if stale_after_days < 1:
        errors.append(("stale_after_days", "时效天数至少为1"))
    if errors:
        from domain.errors import FieldError

        raise InvalidInput(errors[0][1], field=errors[0][0], code="invalid",
                           errors=[FieldError(f, "invalid", m) for f, m in errors])
    if session.exec(select(col(DataSource.id)).where(col(DataSource.code) == code)).first() is not None:
        raise Conflict(f"数据源编码“{code}”已存在", field="code", code="duplicate")
    department_id = user_id = None
    if department_code:
        department_id = session.exec(select(col(Department.id)).where(col(Department.code) == department_code)).first()
        if department_id is None:
            raise InvalidInput(f"部门“{department_code}”不存在", field="department_code", code="unknown_department")
    if username:
        user_id = session.exec(select(col(User.id)).where(col(User.username) == username)).first()
        if user_id is None:
            raise InvalidInput(f"用户“{username}”不存在", field="username", code="unknown_user")
    source = DataSource(code=code, name=name, kind=kind, department_id=department_id, user_id=user_id,
                        expected_feeds=feeds, stale_after_days=stale_after_days, description=description)
    session.add(source)
    session.flush()
    record_audit(session, actor, "data_source.create", "data_source", source.id,
                 {"code": code, "name": name, "kind": kind, "expected_feeds": feeds})
    return source


def list_data_sources(session: Session, actor: Actor) -> list[DataSource]:
    _require_reader(actor)
    return list(session.exec(select(DataSource).order_by(col(DataSource.code))))


def manual_source_code(session: Session) -> str | None:
    """The source file imports default to: the first active manual-entry source."""
    return session.exec(select(col(DataSource.code)).where(col(DataSource.kind) == "manual", col(DataSource.active))
                        .order_by(col(DataSource.id))).first()


def get_data_source(session: Session, actor: Actor, code: str) -> DataSource:
    _require_reader(actor)
    source = session.exec(select(DataSource).where(col(DataSource.code) == code)).first()
    if source is None:
        raise NotFound(f"数据源“{code}”不存在", field="code")
    return source


@dataclass
class BatchRow:
    """A batch with its source, ready for a list (no lazy loads)."""

    batch: IngestionBatch
    source_code: str
    source_name: str
    created_by: str | None


def _batch_query() -> sa.Select:
    return (sa.select(IngestionBatch, col(DataSource.code), col(DataSource.name), col(User.username))
            .join(DataSource, col(DataSource.id) == IngestionBatch.source_id)
            .outerjoin(User, col(User.id) == IngestionBatch.created_by_id))


def list_batches(session: Session, actor: Actor, page: PageRequest, *, source: str | None = None,
                 kind: str | None = None, max_size: int = 200) -> Page[BatchRow]:
    """Ingestion batches, newest first."""
    _require_reader(actor)
    stmt = select(IngestionBatch)
    if source:
        stmt = stmt.where(col(IngestionBatch.source_id) == select(col(DataSource.id)).where(
            col(DataSource.code) == source).scalar_subquery())
    if kind:
        stmt = stmt.where(col(IngestionBatch.kind) == kind)

    def load(batches: list[IngestionBatch]) -> list[BatchRow]:
        if not batches:
            return []
        names = {row[0]: row[1:] for row in session.execute(
            sa.select(col(IngestionBatch.id), col(DataSource.code), col(DataSource.name), col(User.username))
            .join(DataSource, col(DataSource.id) == IngestionBatch.source_id)
            .outerjoin(User, col(User.id) == IngestionBatch.created_by_id)
            .where(col(IngestionBatch.id).in_([b.id for b in batches])))}
        return [BatchRow(b, *names[b.id]) for b in batches]

    return select_page(session, stmt, page, order_by=(col(IngestionBatch.id).desc(),), max_size=max_size, load=load)


def get_batch(session: Session, actor: Actor, batch_id: int) -> BatchRow:
    _require_reader(actor)
    row = session.execute(_batch_query().where(col(IngestionBatch.id) == batch_id)).first()
    if row is None:
        raise NotFound(f"导入批次 {batch_id} 不存在", field="id")
    return BatchRow(*row)


def batch_errors(session: Session, actor: Actor, batch_id: int, page: PageRequest, *,
                 max_size: int = 1000) -> Page[IngestionError]:
    get_batch(session, actor, batch_id)
    stmt = select(IngestionError).where(col(IngestionError.batch_id) == batch_id)
    return select_page(session, stmt, page, order_by=(col(IngestionError.record_index), col(IngestionError.id)),
                       max_size=max_size)


def iter_batch_errors(session: Session, actor: Actor, batch_id: int):
    """Every error of a batch, streamed in record order (for the downloadable report)."""
    get_batch(session, actor, batch_id)
    stmt = select(IngestionError).where(col(IngestionError.batch_id) == batch_id).order_by(
        col(IngestionError.record_index), col(IngestionError.id)).execution_options(yield_per=2000)
    yield from session.exec(stmt)


@dataclass
class FeedStatus:
    kind: str
    expected: bool
    last_push_at: datetime | None
    fresh: bool


@dataclass
class SourceStatus:
    source: DataSource
    last_push_at: datetime | None
    records: dict[str, int]  # kind -> rows held from this source
    received_30d: int
    rejected_30d: int
    fresh: bool
    expected: bool  # counted in the completion figure
    integration_user: str | None = None  # whose tokens write as this source
    feeds: list[FeedStatus] = field(default_factory=list)
    latest_batches: list[IngestionBatch] = field(default_factory=list)

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected_30d / self.received_30d if self.received_30d else None


@dataclass
class IntegrationStatus:
    sources: list[SourceStatus]
    expected: int
    connected_fresh: int
    as_of: datetime

    @property
    def completion(self) -> float | None:
        """集成完成率: sources connected and fresh / sources expected."""
        return self.connected_fresh / self.expected if self.expected else None


def integration_status(session: Session, actor: Actor, *, latest: int = 5) -> IntegrationStatus:
    """Per source: last push, records by kind, 30-day rejection rate, freshness per expected feed, latest batches.

    A source is expected when it is active and not manual; it is connected and fresh when every feed it is
    expected to send (or, with none declared, any feed) had an accepted batch within its `stale_after_days`.
    A fixed number of grouped statements, whatever the number of sources.
    """
    _require_reader(actor)
    now = utcnow()
    rows = session.execute(sa.select(DataSource, col(User.username))
                           .outerjoin(User, col(User.id) == DataSource.user_id).order_by(col(DataSource.code))).all()
    sources = [source for source, _ in rows]
    usernames = {source.id: username for source, username in rows}  # whose tokens write as the source
    # every batch figure of the page in one grouped pass over the batches
    b = table_of(IngestionBatch).c
    since = now - timedelta(days=30)
    last_by_feed: dict[tuple[int, str], datetime] = {}
    last_any: dict[int, datetime] = {}
    recent: dict[int, tuple[int, int]] = {}
    for sid, kind, accepted_at, at, received, rejected in session.execute(
            sa.select(b.source_id, b.kind, sa.func.max(b.created_at).filter(b.accepted > 0), sa.func.max(b.created_at),
                      sa.func.sum(b.received).filter(b.created_at >= since),
                      sa.func.sum(b.rejected).filter(b.created_at >= since))
            .group_by(b.source_id, b.kind)):
        if accepted_at is not None:
            last_by_feed[(sid, kind)] = accepted_at
        if sid not in last_any or at > last_any[sid]:
            last_any[sid] = at
        before = recent.get(sid, (0, 0))
        recent[sid] = (before[0] + (received or 0), before[1] + (rejected or 0))
    # records by kind: the counters the ingestion merge keeps (not a count of four tables per view)
    held = {(sid, kind): n for sid, kind, n in session.execute(
        sa.select(col(SourceRecordCount.source_id), col(SourceRecordCount.kind), col(SourceRecordCount.records))
        .where(col(SourceRecordCount.records) > 0))}
    counts: dict[int, dict[str, int]] = {}
    for (sid, kind), n in sorted(held.items(), key=lambda item: COUNTED_KINDS.index(item[0][1])):
        counts.setdefault(sid, {})[kind] = n
    # latest N batches per source with one windowed query
    ranked = (sa.select(col(IngestionBatch.id), sa.func.row_number().over(
        partition_by=col(IngestionBatch.source_id), order_by=col(IngestionBatch.id).desc()).label("rn")).subquery())
    latest_rows = session.exec(select(IngestionBatch).join(ranked, ranked.c.id == IngestionBatch.id)
                               .where(ranked.c.rn <= latest).order_by(col(IngestionBatch.id).desc())).all()
    batches: dict[int, list[IngestionBatch]] = {}
    for batch in latest_rows:
        batches.setdefault(batch.source_id, []).append(batch)

    statuses = []
    for source in sources:
        assert source.id is not None
        window = timedelta(days=source.stale_after_days)
        declared = [k for k in source.expected_feeds if k in INGEST_KINDS]
        feeds = []
        for kind in INGEST_KINDS:
            at = last_by_feed.get((source.id, kind))
            if kind in declared or at is not None:
                feeds.append(FeedStatus(kind, kind in declared, at, at is not None and now - at <= window))
        fresh = all(f.fresh for f in feeds if f.expected) if declared else any(f.fresh for f in feeds)
        received, rejected = recent.get(source.id, (0, 0))
        statuses.append(SourceStatus(
            source=source, last_push_at=last_any.get(source.id), records=counts.get(source.id, {}),
            received_30d=received, rejected_30d=rejected, fresh=fresh,
            expected=source.active and source.kind != "manual", feeds=feeds,
            integration_user=usernames.get(source.id),
            latest_batches=batches.get(source.id, [])))
    expected = [s for s in statuses if s.expected]
    return IntegrationStatus(sources=statuses, expected=len(expected),
                             connected_fresh=sum(1 for s in expected if s.fresh), as_of=now)
