"""Risk clues (风险线索), warnings (风险预警) and their events (处置记录), routing, deadlines, working-day calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.risk.models import RiskScore
from domain.types import UTCDateTime, utcnow

try:  # the level vocabulary lives with the risk engine; never a copy here
    from domain.risk.levels import LEVELS  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - until the model engineer moves it
    from domain.risk.models import LEVELS

__all__ = [
    "CLUE_SOURCES",
    "CLUE_STATUSES",
    "DAY_KINDS",
    "ENTITY_PROBLEMS",
    "LEVELS",
    "OPEN_STATUSES",
    "ROUTING_KINDS",
    "WARNING_SOURCES",
    "WARNING_STATUSES",
    "DeadlineSetting",
    "RiskClue",
    "RoutingRule",
    "Warning",
    "WarningCodeSequence",
    "WarningEvent",
    "WorkdayOverride",
]

# 线索来源: department push, 12345 / 12315 complaint hotlines, the data centre, entered by hand.
CLUE_SOURCES = {
    "department": "部门推送",
    "hotline_12345": "12345 投诉举报",
    "hotline_12315": "12315 投诉举报",
    "data_centre": "数据中心",
    "manual": "人工录入",
}
# pending 待研判; warned 已发布预警; merged 已并入预警; dismissed 已排除; duplicate 重复线索 (linked to the first)
CLUE_STATUSES = {
    "pending": "待研判",
    "warned": "已发布预警",
    "merged": "已并入预警",
    "dismissed": "已排除",
    "duplicate": "重复线索",
}
# Why a clue has no entity: a well-formed code nobody knows, or a code that fails GB 32100 validation.
ENTITY_PROBLEMS = {"unknown": "未登记的监管对象", "invalid": "统一社会信用代码无效"}

WARNING_SOURCES = {"model": "模型评分", "rule": "预警规则", "clue": "风险线索", "manual": "人工发布"}
# The full workflow of DESIGN.md "Warning life"; the disposal transitions live in domain/disposal/.
WARNING_STATUSES = {
    "issued": "已下发",
    "in_progress": "处置中",
    "return_requested": "申请退回",
    "feedback_submitted": "已反馈",
    "closed": "已办结",
    "dismissed": "已撤销",
}
OPEN_STATUSES = ("issued", "in_progress", "return_requested", "feedback_submitted")

# Routing precedence, first match wins: supervision item, industry code prefix, district, default.
ROUTING_KINDS = {"item": "监管事项", "industry": "行业代码前缀", "district": "行政区划", "default": "默认部门"}
DAY_KINDS = {"working": "工作日", "calendar": "自然日"}

# The risk list ranks one run's scores: served by (run_id, score) instead of sorting a million rows per page; level
# and entity_id ride along so the level filter and the automatic issue's scan of a run read the index alone.
_score_table = RiskScore.__table__  # type: ignore[attr-defined]
sa.Index("ix_risk_score_run_score", _score_table.c.run_id, _score_table.c.score, _score_table.c.level,
         _score_table.c.entity_id)

_OPEN_SQL = "status IN ('issued', 'in_progress', 'return_requested', 'feedback_submitted')"


class Warning(SQLModel, table=True):  # the domain word; shadows the builtin in importers only
    """风险预警: a graded warning about an entity, routed to one responsible department."""

    __tablename__ = "risk_warning"
    __table_args__ = (
        # Never a second open warning about one entity, even when two issues race.
        sa.Index("uq_risk_warning_open_entity", "entity_id", unique=True,
                 sqlite_where=sa.text(_OPEN_SQL), postgresql_where=sa.text(_OPEN_SQL)),
        # Hot lists: a department's warnings by status, newest first (the deadline columns at the end let the
        # inbox count its tabs and their overdue from the index alone: migration 0017); city-wide by status / date.
        sa.Index("ix_risk_warning_department_status_created", "department_id", "status", "created_at", "id",
                 "received_at", "receipt_due_at", "disposal_due_at"),
        sa.Index("ix_risk_warning_department_created", "department_id", "created_at", "id"),
        sa.Index("ix_risk_warning_status_created", "status", "created_at", "id"),
        sa.Index("ix_risk_warning_created", "created_at", "id"),
        sa.Index("ix_risk_warning_level_created", "level", "created_at", "id"),
        sa.Index("ix_risk_warning_entity_created", "entity_id", "created_at"),
        sa.Index("ix_risk_warning_status_disposal_due", "status", "disposal_due_at"),
        # Statistics: a period's warnings of one district or industry section, without joining the entities.
        sa.Index("ix_risk_warning_region_dispatched", "region_code", "dispatched_at"),
        sa.Index("ix_risk_warning_section_dispatched", "industry_section", "dispatched_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)  # YJ-<year>-<6-digit sequence>
    entity_id: int = Field(foreign_key="entity.id")
    level: str = Field(max_length=16)  # LEVELS
    source: str = Field(max_length=16)  # WARNING_SOURCES
    reasons: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # [{"text": 中文, "contribution": x}, ...]
    explanation: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # snapshot at issue
    score: float | None = Field(default=None)
    model_version_id: int | None = Field(default=None, foreign_key="model_version.id")
    scoring_run_id: int | None = Field(default=None, foreign_key="scoring_run.id")
    department_id: int = Field(foreign_key="department.id")
    routing_rule_id: int | None = Field(default=None, foreign_key="routing_rule.id")  # null: chosen by hand
    status: str = Field(default="issued", max_length=24)  # WARNING_STATUSES
    dispatched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    receipt_due_at: datetime = Field(sa_type=UTCDateTime)
    disposal_due_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The entity's district and industry when the warning was issued (statistics group and filter by these).
    region_code: str | None = Field(default=None, max_length=6)
    industry_code: str | None = Field(default=None, max_length=4)
    industry_section: str | None = Field(default=None, max_length=4)  # section letter; else the code itself
    # Dispatch to receipt and dispatch to closure, in seconds, kept by the steps that set the timestamps.
    receipt_seconds: float | None = Field(default=None)
    closure_seconds: float | None = Field(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")  # null: the scoring run
    created_by_name: str = Field(default="system", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Optimistic concurrency: every change is UPDATE ... WHERE row_version = :seen, then row_version + 1.
    row_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class WarningEvent(SQLModel, table=True):
    """处置记录: one step of a warning's life (issue, raise, receive, return, extension, urge, feedback …)."""

    __tablename__ = "warning_event"
    __table_args__ = (sa.Index("ix_warning_event_warning_at", "warning_id", "at", "id"),
                      # statistics: the rare kinds (退单, 督办 …) of a period's warnings, read from those events
                      sa.Index("ix_warning_event_kind_warning", "kind", "warning_id"))

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(foreign_key="risk_warning.id")
    kind: str = Field(max_length=32)  # issue / raise_level / merge_clue / receive / … (free vocabulary)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str | None = Field(default=None, max_length=24)  # null: an event that changes no state
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_name: str = Field(default="system", max_length=64)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    comment: str = Field(default="", max_length=2000)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class WarningCodeSequence(SQLModel, table=True):
    """The last warning number used per year: `UPDATE ... SET last_value = last_value + n RETURNING` hands out
    codes under a row lock (PostgreSQL) or the write lock (SQLite), so concurrent issues never share one."""

    __tablename__ = "warning_code_sequence"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_value: int = Field(default=0)


