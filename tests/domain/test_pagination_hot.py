"""select_page's per-request shortcuts keep its results: the order worked out once per shape, the plain rows fetched
in one call, a `Made` bundle's values taken by position."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from domain.identity.actor import SYSTEM
from domain.identity.models import Department
from domain.pagination import Made, PageRequest, decode_cursor, page_record, record_type, select_page
from domain.supervision.models import Entity, SupervisionAction, SupervisionItem
from domain.supervision.service import list_actions, search_entities
from tests.domain.supervision.factories import seed_basics, uscc
from tests.support import count_statements


def _actions(session, basics, days: list[int], *, item: bool = True) -> list[int]:
    dept, source, entity = basics["departments"][0], basics["sources"][2], basics["entities"][0]
    rows = [SupervisionAction(source_id=source.id, external_id=f"H-{i}", kind="inspection", department_id=dept.id,
                              entity_id=entity.id, item_id=basics["items"][0].id if item and i % 2 else None,
                              started_on=date(2025, 1, 1) + timedelta(days=d)) for i, d in enumerate(days)]
    session.add_all(rows)
    session.commit()
    return [int(r.id or 0) for r in rows]


def _order_by(sql: str) -> str:
    """The ORDER BY of a statement's outermost select (the window's own, for a statement without `join`)."""
    return re.sub(r"\s+", " ", sql.rsplit("ORDER BY", 1)[1].split("LIMIT")[0]).strip()


def test_an_order_rebuilt_on_every_request_sends_the_same_order_both_ways(session, db):
    basics = seed_basics(session, entities=1)
    days = [3, 1, 3, 2, 0]
    _actions(session, basics, days)
    expected = list(session.exec(select(SupervisionAction.id).order_by(
        col(SupervisionAction.started_on).desc(), col(SupervisionAction.id).desc())))
    for _ in range(2):  # built anew each time, as the lists do: the second one is the cached shape
        order = (col(SupervisionAction.started_on).desc(), col(SupervisionAction.id).desc())
        with count_statements(db) as counter:
            first = select_page(session, select(SupervisionAction), PageRequest(first=3, count=False),
                                order_by=order, max_size=10)
            back = select_page(session, select(SupervisionAction),
                               PageRequest(last=2, before=decode_cursor(first.cursors[-1]), count=False),
                               order_by=order, max_size=10)
        assert [a.id for a in first.items] == expected[:3]
        assert [a.id for a in back.items] == expected[:2]  # read backwards, handed out in the list's order
        forward_sql, backward_sql = counter.statements
        assert _order_by(forward_sql) == "supervision_action.started_on DESC, supervision_action.id DESC"
        assert _order_by(backward_sql) == "supervision_action.started_on ASC, supervision_action.id ASC"

    # the other direction of the same columns is another order: its own ORDER BY, its cursors refused here
    ascending = (col(SupervisionAction.started_on), col(SupervisionAction.id).desc())
    with count_statements(db) as counter:
        mixed = select_page(session, select(SupervisionAction), PageRequest(last=2, count=False),
                            order_by=ascending, max_size=10)
    assert _order_by(counter.statements[0]) == "supervision_action.started_on DESC, supervision_action.id ASC"
    by_hand = list(session.exec(select(SupervisionAction.id).order_by(
        col(SupervisionAction.started_on), col(SupervisionAction.id).desc())))
    assert [a.id for a in mixed.items] == by_hand[-2:]
    assert mixed.keysets[0][0] != first.keysets[0][0]


def test_plain_rows_hold_the_values_and_types_the_entities_hold(session):
    seed_basics(session, entities=0)
    session.add_all([Entity(uscc=uscc(i), name=f"苏州热点{i}号有限公司", entity_type="enterprise", industry_code="C",
                            region_code="320505", registered_capital=Decimal("12.50") if i % 2 else None,
                            founded_on=date(2020, 1, 1 + i), status="active") for i in range(7)])
    session.commit()
    rows = search_entities(session, SYSTEM, PageRequest(first=5, count=True), rows=True)
    entities = search_entities(session, SYSTEM, PageRequest(first=5, count=True))
    assert rows.total == entities.total == 7 and rows.cursors == entities.cursors and rows.has_next
    names = [c.key for c in Entity.__table__.c]
    assert len(rows.items) == 5
    for row, entity in zip(rows.items, entities.items, strict=True):
        assert row._fields == (*names, "total_count")  # the total rides on the rows when counted
        for name in names:
            value, expected = getattr(row, name), getattr(entity, name)
            assert value == expected and type(value) is type(expected), name
        assert isinstance(row.updated_at, datetime) and row.updated_at.utcoffset() == timedelta(0)
    after = search_entities(session, SYSTEM, PageRequest(first=5, after=decode_cursor(rows.cursors[-1])), rows=True)
    assert [r.name for r in after.items] == [f"苏州热点{i}号有限公司" for i in (5, 6)] and not after.has_next


def test_a_made_record_takes_its_columns_by_position_and_is_none_for_a_missing_outer_row(session):
    basics = seed_basics(session, entities=1)
    ids = _actions(session, basics, [0, 1, 2, 3])
    item = Made("hot_item", record_type(("id", "code", "name")), col(SupervisionItem.id), col(SupervisionItem.code),
                col(SupervisionItem.name))

    def rows(first_columns: bool) -> list[tuple]:
        columns = [item, col(SupervisionAction.id)] if first_columns else [col(SupervisionAction.id), item]
        stmt = (sa.select(*columns).outerjoin(SupervisionItem, col(SupervisionItem.id) == SupervisionAction.item_id)
                .order_by(col(SupervisionAction.id)))
        return [tuple(r) if first_columns else (r[1], r[0]) for r in session.execute(stmt).all()]

    code, name = basics["items"][0].code, basics["items"][0].name
    expected = [(None if i % 2 == 0 else (basics["items"][0].id, code, name), action_id)
                for i, action_id in enumerate(ids)]
    # the same bundle in two statements (its columns at other positions), each run twice: every run reads its own
    for first_columns in (True, False, True, False):
        assert rows(first_columns) == expected

    # a page's record through select_page's `join`, with a related record of the page's outer join
    def join(page):
        related = Made("hot_page_item", record_type(("id", "code")), col(SupervisionItem.id), col(SupervisionItem.code))
        return (sa.select(page_record("hot_page", page), related, col(Department.code))
                .join(Department, col(Department.id) == page.department_id)
                .outerjoin(SupervisionItem, col(SupervisionItem.id) == page.item_id))

    got = select_page(session, select(SupervisionAction), PageRequest(first=10), join=join, max_size=10,
                      order_by=(col(SupervisionAction.id),))
    assert [(a.id, a.started_on, i.code if i else None, d) for a, i, d in got.items] == [
        (action_id, date(2025, 1, 1) + timedelta(days=n), code if n % 2 else None, "SZ-SCJG")
        for n, action_id in enumerate(ids)]
    assert got.total == 4
    alias = aliased(SupervisionAction)
    assert [r[0].id for r in session.execute(sa.select(page_record("hot_alias", alias))
                                             .order_by(alias.id)).all()] == ids


def test_the_actions_list_reads_the_same_page_twice(session, db):
    basics = seed_basics(session, entities=1)
    _actions(session, basics, [5, 4, 3, 2, 1])
    pages = []
    for _ in range(2):
        with count_statements(db) as counter:
            pages.append(list_actions(session, SYSTEM, PageRequest(first=3)))
        assert len(counter.statements) == 1
    one, two = pages
    assert one.items == two.items and one.total == two.total == 5 and one.cursors == two.cursors
    assert [(r.action.external_id, r.item_code) for r in one.items] == [
        ("H-0", None), ("H-1", "320500-SCJG-JC-001"), ("H-2", None)]


def test_a_join_of_records_and_columns_reads_like_the_orm_and_the_others_go_through_it(session):
    from domain.pagination import _layout

    basics = seed_basics(session, entities=1)
    ids = _actions(session, basics, [0, 1, 2])
    department = basics["departments"][0]

    def records(page):  # run on the connection
        return (sa.select(page_record("hot_records", page), col(Department.code), col(Department.name))
                .join(Department, col(Department.id) == page.department_id))

    def twice(page):  # the department's code selected twice: twice in the SELECT too
        return (sa.select(page_record("hot_twice", page),
                          Made("hot_dept", record_type(("code", "name")), col(Department.code), col(Department.name)),
                          col(Department.code))
                .join(Department, col(Department.id) == page.department_id))

    def entities(page):  # an ORM object per row
        return sa.select(page, col(Department.code)).join(Department, col(Department.id) == page.department_id)

    order = (col(SupervisionAction.id),)
    for count in (False, True):
        got = select_page(session, select(SupervisionAction), PageRequest(first=2, count=count), join=records,
                          order_by=order, max_size=10)
        assert [(a.id, code, name) for a, code, name in got.items] == [
            (i, department.code, department.name) for i in ids[:2]]
        assert got.total == (3 if count else None) and got.has_next
        got = select_page(session, select(SupervisionAction), PageRequest(first=2, count=count), join=twice,
                          order_by=order, max_size=10)
        assert [(a.id, d.code, d.name, code) for a, d, code in got.items] == [
            (i, department.code, department.name, department.code) for i in ids[:2]]
        got = select_page(session, select(SupervisionAction), PageRequest(first=2, count=count), join=entities,
                          order_by=order, max_size=10)
        assert [(type(a), a.id, code) for a, code in got.items] == [(SupervisionAction, i, department.code)
                                                                  for i in ids[:2]]
    page = aliased(SupervisionAction, select(SupervisionAction).subquery("page"))
    assert _layout(records(page), False) is not None
    assert _layout(twice(page), False) is not None and _layout(entities(page), False) is None

    # as the ORM's execution does, a change not yet flushed is flushed before the page is read
    session.add(SupervisionAction(source_id=basics["sources"][2].id, external_id="H-new", kind="inspection",
                                  department_id=department.id, entity_id=basics["entities"][0].id,
                                  started_on=date(2025, 2, 1)))
    got = select_page(session, select(SupervisionAction), PageRequest(first=10), join=records, order_by=order,
                      max_size=10)
    assert [a.external_id for a, _code, _name in got.items] == ["H-0", "H-1", "H-2", "H-new"] and got.total == 4


def test_the_selected_entity_is_read_once_per_first_column_clause():
    from domain.pagination import _entity

    other = aliased(SupervisionAction)
    for _ in range(2):
        assert _entity(select(SupervisionAction).where(col(SupervisionAction.id) > 1)) is SupervisionAction
        assert _entity(select(Entity)) is Entity
        assert _entity(select(other)) is select(other).column_descriptions[0]["entity"]
        assert _entity(sa.select(col(Entity.id), col(Entity.name))) is Entity
