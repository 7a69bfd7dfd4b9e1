"""Reading supervision data: entity search and detail, the item catalogue, actions, complaints, credit records.

Anyone signed in reads entities, items, complaints and credit records; supervision actions are department-owned
rows, so a department handler sees only their department's actions. Lists load their related rows up front.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.errors import InvalidInput, NotFound
from domain.fixed_rows import fetch_fixed
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import has_city_wide_scope, require_signed_in, scope_to_department
from domain.integration.models import DataSource
from domain.pagination import Page, PageRequest, page_record, record_type, select_page, shared_statement
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction, SupervisionItem

__all__ = [
    "ActionRow",
    "EntityPage",
    "ItemRow",
    "actions_for_entities",
    "complaints_for_entities",
    "credit_for_entities",
    "entity_page",
    "entity_timeline",
    "entity_with_windows",
    "get_entity",
    "item_departments",
    "list_actions",
    "list_items",
    "search_entities",
]


def search_entities(session: Session, actor: Actor, page: PageRequest, *, search: str | None = None,
                    region_code: str | None = None, industry_code: str | None = None, status: str | None = None,
                    max_size: int = 200, rows: bool = False) -> Page[Entity]:
    """监管对象 by name fragment or USCC (prefix), with filters; ordered by name. `rows`: the page holds the
    entities' columns as plain rows (read by the same attribute names), not ORM objects (GraphQL's list)."""
    require_signed_in(actor)
    # the same filters again (most requests): the statement built for them before
    stmt = shared_statement(("entities", search, region_code, industry_code, status),
                            lambda: _entities_statement(search, region_code, industry_code, status))
    return select_page(session, stmt, page, order_by=(col(Entity.name), col(Entity.id)), max_size=max_size,
                       plain=rows)


def _entities_statement(search: str | None, region_code: str | None, industry_code: str | None,
                        status: str | None) -> sa.Select[Any]:
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
    return stmt


def _next_prefix(prefix: str) -> str | None:
    """The smallest digit string above every code starting with `prefix` ("3205" -> "3206", "3209" -> "321")."""
    while prefix and prefix[-1] == "9":
        prefix = prefix[:-1]
    return prefix[:-1] + str(int(prefix[-1]) + 1) if prefix and prefix[-1].isdigit() else None


_ENTITY_BY_USCC = select(Entity).where(col(Entity.uscc) == sa.bindparam("uscc", type_=sa.String()))


def get_entity(session: Session, actor: Actor, uscc: str) -> Entity:
    require_signed_in(actor)
    entity = session.execute(_ENTITY_BY_USCC, {"uscc": uscc.strip().upper()}).scalars().first()
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
    """The window's actions (an alias of the LIMITed subquery; as records, not ORM objects) with the names a list
    shows."""
    return (sa.select(page_record("action", page), col(SupervisionItem.code), col(SupervisionItem.name),
                      col(Department.code), col(Department.name), col(Entity.uscc), col(Entity.name),
                      col(DataSource.code))
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
    return select_page(session, stmt, page, order_by=(col(SupervisionItem.code), col(SupervisionItem.id)),
                       max_size=max_size, join=_named_items, load=lambda rows: [ItemRow(*row) for row in rows])


def _named_items(page: Any) -> sa.Select:
    """The window's items with their department and, per item, an index-only count of its actions
    ((item_id, started_on, id)): window, names and counts in one statement."""
    actions = (sa.select(sa.func.count()).select_from(SupervisionAction)
               .where(col(SupervisionAction.item_id) == page.id).scalar_subquery())
    return (sa.select(page, col(Department.code), col(Department.name), actions)
            .join(Department, col(Department.id) == page.department_id))


_ITEM_DEPARTMENTS = (sa.select(col(Department.code), col(Department.name))
                     .where(col(Department.id).in_(sa.select(col(SupervisionItem.department_id))))
                     .order_by(col(Department.code)))


def item_departments(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """The departments that own at least one item (code, name), for the catalogue's filter (a statement built
    once)."""
    require_signed_in(actor)
    return [(code, name) for code, name in session.execute(_ITEM_DEPARTMENTS)]


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
    """An entity's actions, complaints and credit records as one dated list, newest first.

    One statement: each kind's newest `limit` rows (its (entity_id, date, id) index, LIMITed) as plain columns,
    UNION ALL; department scope applies to the actions. Equal dates keep actions, complaints, credit in that order."""
    from domain.supervision.fields import (
        ACTION_KIND_LABELS,
        ACTION_TRIGGER_LABELS,
        COMPLAINT_CHANNEL_LABELS,
        CREDIT_KIND_LABELS,
        INSPECTION_RESULT_LABELS,
    )

    parts: list[list[Any]] = [[], [], []]
    for row in session.execute(_timeline_statement(actor, limit), {"entity_id": entity_id}):
        parts[row.part].append(row)
    for rows in parts:  # each part newest first (a UNION ALL keeps no order of its own)
        rows.sort(key=lambda r: (r.on, r.id), reverse=True)
    events: list[TimelineEvent] = []
    for a in parts[0]:  # t1 kind, t2 result, t3 trigger, t4 document, t5 department, t6 item, n1 penalty
        result = INSPECTION_RESULT_LABELS.get(a.t2 or "", a.t2 or "")
        tone = {"penalty": "danger", "coercion": "warning"}.get(a.t1, "danger" if a.t2 == "fail" else "success")
        detail = "；".join(x for x in (
            a.t5, a.t6 or "",
            ACTION_TRIGGER_LABELS.get(a.t3, "") if a.t3 else "", f"结果：{result}" if result else "",
            f"罚没金额：{a.n1} 元" if a.n1 is not None else "",
            f"文书：{a.t4}" if a.t4 else "") if x)
        events.append(TimelineEvent(a.on, "action", ACTION_KIND_LABELS.get(a.t1, a.t1), detail, tone))
    for c in parts[1]:  # t1 channel, t2 category, t3 outcome, d1 responded_on
        detail = "；".join(x for x in (COMPLAINT_CHANNEL_LABELS.get(c.t1, c.t1), c.t2,
                                      f"答复：{c.d1}" if c.d1 else "未答复", c.t3 or "") if x)
        events.append(TimelineEvent(c.on, "complaint", "投诉举报", detail, "info"))
    for r in parts[2]:  # t1 kind, t2 authority, t3 reason, d1 removed_on
        detail = "；".join(x for x in (r.t2 or "", r.t3 or "", f"移出：{r.d1}" if r.d1 else "") if x)
        events.append(TimelineEvent(r.on, "credit", CREDIT_KIND_LABELS.get(r.t1, r.t1), detail,
                                    "secondary" if r.t1 == "commendation" else "warning"))
    events.sort(key=lambda e: e.on, reverse=True)
    return events[:limit]


_TIMELINES: dict[tuple[bool, int | None, int], sa.CompoundSelect] = {}


def _timeline_statement(actor: Actor, limit: int) -> sa.CompoundSelect:
    """The timeline's statement for this actor's department scope (built once per scope and kept: building it
    costs more than running it); the entity is the bind parameter `entity_id`."""
    key = (has_city_wide_scope(actor), actor.department_id, limit)
    stmt = _TIMELINES.get(key)
    if stmt is None:
        if len(_TIMELINES) > 256:  # one per department at most in practice
            _TIMELINES.clear()
        stmt = _TIMELINES[key] = _build_timeline_statement(actor, limit)
    return stmt


def _build_timeline_statement(actor: Actor, limit: int) -> sa.CompoundSelect:
    """The three kinds of dated rows of one entity in one shape: part, on, id, t1..t6 (text), d1 (date), n1."""
    a, c, r = SupervisionAction, Complaint, CreditRecord
    entity_id = sa.bindparam("entity_id", type_=sa.Integer())

    def null(type_: Any) -> Any:
        return sa.cast(sa.null(), type_)

    text, day, amount = sa.String(), sa.Date(), sa.Numeric(16, 2)
    names = ("part", "on", "id", "t1", "t2", "t3", "t4", "t5", "t6", "d1", "n1")

    def row(*columns: Any) -> list[Any]:
        return [column.label(name) for column, name in zip(columns, names, strict=True)]

    actions = scope_to_department(
        sa.select(*row(sa.literal_column("0"), col(a.started_on), col(a.id), col(a.kind), col(a.result),
                       col(a.trigger), col(a.document_number), col(Department.name), col(SupervisionItem.name),
                       null(day), col(a.penalty_amount)))
        .join(Department, col(Department.id) == a.department_id)
        .outerjoin(SupervisionItem, col(SupervisionItem.id) == a.item_id)
        .where(col(a.entity_id) == entity_id), actor, col(a.department_id))
    complaints = sa.select(*row(
        sa.literal_column("1"), col(c.received_on), col(c.id), col(c.channel), col(c.category), col(c.outcome),
        null(text), null(text), null(text), col(c.responded_on), null(amount))).where(col(c.entity_id) == entity_id)
    credit = sa.select(*row(
        sa.literal_column("2"), col(r.listed_on), col(r.id), col(r.kind), col(r.authority), col(r.reason),
        null(text), null(text), null(text), col(r.removed_on), null(amount))).where(col(r.entity_id) == entity_id)
    windows = [actions.order_by(col(a.started_on).desc(), col(a.id).desc()),
               complaints.order_by(col(c.received_on).desc(), col(c.id).desc()),
               credit.order_by(col(r.listed_on).desc(), col(r.id).desc())]
    # each window LIMITed inside its own subquery (SQLite allows no LIMIT on a bare UNION member)
    return sa.union_all(*(sa.select(*w.limit(limit).subquery().c) for w in windows))


@dataclass
class EntityPage:
    """What an entity's page shows: the entity, its timeline and the names of its region and industry."""

    entity: Entity
    events: list[TimelineEvent]
    region_name: str | None
    industry_name: str | None

    @property
    def counts(self) -> dict[str, int]:
        """The timeline's events by kind (of the events shown)."""
        out = dict.fromkeys(("action", "complaint", "credit"), 0)
        for e in self.events:
            out[e.kind] += 1
        return out


