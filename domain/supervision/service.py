"""Reading supervision data: entity search and detail, the item catalogue, actions, complaints, credit records.

Anyone signed in reads entities, items, complaints and credit records; supervision actions are department-owned
rows, so a department handler sees only their department's actions. Lists load their related rows up front.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.errors import InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import require_signed_in, scope_to_department
from domain.integration.models import DataSource
from domain.pagination import Page, PageRequest, select_page
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction, SupervisionItem

__all__ = [
    "ActionRow",
    "ItemRow",
    "actions_for_entities",
    "complaints_for_entities",
    "credit_for_entities",
    "entity_timeline",
    "get_entity",
    "list_actions",
    "list_items",
    "search_entities",
]


def search_entities(session: Session, actor: Actor, page: PageRequest, *, search: str | None = None,
                    region_code: str | None = None, industry_code: str | None = None, status: str | None = None,
                    max_size: int = 200) -> Page[Entity]:
    """监管对象 by name fragment or USCC (prefix), with filters; ordered by name."""
    require_signed_in(actor)
    stmt = select(Entity)
    text = (search or "").strip()
    if text:
        upper = text.upper()
        if len(upper) >= 2 and upper.isalnum() and upper.isascii():
            stmt = stmt.where(sa.or_(col(Entity.uscc).startswith(upper), col(Entity.name).contains(text)))
        else:
            stmt = stmt.where(col(Entity.name).contains(text))
    if region_code:
        # a city or province code matches its districts too: a range of codes; a district's code is one value,
        # both served by the (region_code, name, id) index
        prefix = region_code.rstrip("0") if region_code.endswith("00") else region_code
        bound = _next_prefix(prefix)
        if len(prefix) >= 6:
            stmt = stmt.where(col(Entity.region_code) == prefix)
        elif prefix.isdigit() and bound:
            stmt = stmt.where(col(Entity.region_code) >= prefix, col(Entity.region_code) < bound)
        elif prefix:
            stmt = stmt.where(col(Entity.region_code).startswith(prefix))
    if industry_code:
        if industry_code.isalpha():  # a section letter: its divisions too
            from domain.reference.models import Industry

            divisions = select(col(Industry.code)).where(col(Industry.parent_code) == industry_code.upper())
            stmt = stmt.where(sa.or_(col(Entity.industry_code) == industry_code.upper(),
                                     col(Entity.industry_code).in_(divisions)))
        else:
            stmt = stmt.where(col(Entity.industry_code) == industry_code)
    if status:
        stmt = stmt.where(col(Entity.status) == status)
    return select_page(session, stmt, page, order_by=(col(Entity.name), col(Entity.id)), max_size=max_size)


def _next_prefix(prefix: str) -> str | None:
    """The smallest digit string above every code starting with `prefix` ("3205" -> "3206", "3209" -> "321")."""
    while prefix and prefix[-1] == "9":
        prefix = prefix[:-1]
    return prefix[:-1] + str(int(prefix[-1]) + 1) if prefix and prefix[-1].isdigit() else None


def get_entity(session: Session, actor: Actor, uscc: str) -> Entity:
    require_signed_in(actor)
    entity = session.exec(select(Entity).where(col(Entity.uscc) == uscc.strip().upper())).first()
    if entity is None:
        raise NotFound(f"统一社会信用代码为“{uscc}”的监管对象不存在", field="uscc")
    return entity


@dataclass
class ActionRow:
    """A supervision action with its item, department, entity and source names (loaded in the same query)."""

    action: SupervisionAction
    item_code: str | None
    item_name: str | None
    department_code: str
    department_name: str
    entity_uscc: str
    entity_name: str
    source_code: str


def _action_query(actor: Actor) -> sa.Select:
    stmt = (sa.select(SupervisionAction, col(SupervisionItem.code), col(SupervisionItem.name), col(Department.code),
                      col(Department.name), col(Entity.uscc), col(Entity.name), col(DataSource.code))
            .join(Department, col(Department.id) == SupervisionAction.department_id)
            .join(Entity, col(Entity.id) == SupervisionAction.entity_id)
            .join(DataSource, col(DataSource.id) == SupervisionAction.source_id)
            .outerjoin(SupervisionItem, col(SupervisionItem.id) == SupervisionAction.item_id))
    return scope_to_department(stmt, actor, col(SupervisionAction.department_id))


ACTION_ORDER = (col(SupervisionAction.started_on).desc(), col(SupervisionAction.id).desc())


def list_actions(session: Session, actor: Actor, page: PageRequest, *, department_code: str | None = None,
                 item_code: str | None = None, kind: str | None = None, date_from: date | None = None,
                 date_to: date | None = None, uscc: str | None = None, max_size: int = 200) -> Page[ActionRow]:
    """监管行为, newest first, filtered by department, item, kind, start-date range or entity.

    The window is chosen on supervision_action alone (codes become ids through scalar subqueries, so an index on
    (department_id | item_id | entity_id, started_on, id) serves filter and order), then the page is named."""
    require_signed_in(actor)
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("起始日期晚于结束日期", field="from", code="date_order")
    stmt = scope_to_department(select(SupervisionAction), actor, col(SupervisionAction.department_id))
    if department_code:
        stmt = stmt.where(col(SupervisionAction.department_id) == select(col(Department.id)).where(
            col(Department.code) == department_code).scalar_subquery())
    if item_code:
        stmt = stmt.where(col(SupervisionAction.item_id) == select(col(SupervisionItem.id)).where(
            col(SupervisionItem.code) == item_code).scalar_subquery())
    if kind:
        stmt = stmt.where(col(SupervisionAction.kind) == kind)
    if date_from:
        stmt = stmt.where(col(SupervisionAction.started_on) >= date_from)
    if date_to:
        stmt = stmt.where(col(SupervisionAction.started_on) <= date_to)
    if uscc:
        stmt = stmt.where(col(SupervisionAction.entity_id) == select(col(Entity.id)).where(
            col(Entity.uscc) == uscc.strip().upper()).scalar_subquery())
    return select_page(session, stmt, page, order_by=ACTION_ORDER, max_size=max_size, join=_named_actions,
                       load=lambda rows: [ActionRow(*row) for row in rows])


def _named_actions(page: Any) -> sa.Select:
    """The window's actions (an alias of the LIMITed subquery) with the names a list shows."""
    return (sa.select(page, col(SupervisionItem.code), col(SupervisionItem.name), col(Department.code),
                      col(Department.name), col(Entity.uscc), col(Entity.name), col(DataSource.code))
            .join(Department, col(Department.id) == page.department_id)
            .join(Entity, col(Entity.id) == page.entity_id)
            .join(DataSource, col(DataSource.id) == page.source_id)
            .outerjoin(SupervisionItem, col(SupervisionItem.id) == page.item_id))