class RiskClue(SQLModel, table=True):
    """风险线索: a lead about an entity, kept even when the entity is unknown or its code invalid."""

    __tablename__ = "risk_clue"
    __table_args__ = (
        sa.UniqueConstraint("source_id", "external_id"),  # idempotent pushes; NULL external ids never collide
        sa.Index("ix_risk_clue_status_received", "status", "received_on", "id"),
        sa.Index("ix_risk_clue_received", "received_on", "id"),
        sa.Index("ix_risk_clue_entity_category_received", "entity_id", "category", "received_on"),
        sa.Index("ix_risk_clue_department_received", "reporting_department_id", "received_on", "id"),
        sa.Index("ix_risk_clue_uscc", "uscc"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_id: int | None = Field(default=None, foreign_key="entity.id")
    uscc: str = Field(default="", max_length=32)  # as reported, even when invalid
    entity_name: str = Field(default="", max_length=200)  # as reported
    entity_problem: str | None = Field(default=None, max_length=16)  # ENTITY_PROBLEMS; null when matched
    source: str = Field(max_length=32)  # CLUE_SOURCES: the kind of channel
    source_id: int | None = Field(default=None, foreign_key="data_source.id")  # the system that pushed it
    external_id: str | None = Field(default=None, max_length=64)
    category: str = Field(max_length=64)
    description: str = Field(default="", max_length=4000)
    item_id: int | None = Field(default=None, foreign_key="supervision_item.id")  # supervision item involved
    reporting_department_id: int | None = Field(default=None, foreign_key="department.id")
    occurred_on: date | None = Field(default=None)
    received_on: date
    attachments: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # [{"name": ..., "url": ...}]
    status: str = Field(default="pending", max_length=16)  # CLUE_STATUSES
    duplicate_of_id: int | None = Field(default=None, foreign_key="risk_clue.id", index=True)
    warning_id: int | None = Field(default=None, foreign_key="risk_warning.id", index=True)  # issued or merged
    judged_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    judged_by_name: str | None = Field(default=None, max_length=64)
    judged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    judgement_reason: str = Field(default="", max_length=1000)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_by_name: str = Field(default="system", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoutingRule(SQLModel, table=True):
    """派发规则: which department a warning goes to. Kinds are tried in ROUTING_KINDS order; within a kind the
    most specific match (longest industry prefix), then the lower priority number, wins."""

    __tablename__ = "routing_rule"
    __table_args__ = (sa.Index("ix_routing_rule_kind_priority", "kind", "priority"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # ROUTING_KINDS
    item_id: int | None = Field(default=None, foreign_key="supervision_item.id")
    industry_prefix: str | None = Field(default=None, max_length=4)
    region_code: str | None = Field(default=None, max_length=6)
    department_id: int = Field(foreign_key="department.id")
    priority: int = Field(default=100)
    active: bool = Field(default=True)
    note: str = Field(default="", max_length=200)
    updated_by_name: str = Field(default="system", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeadlineSetting(SQLModel, table=True):
    """处置时限 per level: receipt and disposal deadlines in working or calendar days (absent row: defaults)."""

    __tablename__ = "warning_deadline_setting"

    level: str = Field(primary_key=True, max_length=16)
    receipt_days: int = Field(default=1)
    receipt_day_kind: str = Field(default="working", max_length=16)  # DAY_KINDS
    disposal_days: int
    disposal_day_kind: str = Field(default="calendar", max_length=16)
    updated_by_name: str = Field(default="system", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkdayOverride(SQLModel, table=True):
    """工作日调整: a day declared a workday or a holiday, over the `chinesecalendar` library (years it lacks)."""

    __tablename__ = "workday_override"

    day: date = Field(primary_key=True)
    is_workday: bool
    note: str = Field(default="", max_length=200)
    updated_by_name: str = Field(default="system", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ---- the columns a warning copies or derives (statistics read them instead of joining or computing per row) ------

def industry_section_sql(industry_code: Any) -> Any:
    """SQL: the GB/T 4754 section of an industry code — a division's parent, a leading letter ("C", "C13"), else
    the code itself (an unknown code stays its own group, as the statistics always showed it)."""
    from domain.reference.models import Industry

    ind = Industry.__table__  # type: ignore[attr-defined]
    parent = (sa.select(ind.c.parent_code).where(ind.c.code == industry_code, ind.c.level == "division")
              .scalar_subquery().correlate_except(ind))
    first = sa.func.substr(industry_code, 1, 1)
    return sa.func.coalesce(parent, sa.case((first.between("A", "Z"), first), else_=industry_code))


def entity_columns(connection: sa.Connection, entity_id: int) -> dict[str, Any]:
    """region_code, industry_code and industry_section of a warning about this entity, as it stands now."""
    from domain.supervision.models import Entity

    e = Entity.__table__  # type: ignore[attr-defined]
    row = connection.execute(sa.select(e.c.region_code, e.c.industry_code, industry_section_sql(e.c.industry_code))
                             .where(e.c.id == entity_id)).first()
    if row is None:
        return {}
    return {"region_code": row[0], "industry_code": row[1], "industry_section": row[2] if row[1] else None}


def duration_values(w: Warning, changes: dict[str, Any]) -> dict[str, Any]:
    """receipt_seconds / closure_seconds for an update of `w` by `changes` (only when a timestamp they come from
    changes): dispatch to receipt, dispatch to closure; None when the later time is cleared."""
    if not {"dispatched_at", "received_at", "closed_at"} & changes.keys():
        return {}
    dispatched = changes.get("dispatched_at", w.dispatched_at)
    out: dict[str, Any] = {}
    for stamp, column in (("received_at", "receipt_seconds"), ("closed_at", "closure_seconds")):
        later = changes.get(stamp, getattr(w, stamp))
        out[column] = (later - dispatched).total_seconds() if later is not None and dispatched is not None else None
    return out


@sa.event.listens_for(Warning, "before_insert")
def _fill_copied_columns(mapper: Any, connection: sa.Connection, target: Warning) -> None:
    """A warning saved one by one (issue by hand, tests, fixtures) gets the same copied columns the set-based
    automatic issue writes: the entity's district and industry, and the durations of timestamps already set."""
    if target.region_code is None and target.industry_code is None and target.entity_id is not None:
        for name, value in entity_columns(connection, target.entity_id).items():
            setattr(target, name, value)
    if target.dispatched_at is not None:
        if target.received_at is not None and target.receipt_seconds is None:
            target.receipt_seconds = (target.received_at - target.dispatched_at).total_seconds()
        if target.closed_at is not None and target.closure_seconds is None:
            target.closure_seconds = (target.closed_at - target.dispatched_at).total_seconds()


@sa.event.listens_for(Warning, "before_update")
def _refresh_durations(mapper: Any, connection: sa.Connection, target: Warning) -> None:
    """The durations follow the timestamps when those are changed on the object (statement updates pass
    `duration_values` themselves)."""
    state = sa.inspect(target)
    changed = {name: getattr(target, name) for name in ("dispatched_at", "received_at", "closed_at")
               if state.attrs[name].history.has_changes()}
    for name, value in duration_values(target, changed).items():
        setattr(target, name, value)