def entity_page(session: Session, actor: Actor, uscc: str, *, limit: int = 200) -> EntityPage:
    """An entity's page in one unit of work: the entity (one statement) and its timeline (one statement)."""
    from domain.reference import get_industry, get_region  # static reference data, in memory

    entity = get_entity(session, actor, uscc)
    assert entity.id is not None
    region = get_region(entity.region_code) if entity.region_code else None
    industry = get_industry(entity.industry_code) if entity.industry_code else None
    return EntityPage(entity, entity_timeline(session, actor, entity.id, limit=limit),
                      (region or {}).get("name"), (industry or {}).get("name"))


# --- one entity with its nested windows, in one statement ------------------------------------------------------

WINDOW_RELATIONS = ("actions", "complaints", "credit")
# relation -> (part number, model, its date column)
_RELATION_PARTS: dict[str, tuple[int, Any, Any]] = {"actions": (1, SupervisionAction, SupervisionAction.started_on),
                   "complaints": (2, Complaint, Complaint.received_on),
                   "credit": (3, CreditRecord, CreditRecord.listed_on)}
_ACTION_NAMES = ("item_code", "item_name", "department_code", "department_name", "entity_uscc", "entity_name",
                 "source_code")


@dataclass(frozen=True)
class _Shape:
    """Where each part's columns sit in the entity-with-windows statement: (position, attribute) per block; the
    part number is at position 0, the relation's total at 1. Rows are read by position (a Row's `_mapping` lookup
    by label cost ~0.3 µs a value: most of the nested read's Python time), each part's rows into named tuples of
    its block's attributes by one itemgetter (`makers`: rows -> records; for actions: the action's own columns,
    and at -1 an itemgetter of its names)."""

    blocks: dict[int, list[tuple[int, str]]]
    makers: dict[int, Callable[[Any], Any]] = field(default_factory=dict)  # see the docstring

    def __post_init__(self) -> None:
        actions = _RELATION_PARTS["actions"][0]
        for part, block in self.blocks.items():
            own = [(i, attr) for i, attr in block if attr not in _ACTION_NAMES] if part == actions else block
            self.makers[part] = _maker([i for i, _ in own], tuple(attr for _, attr in own))
            if part == actions:
                at = {attr: i for i, attr in block}
                self.makers[-part] = operator.itemgetter(*(at[n] for n in _ACTION_NAMES))