@dataclass
class ItemRow:
    item: SupervisionItem
    department_code: str
    department_name: str
    action_count: int


def list_items(session: Session, actor: Actor, page: PageRequest, *, department_code: str | None = None,
               kind: str | None = None, search: str | None = None, max_size: int = 500) -> Page[ItemRow]:
    """监管事项 catalogue with the owning department and how many actions were recorded under each."""
    require_signed_in(actor)
    stmt = select(SupervisionItem)
    if department_code:
        stmt = stmt.where(col(SupervisionItem.department_id) == select(col(Department.id)).where(
            col(Department.code) == department_code).scalar_subquery())
    if kind:
        stmt = stmt.where(col(SupervisionItem.kind) == kind)
    if search and search.strip():
        text = search.strip()
        stmt = stmt.where(sa.or_(col(SupervisionItem.name).contains(text), col(SupervisionItem.code).startswith(text)))

    def load(items: list[SupervisionItem]) -> list[ItemRow]:
        if not items:
            return []
        departments = {row[0]: row for row in session.execute(
            sa.select(col(Department.id), col(Department.code), col(Department.name))
            .where(col(Department.id).in_({i.department_id for i in items})))}
        # the page's items only: an index-only count per item on (item_id, ...)
        item_id = col(SupervisionAction.item_id)
        counts: dict[int | None, int] = dict(session.execute(  # type: ignore[arg-type]
            sa.select(item_id, sa.func.count()).where(item_id.in_([i.id for i in items])).group_by(item_id)).all())
        return [ItemRow(i, departments[i.department_id][1], departments[i.department_id][2], counts.get(i.id, 0))
                for i in items]

    return select_page(session, stmt, page, order_by=(col(SupervisionItem.code), col(SupervisionItem.id)),
                       max_size=max_size, load=load)


