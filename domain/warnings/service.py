"""Warnings (预警发布): issue by hand or from a clue, raising an open warning's level, codes that are never reused,
and the reads (list, detail, events) scoped by department. The automatic issue after a scoring run is
domain.warnings.auto_issue."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import can, has_city_wide_scope, require, require_signed_in, scope_to_department
from domain.pagination import Made, Page, PageRequest, record_type, select_page
from domain.reference.models import Industry
from domain.risk.models import ModelVersion, RiskScore, ScoringRun
from domain.supervision.models import Entity
from domain.types import LOCAL_TZ, utcnow
from domain.warnings.deadlines import WorkdayCalendar, deadline_settings, deadlines_for
from domain.warnings.models import (
    LEVELS,
    OPEN_STATUSES,
    WARNING_SOURCES,
    WARNING_STATUSES,
    RiskClue,
    Warning,
    WarningCodeSequence,
    WarningEvent,
    entity_columns,
)
from domain.warnings.overdue import is_overdue as overdue_rule
from domain.warnings.overdue import overdue_condition
from domain.warnings.routing import Route, route_entity

__all__ = [
    "ListShape",
    "ListedEvent",
    "ListedWarning",
    "ScoreSnapshot",
    "WarningDetail",
    "WarningFilter",
    "WarningRow",
    "add_warning_event",
    "ensure_can_read_warnings",
    "get_warning",
    "is_overdue",
    "issue_warning",
    "latest_score",
    "level_rank",
    "list_warnings",
    "open_warning_of",
    "raise_warning_level",
    "reserve_codes",
    "warning_code",
    "warning_events",
]

SCORE_ROLES = ("champion", "on_demand")
MAX_REASONS = 20


def _saved(value: int | None) -> int:
    """An id that exists by now (a flushed row, a found route)."""
    if value is None:
        raise RuntimeError("expected a saved row's id")
    return value


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed (a CursorResult's rowcount; Result's type does not show it)."""
    return int(result.rowcount)


def level_rank(level: str | None) -> int:
    """0 for red … 3 for blue; anything else ranks below blue."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def warning_code(year: int, number: int) -> str:
    return f"YJ-{year}-{number:06d}"


def reserve_codes(session: Session, year: int, count: int = 1) -> int:
    """Take `count` consecutive numbers for `year` and return the first. The row update holds a lock until the
    transaction ends (PostgreSQL row lock, SQLite write lock), so concurrent issues never get the same number;
    numbers of a rolled-back transaction are simply not used again."""
    table = WarningCodeSequence.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    session.execute(insert.values(year=year, last_value=0).on_conflict_do_nothing(index_elements=["year"]))
    last = session.execute(sa.update(table).where(table.c.year == year)
                           .values(last_value=table.c.last_value + count)
                           .returning(table.c.last_value)).scalar_one()
    return int(last) - count + 1


# ---- reads -------------------------------------------------------------------------------------------------

def ensure_can_read_warnings(actor: Actor) -> None:
    require_signed_in(actor)
    if not (has_city_wide_scope(actor) or can(actor, "warnings.handle")):
        raise Forbidden("没有权限查看预警", code="forbidden")


def is_overdue(w: Warning | ListedWarning, now: datetime | None = None) -> bool:
    return overdue_rule(cast(Warning, w), now or utcnow())  # the rule reads the deadline columns both carry


@dataclass(frozen=True)
class ScoreSnapshot:
    """An entity's latest champion (or on-demand) score, as a warning records it."""

    score_id: int
    run_id: int
    score: float
    level: str | None
    model_level: str | None
    rules_matched: list[str]
    contributions: list[Any]
    model_version_id: int
    model_version: int
    as_of: date

    def explanation(self) -> dict[str, Any]:
        return {"risk_score_id": self.score_id, "run_id": self.run_id, "as_of": self.as_of.isoformat(),
                "model_version": self.model_version, "score": self.score, "level": self.level,
                "model_level": self.model_level, "rules_matched": self.rules_matched,
                "contributions": self.contributions}


def latest_score(session: Session, entity_id: int) -> ScoreSnapshot | None:
    row = session.execute(
        sa.select(RiskScore, col(ScoringRun.as_of), col(ScoringRun.version_id), col(ModelVersion.version))
        .join(ScoringRun, col(ScoringRun.id) == RiskScore.run_id)
        .join(ModelVersion, col(ModelVersion.id) == ScoringRun.version_id)
        .where(col(RiskScore.entity_id) == entity_id, col(ScoringRun.role).in_(SCORE_ROLES))
        .order_by(col(ScoringRun.as_of).desc(), col(ScoringRun.id).desc()).limit(1)).first()
    if row is None:
        return None
    s, as_of, version_id, version = row
    return ScoreSnapshot(s.id, s.run_id, s.score, s.level, s.model_level, list(s.rules_matched or []),
                         list(s.contributions or []), version_id, version, as_of)


