"""Connected systems and what they sent (集成对接)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = ["BATCH_OUTCOME_LABELS", "COUNTED_KINDS", "DATA_SOURCE_KINDS", "INGEST_KINDS", "DataSource",
           "IngestionBatch", "IngestionError", "SourceRecordCount", "batch_outcome"]

DATA_SOURCE_KINDS = ("phase_one", "department_system", "data_centre", "manual")
INGEST_KINDS = ("entities", "items", "actions", "complaints", "credit", "clues")
# The record kinds held per source (their tables carry `source_id`), in the order the sources page lists them.
COUNTED_KINDS = ("entities", "actions", "complaints", "credit")


class DataSource(SQLModel, table=True):
    """数据源: a system that pushes data, with the feeds it is expected to send."""

    __tablename__ = "data_source"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=32)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    expected_feeds: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # 数据时效: the source counts as stale after this many days without an accepted push
    stale_after_days: int = Field(default=7, sa_column_kwargs={"server_default": "7"})
    description: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IngestionBatch(SQLModel, table=True):
    """导入批次: one push or file, with its counts."""

    __tablename__ = "ingestion_batch"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="data_source.id", index=True)
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=16)  # api / file / demo
    mode: str = Field(default="partial", max_length=16)
    status: str = Field(default="running", max_length=16)  # running / done / failed
    file_name: str | None = Field(default=None, max_length=255)
    received: int = Field(default=0)
    accepted: int = Field(default=0)
    rejected: int = Field(default=0)
    # every error found (a record may have several); only the first MAX_STORED_ERRORS are kept as rows
    errors_total: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    job_id: int | None = Field(default=None, foreign_key="job.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# What a batch came to, as a person reads it at a glance (page, CLI, GraphQL `outcome`).
BATCH_OUTCOME_LABELS = {"running": "导入中", "failed": "失败", "rejected": "整批拒收", "all_rejected": "全部拒收",
                        "partial": "部分接收", "done": "全部接收"}


def batch_outcome(status: str, accepted: int, rejected: int) -> str:
    """running / failed / rejected (all-or-nothing refused) / all_rejected (nothing accepted) / partial / done."""
    if status in ("running", "failed", "rejected"):
        return status
    if rejected and not accepted:
        return "all_rejected"
    if rejected:
        return "partial"
    return "done"


class IngestionError(SQLModel, table=True):
    """One rejected record: its index in the batch (0-based), its row in the file (header = row 1; None for
    API pushes), the field, a code and a message."""

    __tablename__ = "ingestion_error"
    # a batch's errors in record order (migration 0007)
    __table_args__ = (sa.Index("ix_ingestion_error_batch_record", "batch_id", "record_index", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="ingestion_batch.id")
    record_index: int
    row_number: int | None = Field(default=None)
    field: str | None = Field(default=None, max_length=64)
    code: str = Field(max_length=64)
    message: str = Field(max_length=500)


class SourceRecordCount(SQLModel, table=True):
    """数据源记录数: how many records of a kind the platform holds from a source (its rows whose `source_id` is the
    source's), for the sources page. Kept by the ingestion merge in the merge's own transaction — the one path
    that inserts these records or moves an entity to another source; nothing deletes them — so it never drifts.
    Backfilled by migration 0016."""

    __tablename__ = "source_record_count"

    source_id: int = Field(foreign_key="data_source.id", primary_key=True)
    kind: str = Field(max_length=16, primary_key=True)
    records: int = Field(default=0)
