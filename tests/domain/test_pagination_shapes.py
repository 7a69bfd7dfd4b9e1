"""A keyset window's statement worked out once per shape (`domain.pagination._keyset_statement`): later windows of
the same shape take the values of their own filters, cursors and page size, and answer exactly what a window built
from scratch answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

import domain.pagination as pagination
from domain.pagination import PageRequest, decode_cursor, select_page
from domain.supervision.models import Entity, SupervisionAction
from tests.domain.supervision.factories import seed_basics

ORDER = (col(SupervisionAction.started_on).desc(), col(SupervisionAction.id).desc())
MIXED = (col(SupervisionAction.started_on).desc(), col(SupervisionAction.id))  # not one direction


@pytest.fixture
def actions(session):
    basics = seed_basics(session, entities=3)
    dept, source = basics["departments"][0], basics["sources"][2]
    rows = [SupervisionAction(source_id=source.id, external_id=f"S-{i}", kind=("inspection", "penalty")[i % 2],
                              department_id=dept.id, entity_id=basics["entities"][i % 3].id,
                              started_on=date(2025, 1, 1) + timedelta(days=i % 7)) for i in range(40)]
    session.add_all(rows)
    session.commit()
    return basics


def _fresh(monkeypatch) -> list[int]:
    """Count the windows built (a memo miss builds one); `clear` forgets every shape."""
    built: list[int] = []
    original = pagination._statement_named

    def counted(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(pagination, "_statement_named", counted)
    return built


def _forget() -> None:
    pagination.forget_statements()


def _answer(page) -> tuple:
    return ([getattr(item, "id", None) for item in page.items], page.has_next, page.has_previous, page.total,
            page.cursors if page.items else [])


def _requests(session, stmt_of, order):
    """Pages of several shapes, each asked twice with other values: first pages, cursors both ways, counts."""
    out = []
    for kind in ("inspection", "penalty"):
        stmt = stmt_of(kind)
        first = select_page(session, stmt, PageRequest(first=5, count=True), order_by=order, max_size=50)
        out.append(first)
        after = decode_cursor(first.cursors[-1])
        second = select_page(session, stmt_of(kind), PageRequest(first=5, after=after, count=False),
                             order_by=order, max_size=50)
        out.append(second)
        back = select_page(session, stmt_of(kind), PageRequest(last=3, before=decode_cursor(second.cursors[0]),
                                                               count=False), order_by=order, max_size=50)
        out.append(back)
        out.append(select_page(session, stmt_of(kind), PageRequest(first=7, count=False), order_by=order,
                               max_size=50))
    return out


@pytest.mark.parametrize("order", [ORDER, MIXED], ids=["one direction", "mixed directions"])
def test_windows_of_a_known_shape_answer_as_windows_built_anew(session, actions, monkeypatch, order):
    def stmt_of(kind):
        return select(SupervisionAction).where(col(SupervisionAction.kind) == kind)

    _forget()
    built = _fresh(monkeypatch)
    memoised = [_answer(p) for p in _requests(session, stmt_of, order)]
    memo_builds = len(built)
    original = pagination._keyset_statement

    def forgetting(*args, **kwargs):  # every window built from scratch: the memo forgotten before each
        _forget()
        return original(*args, **kwargs)

    monkeypatch.setattr(pagination, "_keyset_statement", forgetting)
    expected = [_answer(p) for p in _requests(session, stmt_of, order)]
    assert memoised == expected
    assert all(ids for ids, *_ in memoised)
    assert memoised[0][0] != memoised[4][0]  # the other kind's values, not the first shape's
    if order is ORDER:  # the penalty pages reused the inspection pages' shapes: four shapes, built once each
        assert memo_builds == 4


def test_plain_rows_and_their_filters_values_are_taken_per_request(session, actions, monkeypatch):
    _forget()
    built = _fresh(monkeypatch)
    order = (col(Entity.name), col(Entity.id))
    codes = sorted({e.region_code for e in actions["entities"]})
    seen = []
    for code in [*codes, *codes]:
        page = select_page(session, select(Entity).where(col(Entity.region_code) == code), PageRequest(first=10),
                           order_by=order, max_size=50, plain=True)
        seen.append((code, sorted(e.uscc for e in page.items), page.total))
    expected = [(code, sorted(e.uscc for e in actions["entities"] if e.region_code == code),
                 sum(1 for e in actions["entities"] if e.region_code == code)) for code in [*codes, *codes]]
    assert seen == expected
    assert len(built) == 1  # one shape


def test_a_window_whose_statement_carries_values_of_its_own_is_built_every_time(session, actions, monkeypatch):
    _forget()
    built = _fresh(monkeypatch)
    day = date(2025, 1, 3)

    def join(page):  # a value outside the window: its statement is not reused (`_template`)
        return sa.select(page, (page.started_on >= day).label("late"))

    for _ in range(3):
        page = select_page(session, select(SupervisionAction), PageRequest(first=4, count=False), order_by=ORDER,
                           max_size=50, join=join)
        assert [row[1] for row in page.items] == [row[0].started_on >= day for row in page.items]
    assert len(built) == 3


def test_a_shared_statement_is_built_once_per_key_and_its_lists_answer_per_filter(session, actions):
    from domain.identity.actor import SYSTEM
    from domain.supervision.service import search_entities

    pagination.forget_statements()
    built: list[str] = []

    def build(kind: str):
        built.append(kind)
        return select(SupervisionAction).where(col(SupervisionAction.kind) == kind)

    first = pagination.shared_statement(("t", "inspection"), lambda: build("inspection"))
    assert pagination.shared_statement(("t", "inspection"), lambda: build("inspection")) is first
    assert pagination.shared_statement(("t", "penalty"), lambda: build("penalty")) is not first
    assert built == ["inspection", "penalty"]
    # a list built on it: each filter's own rows, asked in turns
    entities = actions["entities"]
    for _ in range(2):
        for e in entities:
            page = search_entities(session, SYSTEM, PageRequest(first=10), search=e.uscc, rows=True)
            assert [r.uscc for r in page.items] == [e.uscc]
    pagination.forget_statements()
    assert pagination.shared_statement(("t", "inspection"), lambda: build("inspection")) is not first