def open_warning_of(session: Session, entity_id: int) -> Warning | None:
    return session.exec(select(Warning).where(Warning.entity_id == entity_id,
                                              Warning.status.in_(OPEN_STATUSES))).first()  # type: ignore[attr-defined]


@dataclass
class WarningFilter:
    level: str | None = None
    status: str | None = None
    department_id: int | None = None
    source: str | None = None
    overdue: bool | None = None
    created_from: date | None = None  # local dates, inclusive
    created_to: date | None = None
    entity_id: int | None = None
    search: str | None = None  # entity name or USCC, or the warning code
    region_code: str | None = None  # the entity's county/district when issued (statistics drill-down)
    industry: str | None = None  # its GB/T 4754 section letter or division when issued (statistics drill-down)


# slots, not frozen: a frozen dataclass's __init__ sets every field through object.__setattr__ (1.9 µs for 21
# fields, 0.2 µs without), and a list builds one per row; read-only by convention
@dataclass(slots=True)
class ListedWarning:
    """A warning as a list shows it: the columns its rows, their links and GraphQL's RiskWarning read, not the ORM
    entity (whose construction costs more than the query); the reasons and explanation snapshots only when asked
    (`ListShape.snapshots`), else empty."""

    id: int
    code: str
    entity_id: int
    level: str
    source: str
    score: float | None
    model_version_id: int | None
    department_id: int
    routing_rule_id: int | None
    status: str
    dispatched_at: datetime
    receipt_due_at: datetime
    disposal_due_at: datetime
    received_at: datetime | None
    closed_at: datetime | None
    created_by_name: str
    created_at: datetime
    updated_at: datetime
    row_version: int
    reasons: list[Any] = field(default_factory=list)
    explanation: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ListedEvent:
    """A warning's last event as a list shows it; its comment and payload only when asked (`ListShape.event_text`)."""

    id: int
    warning_id: int
    kind: str
    from_status: str | None
    to_status: str | None
    actor_id: int | None
    actor_name: str
    department_id: int | None
    at: datetime
    comment: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListShape:
    """What a list's rows carry beyond what every list shows (the warning's columns, entity USCC and name,
    department code and name, the last event): GraphQL asks for these from its selection, pages never do."""

    snapshots: bool = False  # the warning's reasons and explanation
    entity: bool = False  # the entity's columns for nesting (`WarningRow.entity`)
    event_text: bool = False  # the last event's comment and payload


@dataclass(slots=True)  # built per row: see ListedWarning
class WarningRow:
    warning: Warning | ListedWarning
    entity_uscc: str
    entity_name: str
    department_name: str
    last_event: WarningEvent | ListedEvent | None
    overdue: bool
    entity: Any = None  # the entity's columns (a row with attribute access) for nesting
    department_code: str = ""


def _local_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ)


def _check_filter(f: WarningFilter) -> None:
    errors = []
    if f.level and f.level not in LEVELS:
        errors.append(FieldError("level", "unknown_level", f"等级“{f.level}”不存在，可选：{'、'.join(LEVELS)}"))
    if f.status and f.status not in WARNING_STATUSES:
        errors.append(FieldError("status", "unknown_status", f"状态“{f.status}”不存在，可选："
                                 + "、".join(f"{k}（{v}）" for k, v in WARNING_STATUSES.items())))
    if f.source and f.source not in WARNING_SOURCES:
        errors.append(FieldError("source", "unknown_source", f"来源“{f.source}”不存在，可选："
                                 + "、".join(f"{k}（{v}）" for k, v in WARNING_SOURCES.items())))
    if f.created_from and f.created_to and f.created_from > f.created_to:
        errors.append(FieldError("created_from", "date_order", "开始日期晚于结束日期"))
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)