def _maker(positions: list[int], names: tuple[str, ...]) -> Callable[[list[Any]], list[Any]]:
    """Rows -> their block's records, in C (a record's values are its block's columns: `_make` without its length
    check; an itemgetter of one position gives the value itself, so it is wrapped)."""
    make = functools.partial(tuple.__new__, record_type(names))
    get: Callable[[Any], Any] = operator.itemgetter(*positions)
    if len(positions) == 1:
        get_one = get
        get = lambda row: (get_one(row),)  # noqa: E731
    return lambda rows: list(map(make, map(get, rows)))


def _columns_of(model: Any) -> list[Any]:
    return list(sa.inspect(model).columns)


_ENTITY_WINDOWS: dict[tuple[Any, ...], tuple[sa.Select, _Shape]] = {}


def _entity_windows_statement(actor: Actor, relations: tuple[tuple[str, bool], ...]
                              ) -> tuple[sa.Select, _Shape]:
    """Built once per department scope and set of relations (building it costs more than running it); values are
    the bind parameters `uscc`, `<relation>_offset`, `<relation>_limit`."""
    key = (has_city_wide_scope(actor), actor.department_id, relations)
    found = _ENTITY_WINDOWS.get(key)
    if found is None:
        if len(_ENTITY_WINDOWS) > 256:
            _ENTITY_WINDOWS.clear()
        found = _ENTITY_WINDOWS[key] = _build_entity_windows(actor, relations)
    return found