def actions_for_entities(session: Session, actor: Actor, entity_ids: Sequence[int], *, offset: int = 0,
                         limit: int = 20, count: bool = True) -> dict[int, tuple[list[ActionRow], int]]:
    """Each entity's actions (newest first) as a window, for DataLoaders; department scope applies.

    One statement: the window and each entity's total come from window functions over those entities' rows (the
    (entity_id, started_on, ...) index); a count query runs only for an entity whose window came back empty
    after an offset. Without `count` an unknown total is -1."""
    require_signed_in(actor)
    if not entity_ids:
        return {}
    ranked = scope_to_department(sa.select(
        col(SupervisionAction.id),
        sa.func.row_number().over(partition_by=col(SupervisionAction.entity_id),
                                  order_by=(col(SupervisionAction.started_on).desc(), col(SupervisionAction.id).desc()))
        .label("rn"),
        sa.func.count().over(partition_by=col(SupervisionAction.entity_id)).label("n"))
        .where(col(SupervisionAction.entity_id).in_(entity_ids)), actor,
        col(SupervisionAction.department_id)).subquery()
    stmt = (_action_query(actor).add_columns(ranked.c.n).join(ranked, ranked.c.id == SupervisionAction.id)
            .where(ranked.c.rn > offset, ranked.c.rn <= offset + limit).order_by(ranked.c.rn))
    out: dict[int, tuple[list[ActionRow], int]] = {}
    for row in session.execute(stmt):
        rows, _ = out.setdefault(row[0].entity_id, ([], row[-1]))
        rows.append(ActionRow(*row[:-1]))
    missing = [eid for eid in entity_ids if eid not in out]
    totals: dict[int, int] = {}
    if missing and offset and count:
        totals = dict(session.execute(  # type: ignore[arg-type]
            scope_to_department(sa.select(col(SupervisionAction.entity_id), sa.func.count())
                                .where(col(SupervisionAction.entity_id).in_(missing)), actor,
                                col(SupervisionAction.department_id)).group_by(col(SupervisionAction.entity_id))).all())
    for eid in missing:
        out[eid] = ([], totals.get(eid, 0) if (count or not offset) else -1)
    return out


def _simple_windows(session: Session, model: Any, date_column: Any, entity_ids: Sequence[int], offset: int,
                    limit: int, count: bool = True) -> dict[int, tuple[list[Any], int]]:
    """Like actions_for_entities: window and totals in one statement."""
    if not entity_ids:
        return {}
    ranked = (sa.select(model.id, sa.func.row_number().over(
        partition_by=model.entity_id, order_by=(date_column.desc(), model.id.desc())).label("rn"),
        sa.func.count().over(partition_by=model.entity_id).label("n"))
        .where(model.entity_id.in_(entity_ids)).subquery())
    out: dict[int, tuple[list[Any], int]] = {}
    for row, n in session.execute(select(model, ranked.c.n).join(ranked, ranked.c.id == model.id)
                                  .where(ranked.c.rn > offset, ranked.c.rn <= offset + limit)
                                  .order_by(ranked.c.rn)):
        out.setdefault(row.entity_id, ([], n))[0].append(row)
    missing = [eid for eid in entity_ids if eid not in out]
    totals: dict[int, int] = {}
    if missing and offset and count:
        totals = dict(session.execute(sa.select(model.entity_id, sa.func.count())  # type: ignore[arg-type]
                                      .where(model.entity_id.in_(missing)).group_by(model.entity_id)).all())
    for eid in missing:
        out[eid] = ([], totals.get(eid, 0) if (count or not offset) else -1)
    return out