def warnings_stmt(actor: Actor, f: WarningFilter, now: datetime | None = None) -> sa.Select[Any]:
    """The filtered base-table statement (department scope included); the hot indexes lead with these columns."""
    ensure_can_read_warnings(actor)
    _check_filter(f)
    stmt = scope_to_department(select(Warning), actor, Warning.department_id)
    if f.department_id is not None:
        stmt = stmt.where(Warning.department_id == f.department_id)
    if f.status:
        stmt = stmt.where(Warning.status == f.status)
    if f.level:
        stmt = stmt.where(Warning.level == f.level)
    if f.source:
        stmt = stmt.where(Warning.source == f.source)
    if f.entity_id is not None:
        stmt = stmt.where(Warning.entity_id == f.entity_id)
    # district and industry as the warning recorded them when issued: the same rows the statistics count
    if f.region_code:
        stmt = stmt.where(Warning.region_code == f.region_code)
    if f.industry:
        code = f.industry.strip().upper()
        if code.isalpha():  # a section: its divisions rolled up, or the section itself where that was stored
            stmt = stmt.where(Warning.industry_section == code)
        else:
            section = sa.select(col(Industry.parent_code)).where(col(Industry.code) == code).scalar_subquery()
            stmt = stmt.where(Warning.industry_section == section, Warning.industry_code == code)
    if f.overdue is not None:
        cond = overdue_condition(now or utcnow())
        stmt = stmt.where(cond if f.overdue else sa.not_(cond))
    if f.created_from:
        stmt = stmt.where(Warning.created_at >= _local_start(f.created_from))
    if f.created_to:
        stmt = stmt.where(Warning.created_at < _local_start(f.created_to + timedelta(days=1)))
    text = (f.search or "").strip()
    if text:
        if text.upper().startswith("YJ-"):
            stmt = stmt.where(Warning.code == text.upper())
        else:
            matching = sa.select(col(Entity.id)).where(sa.or_(col(Entity.uscc) == text.upper(),
                                                              col(Entity.name).contains(text, autoescape=True)))
            stmt = stmt.where(Warning.entity_id.in_(matching))  # type: ignore[attr-defined]
    return stmt


_WARNING_SHOWN = [f.name for f in fields(ListedWarning)]
_EVENT_SHOWN = [f.name for f in fields(ListedEvent)]
_ENTITY_SHOWN = ("id", "uscc", "name", "entity_type", "industry_code", "region_code", "registered_capital",
                 "founded_on", "status", "industry_class_code", "status_changed_on", "deregistered_on", "updated_at")


@functools.cache
def _joined(shape: ListShape) -> Callable[[Any], sa.Select[Any]]:
    """select_page's `join` for `shape` (one function per shape, so the statement built around a window is reused):
    the page's warnings with entity and department names and the last event (the highest id) joined to them."""

    def join(page: Any) -> sa.Select[Any]:
        shown = _WARNING_SHOWN if shape.snapshots else _WARNING_SHOWN[:-2]
        event = aliased(WarningEvent, name="last_event")
        event_shown = _EVENT_SHOWN if shape.event_text else _EVENT_SHOWN[:-2]
        last = (sa.select(sa.func.max(WarningEvent.id)).where(col(WarningEvent.warning_id) == page.id)
                .correlate(page).scalar_subquery())
        columns: list[Any] = [
            Made("listed_warning_full" if shape.snapshots else "listed_warning", ListedWarning,
                 *(getattr(page, name) for name in shown)),
            col(Entity.uscc), col(Entity.name), col(Department.code), col(Department.name),
            Made("listed_event_full" if shape.event_text else "listed_event", ListedEvent,
                 *(getattr(event, name) for name in event_shown))]
        if shape.entity:
            # a record (named tuple) per row: a Bundle's row reads each attribute through its result metadata
            columns.append(Made("listed_entity", record_type(_ENTITY_SHOWN),
                                *(getattr(Entity, name) for name in _ENTITY_SHOWN)))
        return (sa.select(*columns)
                .join(Entity, col(Entity.id) == page.entity_id)
                .join(Department, col(Department.id) == page.department_id)
                .outerjoin(event, col(event.id) == last))

    return join


def _row_of(row: Any, now: datetime) -> WarningRow:
    w, uscc, name, department_code, department_name, event, *entity = row
    return WarningRow(w, uscc, name, department_name, event, is_overdue(w, now), entity[0] if entity else None,
                      department_code)


def list_warnings(session: Session, actor: Actor, req: PageRequest, f: WarningFilter | None = None, *,
                  max_size: int = 200, shape: ListShape = ListShape()) -> Page[WarningRow]:
    """风险预警列表 (the /warnings page and GraphQL's riskWarnings), newest first: the window is chosen on
    risk_warning alone (`warnings_stmt`: filters and department scope), and what the rows show is joined to it in
    the same statement (the total too, when asked): one statement whatever the page size."""
    stmt = warnings_stmt(actor, f or WarningFilter())
    now = utcnow()
    return select_page(session, stmt, req, order_by=(col(Warning.created_at).desc(), col(Warning.id).desc()),
                       max_size=max_size, join=_joined(shape), load=lambda rows: [_row_of(r, now) for r in rows])


