"""The one pagination mechanism (domain.pagination.select_page): keyset windows, offsets, counting on demand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from domain.errors import InvalidInput
from domain.pagination import Keyset, PageRequest, decode_cursor, encode_cursor, select_page
from domain.supervision.models import Entity, SupervisionAction
from tests.domain.supervision.factories import seed_basics, uscc
from tests.support import count_statements

ORDER = (SupervisionAction.started_on.desc(), SupervisionAction.id.desc())


@pytest.fixture
def basics(session):
    return seed_basics(session, entities=2)


def add_actions(session, basics, days: list[int], prefix: str = "A") -> None:
    dept, source, entity = basics["departments"][0], basics["sources"][2], basics["entities"][0]
    session.add_all([SupervisionAction(source_id=source.id, external_id=f"{prefix}-{i}", kind="inspection",
                                       department_id=dept.id, entity_id=entity.id,
                                       started_on=date(2025, 1, 1) + timedelta(days=d))
                     for i, d in enumerate(days)])
    session.commit()


def ids_in_order(session) -> list[int]:
    return list(session.exec(select(SupervisionAction.id).order_by(*ORDER)))


def page(session, req: PageRequest, stmt=None):
    return select_page(session, stmt if stmt is not None else select(SupervisionAction), req, order_by=ORDER,
                       max_size=100)


def walk(session, size: int, *, between=None) -> list[int]:
    """Every id, following end cursors; `between(n)` runs after the n-th page."""
    seen: list[int] = []
    after = None
    for n in range(100):
        p = page(session, PageRequest(first=size, after=after, count=False))
        seen += [a.id for a in p.items]
        if not p.has_next:
            return seen
        after = decode_cursor(p.cursors[-1])
        if between:
            between(n)
    raise AssertionError("no end")


def test_keyset_pages_follow_the_order_with_ties_broken_by_id(session, basics):
    add_actions(session, basics, [3, 1, 3, 2, 3, 0, 5])
    expected = ids_in_order(session)
    assert walk(session, 2) == expected
    first = page(session, PageRequest(first=3))
    assert first.total == 7 and first.has_next and not first.has_previous
    second = page(session, PageRequest(first=3, after=decode_cursor(first.cursors[-1])))
    assert [a.id for a in second.items] == expected[3:6] and second.has_next and second.has_previous
    assert second.offset is None  # keyset windows do not know their offset, and need not


def test_rows_inserted_between_pages_are_neither_skipped_nor_repeated(session, basics):
    add_actions(session, basics, list(range(10)))
    before = ids_in_order(session)

    def insert(n):  # newer and older rows than the cursor, and ties on the cursor's date
        add_actions(session, basics, [100, -5, 5], prefix=f"new{n}")

    seen = walk(session, 3, between=insert)
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in before] == before  # every old row once, in order


def test_last_and_before_page_backwards(session, basics):
    add_actions(session, basics, list(range(7)))
    expected = ids_in_order(session)
    tail = page(session, PageRequest(last=3))
    assert [a.id for a in tail.items] == expected[-3:] and tail.has_previous and not tail.has_next
    prev = page(session, PageRequest(last=3, before=decode_cursor(tail.cursors[0])))
    assert [a.id for a in prev.items] == expected[1:4] and prev.has_previous and prev.has_next
    start = page(session, PageRequest(last=5, before=decode_cursor(prev.cursors[0])))
    assert [a.id for a in start.items] == expected[:1] and not start.has_previous
    both = page(session, PageRequest(first=4, last=2))
    assert [a.id for a in both.items] == expected[2:4] and both.has_previous and both.has_next


def test_offset_windows_still_work_and_give_keyset_cursors(session, basics):
    add_actions(session, basics, list(range(7)))
    expected = ids_in_order(session)
    third = page(session, PageRequest(first=2, after=3))  # the pages' ?page=N
    assert [a.id for a in third.items] == expected[4:6] and third.offset == 4
    assert third.has_next and third.has_previous and third.total == 7
    follow = page(session, PageRequest(first=5, after=decode_cursor(third.cursors[-1])))
    assert [a.id for a in follow.items] == expected[6:] and not follow.has_next
    old_cursor = decode_cursor(encode_cursor(5))  # cursors the API gave out before keysets
    assert [a.id for a in page(session, PageRequest(first=5, after=old_cursor)).items] == expected[6:]


def test_the_total_is_counted_only_when_asked(session, db, basics):
    add_actions(session, basics, list(range(5)))
    with count_statements(db) as counter:
        p = page(session, PageRequest(first=2, count=False))
    assert p.total is None and len(counter.statements) == 1
    assert not any("count(" in s.lower() for s in counter.statements)
    with count_statements(db) as counter:
        p = page(session, PageRequest(first=2))
    assert p.total == 5 and len(counter.statements) == 1  # the count rides on the window's statement
    assert "count(" in counter.statements[0].lower()
    with count_statements(db) as counter:  # an empty window: the count runs alone
        p = page(session, PageRequest(first=2, after=decode_cursor(p.cursors[-1])), select(SupervisionAction)
                 .where(SupervisionAction.started_on > date(2025, 1, 3)))
    assert p.items == [] and p.total == 2 and len(counter.statements) == 2


def test_the_count_uses_the_filters_only(session, basics):
    add_actions(session, basics, list(range(5)))
    stmt = select(SupervisionAction).where(SupervisionAction.started_on >= date(2025, 1, 3))
    assert page(session, PageRequest(first=1), stmt).total == 3


def test_cursors_are_opaque_and_checked(session, basics):
    add_actions(session, basics, [1, 2])
    cursor = page(session, PageRequest(first=1)).cursors[0]
    assert "2025" not in cursor and cursor.isascii()
    with pytest.raises(InvalidInput) as bad:
        decode_cursor("not-a-cursor", "after")
    assert bad.value.field == "after" and "游标" in str(bad.value)
    with pytest.raises(InvalidInput):  # a cursor of another list (other keys)
        page(session, PageRequest(first=1, after=Keyset(["x"])))
    with pytest.raises(InvalidInput):
        page(session, PageRequest(first=1, after=Keyset(["not a date", 3])))
    with pytest.raises(InvalidInput):
        page(session, PageRequest(first=101))


def test_mixed_directions_and_a_nullable_order_fall_back_correctly(session, basics):
    session.add_all([Entity(uscc=uscc(100 + i), name=f"企业{i % 3}", entity_type="enterprise",
                            industry_code=None if i % 2 else "C") for i in range(9)])
    session.commit()
    mixed = (Entity.name.asc(), Entity.id.desc())
    expected = list(session.exec(select(Entity.id).order_by(*mixed)))
    seen, after = [], None
    while True:
        p = select_page(session, select(Entity), PageRequest(first=2, after=after), order_by=mixed, max_size=10)
        seen += [e.id for e in p.items]
        if not p.has_next:
            break
        after = decode_cursor(p.cursors[-1])
    assert seen == expected
    nullable = (Entity.industry_code, Entity.id)  # NULLs: no keyset, offsets instead
    p = select_page(session, select(Entity), PageRequest(first=4), order_by=nullable, max_size=10)
    assert p.keysets == [] and p.offset == 0 and decode_cursor(p.cursor(3)) == 3
    nxt = select_page(session, select(Entity), PageRequest(first=4, after=3), order_by=nullable, max_size=10)
    assert nxt.offset == 4
    assert len({e.id for e in p.items + nxt.items}) == 8


def test_a_single_column_order_walks_by_keyset_cursors_too(session, basics):
    add_actions(session, basics, [3, 1, 4, 1, 5, 9, 2, 6])
    seen, after = [], None
    while True:
        p = select_page(session, select(SupervisionAction), PageRequest(first=3, after=after, count=False),
                        order_by=(SupervisionAction.id.desc(),), max_size=100)
        seen += [a.id for a in p.items]
        assert all(isinstance(decode_cursor(c), Keyset) for c in p.cursors)
        if not p.has_next:
            break
        after = decode_cursor(p.cursors[-1])
    assert seen == sorted(session.exec(select(SupervisionAction.id)), reverse=True)