def complaints_for_entities(session: Session, actor: Actor, entity_ids: Sequence[int], *, offset: int = 0,
                            limit: int = 20, count: bool = True) -> dict[int, tuple[list[Complaint], int]]:
    require_signed_in(actor)
    return _simple_windows(session, Complaint, col(Complaint.received_on), entity_ids, offset, limit, count)


def credit_for_entities(session: Session, actor: Actor, entity_ids: Sequence[int], *, offset: int = 0,
                        limit: int = 20, count: bool = True) -> dict[int, tuple[list[CreditRecord], int]]:
    require_signed_in(actor)
    return _simple_windows(session, CreditRecord, col(CreditRecord.listed_on), entity_ids, offset, limit, count)


@dataclass
class TimelineEvent:
    on: date
    kind: str  # action / complaint / credit
    title: str
    detail: str
    tone: str  # success / danger / warning / secondary / info


def entity_timeline(session: Session, actor: Actor, entity_id: int, *, limit: int = 200) -> list[TimelineEvent]:
    """An entity's actions, complaints and credit records as one dated list, newest first."""
    from domain.supervision.fields import (
        ACTION_KIND_LABELS,
        ACTION_TRIGGER_LABELS,
        COMPLAINT_CHANNEL_LABELS,
        CREDIT_KIND_LABELS,
        INSPECTION_RESULT_LABELS,
    )

    actions = actions_for_entities(session, actor, [entity_id], limit=limit)[entity_id][0]
    complaints = complaints_for_entities(session, actor, [entity_id], limit=limit)[entity_id][0]
    credit = credit_for_entities(session, actor, [entity_id], limit=limit)[entity_id][0]
    events: list[TimelineEvent] = []
    for row in actions:
        a = row.action
        result = INSPECTION_RESULT_LABELS.get(a.result or "", a.result or "")
        tone = {"penalty": "danger", "coercion": "warning"}.get(a.kind, "danger" if a.result == "fail" else "success")
        detail = "；".join(x for x in (
            row.department_name, row.item_name or "",
            ACTION_TRIGGER_LABELS.get(a.trigger, "") if a.trigger else "", f"结果：{result}" if result else "",
            f"罚没金额：{a.penalty_amount} 元" if a.penalty_amount is not None else "",
            f"文书：{a.document_number}" if a.document_number else "") if x)
        events.append(TimelineEvent(a.started_on, "action", ACTION_KIND_LABELS.get(a.kind, a.kind), detail, tone))
    for c in complaints:
        detail = "；".join(x for x in (COMPLAINT_CHANNEL_LABELS.get(c.channel, c.channel), c.category,
                                      f"答复：{c.responded_on}" if c.responded_on else "未答复", c.outcome or "") if x)
        events.append(TimelineEvent(c.received_on, "complaint", "投诉举报", detail, "info"))
    for r in credit:
        detail = "；".join(x for x in (r.authority or "", r.reason or "",
                                      f"移出：{r.removed_on}" if r.removed_on else "") if x)
        events.append(TimelineEvent(r.listed_on, "credit", CREDIT_KIND_LABELS.get(r.kind, r.kind), detail,
                                    "secondary" if r.kind == "commendation" else "warning"))
    events.sort(key=lambda e: e.on, reverse=True)
    return events[:limit]