@dataclass(frozen=True)
class WarningDetail:
    row: WarningRow
    events: list[WarningEvent]
    clues: list[RiskClue]
    department_code: str
    routing_rule_id: int | None
    model_version: int | None
    actors: dict[int, str] = field(default_factory=dict)

    @property
    def warning(self) -> Warning:
        return cast(Warning, self.row.warning)  # get_warning puts the ORM warning in its row


_DETAIL = ListShape(snapshots=True, entity=True, event_text=True)


def _visible_warning(session: Session, actor: Actor, warning_id: int) -> Warning:
    ensure_can_read_warnings(actor)
    stmt = scope_to_department(select(Warning).where(Warning.id == warning_id), actor, Warning.department_id)
    w = session.exec(stmt).first()
    if w is None:
        raise NotFound(f"预警 {warning_id} 不存在或不在本部门范围内", field="id")
    return w


def warning_events(session: Session, actor: Actor, warning_id: int) -> list[WarningEvent]:
    _visible_warning(session, actor, warning_id)
    return list(session.exec(select(WarningEvent).where(WarningEvent.warning_id == warning_id)
                             .order_by(WarningEvent.at, WarningEvent.id)))  # type: ignore[arg-type]


def get_warning(session: Session, actor: Actor, warning_id: int) -> WarningDetail:
    w = _visible_warning(session, actor, warning_id)
    one = aliased(Warning, sa.select(Warning).where(col(Warning.id) == w.id).subquery("page"))
    listed = _row_of(session.execute(_joined(_DETAIL)(one)).one(), utcnow())
    row = replace(listed, warning=w, overdue=is_overdue(w))  # the ORM warning itself: the detail page shows it all
    events = list(session.exec(select(WarningEvent).where(WarningEvent.warning_id == w.id)
                               .order_by(WarningEvent.at, WarningEvent.id)))  # type: ignore[arg-type]
    clues = list(session.exec(select(RiskClue).where(RiskClue.warning_id == w.id)
                              .order_by(RiskClue.received_on, RiskClue.id)))  # type: ignore[arg-type]
    dept = session.get(Department, w.department_id)
    version = session.get(ModelVersion, w.model_version_id) if w.model_version_id else None
    return WarningDetail(row, events, clues, dept.code if dept else "", w.routing_rule_id,
                         version.version if version else None)


# ---- changes -----------------------------------------------------------------------------------------------

def add_warning_event(session: Session, actor: Actor, w: Warning, kind: str, *, from_status: str | None = None,
                      to_status: str | None = None, comment: str = "", payload: dict[str, Any] | None = None,
                      department_id: int | None = None, at: datetime | None = None) -> WarningEvent:
    """One step of the trace (留痕); the disposal workflow records its steps the same way."""
    event = WarningEvent(warning_id=_saved(w.id), kind=kind, from_status=from_status, to_status=to_status,
                         actor_id=actor.user_id, actor_name=actor.username,
                         department_id=department_id if department_id is not None else actor.department_id,
                         at=at or utcnow(), comment=comment[:2000], payload=payload or {})
    session.add(event)
    return event


def _clean_reasons(reasons: Sequence[str] | None) -> list[dict[str, Any]]:
    out = []
    for i, text in enumerate(reasons or []):
        t = (text or "").strip()
        if not t:
            continue
        if len(t) > 500:
            raise InvalidInput(f"预警理由第 {i + 1} 条长度为 {len(t)} 个字符，超过上限 500", field="reasons",
                               code="too_long")
        out.append({"text": t})
    if len(out) > MAX_REASONS:
        raise InvalidInput(f"预警理由最多 {MAX_REASONS} 条，本次 {len(out)} 条", field="reasons", code="too_many")
    return out