def _build_entity_windows(actor: Actor, relations: tuple[tuple[str, bool], ...]) -> tuple[sa.Select, _Shape]:
    """part 0: the entity; part 1..3: the LIMITed window of each relation asked for, with the relation's total
    (count(*) OVER (), computed before the LIMIT) when counted.

    The parts share their columns: a UNION ALL needs one column type per position, so each part's columns are laid
    into slots by type (`_slot_family`: integers, texts, dates, …), each part filling the first free slot of its
    column's type and leaving the rest NULL; a slot's type is its first user's (a UNION ALL takes its column types
    from its first member, the others' NULLs are cast to it). The entity and three windows are 26 columns instead of
    one block of their own per part (60): the driver and libpq read 60 % fewer cells. Each window's day and id come
    first in their types' slots, so one date slot and one integer slot order every window."""
    entity_id = (sa.select(col(Entity.id)).where(col(Entity.uscc) == sa.bindparam("uscc", type_=sa.String()))
                 .scalar_subquery())
    blocks: dict[int, list[tuple[str, Any]]] = {0: [(c.key, c) for c in _columns_of(Entity)]}
    names = {"item_code": col(SupervisionItem.code), "item_name": col(SupervisionItem.name),
             "department_code": col(Department.code), "department_name": col(Department.name),
             "entity_uscc": col(Entity.uscc), "entity_name": col(Entity.name), "source_code": col(DataSource.code)}
    for relation, _count in relations:
        part, model, day = _RELATION_PARTS[relation]
        first = [day.key, "id"]  # the window's order: its day and id in the first slots of their types
        cols = sorted(((c.key, c) for c in _columns_of(model)),
                      key=lambda kc: first.index(kc[0]) if kc[0] in first else len(first))
        if relation == "actions":
            cols += [(name, names[name]) for name in _ACTION_NAMES]
        blocks[part] = cols

    # slots: (family, n) -> position; each part's columns -> their slot
    slot_of: dict[int, list[tuple[str, Any, tuple[Any, int]]]] = {}
    slot_types: dict[tuple[Any, int], Any] = {}
    for part, cols in blocks.items():
        used: dict[Any, int] = {}
        placed = []
        for attr, column in cols:
            family = _slot_family(column.type)
            slot = (family, used.get(family, 0))
            used[family] = slot[1] + 1
            slot_types.setdefault(slot, column.type)
            placed.append((attr, column, slot))
        slot_of[part] = placed
    slots = sorted(slot_types, key=lambda slot: (str(slot[0]), slot[1]))
    label = {slot: f"s{i}" for i, slot in enumerate(slots)}
    position = {slot: 2 + i for i, slot in enumerate(slots)}  # after part and n

    def select_part(part: int, total: Any) -> list[Any]:
        out = [sa.literal_column(str(part), sa.Integer()).label("part"), total.label("n")]
        mine = {slot: column for _attr, column, slot in slot_of[part]}
        for slot in slots:
            column = mine.get(slot)
            out.append((column if column is not None else sa.cast(sa.null(), slot_types[slot])).label(label[slot]))
        return out

    members = [sa.select(*select_part(0, sa.cast(sa.null(), sa.Integer())))
               .where(col(Entity.uscc) == sa.bindparam("uscc", type_=sa.String()))]
    for relation, count in relations:
        part, model, day = _RELATION_PARTS[relation]
        total = sa.func.count().over() if count else sa.cast(sa.null(), sa.Integer())
        stmt = sa.select(*select_part(part, total)).select_from(model)
        if relation == "actions":
            stmt = scope_to_department(
                stmt.join(Department, col(Department.id) == SupervisionAction.department_id)
                .join(Entity, col(Entity.id) == SupervisionAction.entity_id)
                .join(DataSource, col(DataSource.id) == SupervisionAction.source_id)
                .outerjoin(SupervisionItem, col(SupervisionItem.id) == SupervisionAction.item_id),
                actor, col(SupervisionAction.department_id))
        stmt = (stmt.where(model.entity_id == entity_id).order_by(col(day).desc(), model.id.desc())
                .limit(sa.bindparam(f"{relation}_limit", type_=sa.Integer()))
                .offset(sa.bindparam(f"{relation}_offset", type_=sa.Integer())))
        # each window LIMITed inside its own subquery (SQLite allows no LIMIT on a bare UNION member)
        members.append(sa.select(*stmt.subquery().c))
    # a UNION ALL keeps no order of its own: the entity first, then each window newest first (its day and id, in
    # the same two slots for every window)
    union = sa.union_all(*members).subquery()
    ordered = sa.select(*union.c).order_by(union.c.part)
    if relations:
        part = _RELATION_PARTS[relations[0][0]][0]
        day_slot, id_slot = slot_of[part][0][2], slot_of[part][1][2]
        for relation, _ in relations:  # every window's day and id share them
            placed = slot_of[_RELATION_PARTS[relation][0]]
            assert (placed[0][2], placed[1][2]) == (day_slot, id_slot), relation
        ordered = ordered.order_by(union.c[label[day_slot]].desc(), union.c[label[id_slot]].desc())
    shape = _Shape({part: [(position[slot], attr) for attr, _column, slot in placed]
                    for part, placed in slot_of.items()})
    return ordered, shape


