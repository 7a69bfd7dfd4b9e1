"""The department inbox (处置工作台): tabs by where a warning stands, filters, sorting, keyset pages, tab counts,
bulk receive and the Excel export. Handlers see their own department's warnings (responsible or assisting);
analysts, admins and leads see every department's or one chosen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql import operators
from sqlmodel import Session, col, select

from domain.disposal.models import WarningAssist, WarningDisposal
from domain.disposal.overdue import is_overdue, overdue_condition
from domain.disposal.service import STALE_MESSAGE, receive_warning
from domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import can, has_city_wide_scope, require_signed_in
from domain.pagination import Made, Page, PageRequest, select_page, shared_statement
from domain.supervision.models import Entity
from domain.types import LOCAL_TZ, utcnow
from domain.warnings.models import LEVELS, Warning

__all__ = ["SORTS", "TABS", "InboxFilter", "InboxRow", "InboxWarning", "bulk_receive", "inbox_counts", "inbox_page",
           "inbox_rows_for_export"]

# tab -> (label, statuses); 已超期 is derived from the deadlines, across the open statuses
TABS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pending": ("待签收", ("issued",)),
    "in_progress": ("处置中", ("in_progress", "return_requested")),
    "review": ("待审核", ("feedback_submitted",)),
    "done": ("已办结", ("closed", "dismissed")),
    "overdue": ("已超期", ("issued", "in_progress", "return_requested")),
}
SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "newest": ("最新下发", (col(Warning.created_at).desc(), col(Warning.id).desc())),
    "oldest": ("最早下发", (col(Warning.created_at).asc(), col(Warning.id).asc())),
    "due": ("处置期限最近", (col(Warning.disposal_due_at).asc(), col(Warning.id).asc())),
}
MAX_BULK = 200


@dataclass
class InboxFilter:
    tab: str = "pending"
    level: str | None = None
    created_from: date | None = None  # local dates, inclusive
    created_to: date | None = None
    search: str | None = None  # entity name / USCC / warning code
    department_id: int | None = None  # city-wide roles only
    sort: str = "newest"
    department_code: str | None = None  # city-wide roles only; the same filter by the department's code


# slots, not frozen: a frozen dataclass's __init__ sets every field through object.__setattr__ (1.9 µs for 21
# fields, 0.2 µs without), and a list builds one per row; read-only by convention
@dataclass(slots=True)
class InboxWarning:
    """The columns of a warning an inbox row shows (and its keyset cursor orders by): not the ORM entity, whose
    reasons and explanation snapshots the inbox never shows and whose construction costs more than the query."""

    id: int
    code: str
    level: str
    status: str
    department_id: int
    entity_id: int
    row_version: int
    dispatched_at: datetime
    receipt_due_at: datetime
    disposal_due_at: datetime
    received_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


_SHOWN = [f.name for f in fields(InboxWarning)]


@dataclass(slots=True)  # built per row: see InboxWarning
class InboxRow:
    warning: InboxWarning
    entity_name: str
    entity_uscc: str
    department_name: str
    overdue: bool
    assisting: bool  # the actor's department assists on it
    urge_count: int
    escalated: bool


def _ensure_reader(actor: Actor) -> None:
    require_signed_in(actor)
    if not (has_city_wide_scope(actor) or can(actor, "warnings.handle")):
        raise Forbidden("没有权限查看处置工作台", code="forbidden")


def _check(f: InboxFilter) -> None:
    errors: list[FieldError] = []
    if f.tab not in TABS:
        errors.append(FieldError("tab", "bad_choice", f"页签“{f.tab}”不存在，可选：{'、'.join(TABS)}"))
    if f.level and f.level not in LEVELS:
        errors.append(FieldError("level", "bad_choice", f"等级“{f.level}”不存在，可选：{'、'.join(LEVELS)}"))
    if f.sort not in SORTS:
        errors.append(FieldError("sort", "bad_choice", f"排序“{f.sort}”不存在，可选：{'、'.join(SORTS)}"))
    if f.created_from and f.created_to and f.created_from > f.created_to:
        errors.append(FieldError("created_from", "date_order", "开始日期晚于结束日期"))
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)


def _local_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ)


def _scopes(actor: Actor, f: InboxFilter) -> list[Any]:
    """Whose warnings, as disjoint conditions on risk_warning: one for city-wide roles (every department, or the
    chosen one: a code as a scalar subquery); for a handler, the department's own and — apart — those it assists on
    (协办) that are not its own, so each can walk its own index (their OR cannot)."""
    if has_city_wide_scope(actor):
        conditions: list[Any] = []
        if f.department_id is not None:
            conditions.append(col(Warning.department_id) == f.department_id)
        if f.department_code:
            conditions.append(col(Warning.department_id) == select(col(Department.id)).where(
                col(Department.code) == f.department_code.strip().upper()).scalar_subquery())
        return [sa.and_(sa.true(), *conditions)]
    if actor.department_id is None:
        return [sa.false()]
    assisting = select(col(WarningAssist.warning_id)).where(col(WarningAssist.department_id) == actor.department_id)
    return [col(Warning.department_id) == actor.department_id,
            sa.and_(col(Warning.id).in_(assisting), col(Warning.department_id) != actor.department_id)]


def _filtered(stmt: sa.Select[Any], f: InboxFilter, *, with_tab: bool, now: datetime) -> sa.Select[Any]:
    """The tab (statuses; 已超期 by the deadlines), level, dates and search, on risk_warning alone."""
    if with_tab:
        stmt = stmt.where(col(Warning.status).in_(TABS[f.tab][1]))
        if f.tab == "overdue":
            stmt = stmt.where(overdue_condition(now))
    if f.level:
        stmt = stmt.where(col(Warning.level) == f.level)
    if f.created_from:
        stmt = stmt.where(col(Warning.created_at) >= _local_start(f.created_from))
    if f.created_to:
        stmt = stmt.where(col(Warning.created_at) < _local_start(f.created_to + timedelta(days=1)))
    text = (f.search or "").strip()
    if text:
        if text.upper().startswith("YJ-"):
            stmt = stmt.where(col(Warning.code) == text.upper())
        else:
            matching = sa.select(col(Entity.id)).where(sa.or_(col(Entity.uscc) == text.upper(),
                                                              col(Entity.name).contains(text, autoescape=True)))
            stmt = stmt.where(col(Warning.entity_id).in_(matching))
    return stmt


def _base(actor: Actor, f: InboxFilter, *, with_tab: bool, now: datetime) -> sa.Select[Any]:
    """Filters on risk_warning alone (whose, status, level, dates; a department code as a scalar subquery), so
    (department_id, status, created_at, id) serves a city-wide role's window; a handler's own-or-assisting scope is
    one OR (its window walks the status index, filtering: bounded by the page size times the departments)."""
    def build() -> sa.Select[Any]:
        scopes = _scopes(actor, f)
        return _filtered(select(Warning).where(sa.or_(*scopes) if len(scopes) > 1 else scopes[0]), f,
                         with_tab=with_tab, now=now)

    if with_tab and f.tab == "overdue":  # the clock is in it
        return build()
    # the same filters again (most requests): the statement built for them before
    return shared_statement(("inbox", has_city_wide_scope(actor), actor.department_id, astuple(f), with_tab), build)


def _with_names(page: Any) -> sa.Select[Any]:
    """The window's warnings (the columns a row shows, as InboxWarning) joined to what else a row shows: entity
    name and USCC, department name, urge count and escalation. One statement with the window (select_page's
    `join`). The disposal row is read by primary key per row (correlated), so a stale estimate of
    warning_disposal (it fills up after the statistics were taken) cannot turn it into a scan."""

    def disposal(column: Any) -> Any:
        return (sa.select(column).where(col(WarningDisposal.warning_id) == page.id).correlate_except(WarningDisposal)
                .scalar_subquery())

    return (sa.select(Made("inbox_warning", InboxWarning, *(getattr(page, name) for name in _SHOWN)),
                      col(Entity.name), col(Entity.uscc), col(Department.name),
                      disposal(col(WarningDisposal.urge_count)), disposal(col(WarningDisposal.escalated_at)))
            .outerjoin(Entity, col(Entity.id) == page.entity_id)
            .outerjoin(Department, col(Department.id) == page.department_id))


def _rows(actor: Actor, rows: Sequence[Any], now: datetime) -> list[InboxRow]:
    own = actor.department_id if actor.department_id is not None and not has_city_wide_scope(actor) else None
    return [InboxRow(w, entity_name or "", uscc or "", department_name or "", is_overdue(cast(Warning, w), now),
                     own is not None and w.department_id != own, urge_count or 0, escalated_at is not None)
            for w, entity_name, uscc, department_name, urge_count, escalated_at in rows]


def inbox_page(session: Session, actor: Actor, req: PageRequest, f: InboxFilter | None = None, *,
               max_size: int = 200, now: datetime | None = None) -> Page[InboxRow]:
    """One tab's window with every row's names: one statement (two when the total is asked and the window is
    empty), whatever the page size."""
    _ensure_reader(actor)
    f = f or InboxFilter()
    _check(f)
    now = now or utcnow()
    return select_page(session, _base(actor, f, with_tab=True, now=now), req, order_by=SORTS[f.sort][1],
                       max_size=max_size, join=_with_names, load=lambda rows: _rows(actor, rows, now))


def inbox_counts(session: Session, actor: Actor, f: InboxFilter | None = None, *,
                 now: datetime | None = None) -> dict[str, int]:
    """Every tab's count under the same filters, in one statement: the department's warnings grouped by status,
    each group with how many of it are overdue (index-only on (department_id, status, …, deadlines)); a handler's
    assisted warnings grouped apart in the same statement."""
    _ensure_reader(actor)
    f = f or InboxFilter()
    _check(f)
    now = now or utcnow()
    late = sa.and_(col(Warning.status).in_(TABS["overdue"][1]), overdue_condition(now))
    # one grouped select per scope (a handler's own and assisted warnings apart, each on its own index: their OR
    # would read every warning), as one UNION ALL
    groups = [_filtered(select(Warning).where(scope), f, with_tab=False, now=now).with_only_columns(
        col(Warning.status), sa.func.count(), sa.func.count().filter(late)).group_by(col(Warning.status))
        for scope in _scopes(actor, f)]
    grouped = session.execute(groups[0] if len(groups) == 1 else sa.union_all(*groups)).all()
    by_status: dict[str, int] = {}
    for status, n, _ in grouped:
        by_status[status] = by_status.get(status, 0) + n
    counts = {tab: sum(by_status.get(s, 0) for s in statuses) for tab, (_, statuses) in TABS.items()
              if tab != "overdue"}
    counts["overdue"] = sum(n for _, _, n in grouped)
    return counts


def inbox_rows_for_export(session: Session, actor: Actor, f: InboxFilter, *, limit: int = 10000,
                          now: datetime | None = None) -> list[InboxRow]:
    """The current view, whole (capped), for the Excel export."""
    _ensure_reader(actor)
    _check(f)
    now = now or utcnow()
    window = _base(actor, f, with_tab=True, now=now).order_by(*SORTS[f.sort][1]).limit(limit)
    page = aliased(Warning, window.subquery("page"))
    keys = [getattr(page, k.element.key).desc() if k.modifier is operators.desc_op
            else getattr(page, k.element.key).asc() for k in SORTS[f.sort][1]]
    return _rows(actor, session.execute(_with_names(page).order_by(*keys)).all(), now)


@dataclass(frozen=True)
class BulkResult:
    received: list[str]
    failed: list[tuple[str, str]]  # (code or id, why)


def bulk_receive(session: Session, actor: Actor, warning_ids: Sequence[int]) -> BulkResult:
    """批量签收: each warning received on its own savepoint, so one that changed meanwhile does not stop the rest."""
    ids = list(dict.fromkeys(warning_ids))
    if not ids:
        raise InvalidInput("请先勾选要签收的预警", field="ids", code="required")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"一次最多签收 {MAX_BULK} 条（勾选了 {len(ids)} 条）", field="ids", code="too_many")
    received: list[str] = []
    failed: list[tuple[str, str]] = []
    for wid in ids:
        try:
            with session.begin_nested():
                w = receive_warning(session, actor, wid)
            received.append(w.code)
        except (Conflict, Forbidden, NotFound, InvalidInput) as exc:
            w2 = session.get(Warning, wid)
            message = exc.message if exc.code != "stale" else STALE_MESSAGE
            failed.append((w2.code if w2 is not None and not isinstance(exc, NotFound) else str(wid), message))
    return BulkResult(received, failed)