def issue_warning(session: Session, actor: Actor, *, entity_id: int, level: str | None = None,
                  reasons: Sequence[str] | None = None, department_id: int | None = None,
                  item_id: int | None = None, source: str = "manual", comment: str = "",
                  permission: str = "warnings.work") -> Warning:
    """发布预警: one warning about an entity, at the given level (default: the model's latest level), to the given
    department (default: the routing table). Refused while the entity has an open warning — raise or merge."""
    require(actor, permission)
    if source not in WARNING_SOURCES:
        raise InvalidInput(f"来源“{source}”无效", field="source", code="unknown_source")
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(f"监管对象 {entity_id} 不存在", field="entity_id")
    snapshot = latest_score(session, entity_id)
    level = level or (snapshot.level if snapshot else None)
    if level not in LEVELS:
        if level:
            message = f"预警等级“{level}”无效，可选：红色 red、橙色 orange、黄色 yellow、蓝色 blue"
        elif snapshot is not None:
            message = f"该对象最新评分 {snapshot.score:.3f} 低于蓝色阈值，没有模型等级，请选择预警等级"
        else:
            message = "该对象尚无模型评分，请选择预警等级"
        raise InvalidInput(message, field="level", code="unknown_level")
    texts = _clean_reasons(reasons)
    if source in ("manual", "clue") and not texts and snapshot is None:
        raise InvalidInput("请填写预警理由（该对象尚无模型评分可作解释）", field="reasons", code="required")
    existing = open_warning_of(session, entity_id)
    if existing is not None:
        raise Conflict(f"“{entity.name}”已有未办结的预警 {existing.code}（{WARNING_STATUSES[existing.status]}），"
                       "请并入该预警或提升其等级，不能重复发布", field="entity_id", code="open_warning_exists")
    route: Route
    if department_id is not None:
        dept = session.get(Department, department_id)
        if dept is None or not dept.active:
            raise InvalidInput(f"责任部门 {department_id} 不存在或已停用", field="department_id",
                               code="unknown_department")
        route = Route(department_id, None, None)
    else:
        route = route_entity(session, entity_id, item_id)
        if not route.found:
            raise Conflict("派发规则表中没有匹配的规则（也没有默认部门），请选择责任部门或先配置派发规则",
                           field="department_id", code="no_route")
    now = utcnow()
    receipt_due, disposal_due = deadlines_for(level, now, deadline_settings(session), WorkdayCalendar.load(session))
    year = now.astimezone(LOCAL_TZ).year
    number = reserve_codes(session, year)
    w = Warning(code=warning_code(year, number), entity_id=entity_id, level=level, source=source,
                reasons=texts, explanation=snapshot.explanation() if snapshot else {},
                score=snapshot.score if snapshot else None,
                model_version_id=snapshot.model_version_id if snapshot else None,
                scoring_run_id=snapshot.run_id if snapshot else None,
                department_id=_saved(route.department_id), routing_rule_id=route.rule_id, status="issued",
                dispatched_at=now, receipt_due_at=receipt_due, disposal_due_at=disposal_due,
                created_by_id=actor.user_id, created_by_name=actor.username, created_at=now, updated_at=now,
                **entity_columns(session.connection(), entity_id))
    session.add(w)
    session.flush()
    add_warning_event(session, actor, w, "issue", to_status="issued", comment=comment,
                      department_id=route.department_id,
                      payload={"level": level, "source": source, "routing_rule_id": route.rule_id,
                               "routing_kind": route.kind})
    record_audit(session, actor, "warning.issue", "risk_warning", w.id,
                 {"code": w.code, "entity_id": entity_id, "level": level, "source": source,
                  "department_id": route.department_id, "routing_rule_id": route.rule_id,
                  "receipt_due_at": receipt_due.isoformat(), "disposal_due_at": disposal_due.isoformat()})
    session.flush()
    return w


def _bump(session: Session, w: Warning, values: dict[str, Any]) -> None:
    """Optimistic update: exactly one of two simultaneous changes wins, the other is told."""
    table = Warning.__table__  # type: ignore[attr-defined]
    done = _rowcount(session.execute(sa.update(table).where(table.c.id == w.id, table.c.row_version == w.row_version)
                                     .values(**values, row_version=w.row_version + 1, updated_at=utcnow())))
    if done != 1:
        raise Conflict(f"预警 {w.code} 刚被他人修改，请刷新后重试", field="id", code="stale")
    session.refresh(w)


def raise_warning_level(session: Session, actor: Actor, warning_id: int, level: str, *, reason: str = "",
                        permission: str = "warnings.work") -> Warning:
    """提升等级: an open warning goes up (never down here), recorded as an event; deadlines stay as dispatched."""
    require(actor, permission)
    w = _visible_warning(session, actor, warning_id)
    if level not in LEVELS:
        raise InvalidInput(f"预警等级“{level}”无效", field="level", code="unknown_level")
    if w.status not in OPEN_STATUSES:
        raise Conflict(f"预警 {w.code} 已{WARNING_STATUSES[w.status]}，不能提升等级", field="id", code="not_open")
    if level_rank(level) >= level_rank(w.level):
        raise InvalidInput(f"新等级须高于当前等级（{w.level}）", field="level", code="not_higher")
    before = w.level
    _bump(session, w, {"level": level})
    add_warning_event(session, actor, w, "raise_level", comment=reason, payload={"from": before, "to": level})
    record_audit(session, actor, "warning.raise_level", "risk_warning", w.id, {"level": [before, level]})
    session.flush()
    return w