def _slot_family(type_: Any) -> Any:
    """Columns of one family may share a UNION position: the same type class (a string's length aside), so the
    same bind and result processing."""
    return type(type_)


def entity_with_windows(session: Session, actor: Actor, uscc: str,
                        windows: dict[str, tuple[int, int, bool]]) -> tuple[Any, dict[str, tuple[list[Any], int]]]:
    """One entity and the windows of its relations (`windows`: relation in WINDOW_RELATIONS -> (offset, limit,
    count?)) in one statement; each window as `actions_for_entities` & co. give it: (rows, total; -1 when not
    counted), actions as ActionRow. The entity and the window rows are plain records read by attribute (the same
    attribute names as the ORM objects). NotFound when no entity has that code."""
    require_signed_in(actor)
    relations = tuple((name, windows[name][2]) for name in WINDOW_RELATIONS if name in windows)
    statement, shape = _entity_windows_statement(actor, relations)
    params: dict[str, Any] = {"uscc": uscc.strip().upper()}
    for name, _ in relations:
        offset, limit, _count = windows[name]
        params[f"{name}_offset"], params[f"{name}_limit"] = offset, limit
    entity: Any = None
    found: dict[str, tuple[list[Any], int]] = {name: ([], -1) for name, _ in relations}
    parts = {part: name for name, (part, _, _) in _RELATION_PARTS.items()}
    makers = shape.makers
    actions_part = _RELATION_PARTS["actions"][0]
    session._autoflush()  # as the ORM's execution would, before it reads (a Core statement of plain columns)
    # built once per scope and relations (`_entity_windows_statement`): on the driver's cursor (`fetch_fixed`);
    # ordered by part, then each window newest first, so each part's rows are one run, read into records at once
    for part, group in itertools.groupby(fetch_fixed(session.connection(), statement, params)[0], _PART):
        rows = list(group)
        records = makers[part](rows)
        if part == 0:
            entity = records[0]
            continue
        if part == actions_part:
            records = [ActionRow(r, *names) for r, names in zip(records, map(makers[-part], rows), strict=True)]
        total = rows[0][1]
        found[parts[part]] = (records, int(total) if total is not None else -1)
    if entity is None:
        raise NotFound(f"统一社会信用代码为“{uscc}”的监管对象不存在", field="uscc")
    for name, count in relations:
        rows = found[name][0]
        offset = windows[name][0]
        if rows:
            continue
        if count and offset:  # past the end of the list: its total needs a count of its own
            read: Any = {"actions": actions_for_entities, "complaints": complaints_for_entities,
                         "credit": credit_for_entities}[name]
            found[name] = read(session, actor, [entity.id], offset=offset, limit=windows[name][1], count=True).get(
                entity.id, ([], 0))
        else:
            found[name] = ([], 0 if (count or not offset) else -1)
    return entity, found


_PART = operator.itemgetter(0)
