"""The inbox's read path: one statement for a tab's window with its names, one for every tab's count, whatever the
page size; what a row shows; on PostgreSQL the window walks (department_id, status, created_at, id) without
sorting the department's warnings."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from domain.disposal import service as d
from domain.disposal.inbox import InboxFilter, inbox_counts, inbox_page, inbox_rows_for_export
from domain.pagination import PageRequest, decode_cursor
from domain.types import utcnow
from tests.domain.disposal.support import make_warning, make_world
from tests.domain.identity.factories import new_department
from tests.support import backend, count_statements, explain


@pytest.fixture
def world(db):
    return make_world(db)


def _statements(db, fn):
    with db.unit_of_work() as s, count_statements(db) as counter:
        result = fn(s)
    return result, [q for q in counter.statements if q.lstrip().upper().startswith("SELECT")]


def test_a_tab_is_one_statement_with_its_names_whatever_the_page_size(db, world):
    ws = [make_warning(db, world.dept_a, level="red" if i % 2 else "blue") for i in range(7)]
    make_warning(db, world.dept_b)
    with db.unit_of_work() as s:
        d.urge_warning(s, world.analyst, ws[-1].id, "请尽快签收")
        d.add_assisting_department(s, world.analyst, ws[0].id, world.dept_b)
    for size in (2, 5, 50):
        for count in (False, True):
            page, sent = _statements(db, lambda s, n=size, c=count: inbox_page(
                s, world.admin, PageRequest(first=n, count=c), InboxFilter(department_code=" sz-scjg ")))
            assert len(sent) == 1, sent
            assert len(page.items) == min(size, 7) and (page.total == 7 if count else page.total is None)
    page, _ = _statements(db, lambda s: inbox_page(s, world.admin, PageRequest(first=3), InboxFilter(
        department_id=world.dept_a)))
    newest = page.items[0]
    assert newest.warning.code == ws[-1].code and newest.urge_count == 1 and not newest.escalated
    assert newest.department_name == "苏州市市场监督管理局" and newest.entity_name.startswith("苏州测试企业")
    assert newest.entity_uscc.startswith("91320500MA") and not newest.overdue and not newest.assisting
    # the next window by its keyset cursor, still one statement
    rest, sent = _statements(db, lambda s: inbox_page(s, world.admin, PageRequest(
        first=10, after=decode_cursor(page.cursors[-1]), count=False), InboxFilter(department_id=world.dept_a)))
    assert len(sent) == 1 and [r.warning.code for r in page.items + rest.items] == [w.code for w in ws[::-1]]
    # an assisting department sees the warning it assists on, marked 协办
    theirs, _ = _statements(db, lambda s: inbox_page(s, world.handler_b, PageRequest(first=10)))
    assert {(r.warning.code, r.assisting) for r in theirs.items} >= {(ws[0].code, True)}
    # an unknown department code finds nothing (the API names it unknown)
    empty, _ = _statements(db, lambda s: inbox_page(s, world.admin, PageRequest(first=5),
                                                    InboxFilter(department_code="SZ-NONE")))
    assert empty.items == [] and empty.total == 0


def test_the_inbox_reads_only_the_columns_a_row_shows(db, world):
    w = make_warning(db, world.dept_a)
    with db.unit_of_work() as s, count_statements(db) as counter:
        row = inbox_page(s, world.handler_a, PageRequest(first=5)).items[0]
        assert (row.warning.code, row.warning.row_version, row.warning.received_at) == (w.code, 1, None)
        assert not hasattr(row.warning, "explanation") and not hasattr(row.warning, "reasons")
    assert "explanation" not in counter.statements[-1].split("FROM")[0]  # not in the outer selection


def test_every_tab_count_is_one_statement(db, world):
    t0 = utcnow() - timedelta(days=3)
    make_warning(db, world.dept_a, dispatched_at=t0)  # past its receipt deadline: pending and overdue
    make_warning(db, world.dept_a, level="red")
    received = make_warning(db, world.dept_a)
    make_warning(db, world.dept_b)
    with db.unit_of_work() as s:
        d.receive_warning(s, world.handler_a, received.id)
    counts, sent = _statements(db, lambda s: inbox_counts(s, world.handler_a))
    assert len(sent) == 1, sent
    assert counts == {"pending": 2, "in_progress": 1, "review": 0, "done": 0, "overdue": 1}
    counts, sent = _statements(db, lambda s: inbox_counts(s, world.analyst, InboxFilter(level="red")))
    assert len(sent) == 1 and counts == {"pending": 1, "in_progress": 0, "review": 0, "done": 0, "overdue": 0}
    counts, _ = _statements(db, lambda s: inbox_counts(s, world.admin, InboxFilter(department_code="SZ-YJJ")))
    assert counts["pending"] == 1 and sum(counts.values()) == 1
    # the overdue tab lists what the count counts
    page, _ = _statements(db, lambda s: inbox_page(s, world.handler_a, PageRequest(first=5),
                                                   InboxFilter(tab="overdue")))
    assert len(page.items) == 1 and page.items[0].overdue


def test_a_handlers_counts_take_its_own_and_its_assisted_warnings_once(db, world):
    """A handler's tabs count the warnings of its department and those it assists on (协办), each once — its own
    and the assisted ones are counted apart in one statement; a warning of its own that also lists it as assisting
    is not counted twice (the assisting branch leaves out the department's own)."""
    own = [make_warning(db, world.dept_a) for _ in range(3)]
    theirs = [make_warning(db, world.dept_b) for _ in range(3)]
    late = make_warning(db, world.dept_b, dispatched_at=utcnow() - timedelta(days=3))  # past its receipt deadline
    with db.unit_of_work() as s:
        for w in (theirs[0], theirs[1], late):
            d.add_assisting_department(s, world.analyst, w.id, world.dept_a)
        d.receive_warning(s, world.handler_a, own[0].id)
    counts, sent = _statements(db, lambda s: inbox_counts(s, world.handler_a))
    assert len(sent) == 1, sent
    assert counts == {"pending": 2 + 3, "in_progress": 1, "review": 0, "done": 0, "overdue": 1}
    # the tabs list what they count
    for tab, n in counts.items():
        page, _ = _statements(db, lambda s, t=tab: inbox_page(s, world.handler_a, PageRequest(first=50),
                                                             InboxFilter(tab=t)))
        assert page.total == n == len(page.items), tab
    pending, _ = _statements(db, lambda s: inbox_page(s, world.handler_a, PageRequest(first=50)))
    assert {r.warning.code for r in pending.items if r.assisting} == {theirs[0].code, theirs[1].code, late.code}
    counts_b, _ = _statements(db, lambda s: inbox_counts(s, world.handler_b))
    assert counts_b["pending"] == 4 and counts_b["overdue"] == 1  # its own, whoever assists
    with db.unit_of_work() as s:  # now its own (the reassignment drops it from the assisting ones): once
        d.reassign_warning(s, world.analyst, theirs[0].id, world.dept_a, "改派至市场监管局")
    again, _ = _statements(db, lambda s: inbox_counts(s, world.handler_a))
    listed, _ = _statements(db, lambda s: inbox_page(s, world.handler_a, PageRequest(first=50)))
    assert again["pending"] == 5 == len(listed.items) == len({r.warning.id for r in listed.items})


def test_the_export_is_the_view_in_its_order(db, world):
    ws = [make_warning(db, world.dept_a, disposal_days=10 - i) for i in range(4)]
    rows, sent = _statements(db, lambda s: inbox_rows_for_export(s, world.handler_a, InboxFilter(sort="due")))
    assert len(sent) == 1 and [r.warning.code for r in rows] == [w.code for w in ws[::-1]]
    rows, _ = _statements(db, lambda s: inbox_rows_for_export(s, world.handler_a, InboxFilter(sort="oldest"),
                                                               limit=2))
    assert [r.warning.code for r in rows] == [w.code for w in ws[:2]]


# --- PostgreSQL plans ------------------------------------------------------------------------------------------

def _under_limit(plan: str) -> str:
    lines = plan.splitlines()
    at = next(i for i, line in enumerate(lines) if "Limit" in line)
    depth = len(lines[at]) - len(lines[at].lstrip(" ->"))
    below = []
    for line in lines[at + 1:]:
        if len(line) - len(line.lstrip(" ->")) <= depth:
            break
        below.append(line)
    return "\n".join(below)


@pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL plans")
def test_the_inbox_walks_the_department_status_index(db, session, world):
    others = [new_department(db, f"SZ-X{i:02d}", f"部门{i}").id for i in range(22)]
    conn = session.connection()
    conn.execute(sa.text("""INSERT INTO entity (uscc, name, entity_type, status, updated_at)
        SELECT 'G' || lpad(g::text, 17, '0'), '企业' || g, 'enterprise', 'active', now()
        FROM generate_series(1, 30000) g"""))
    conn.execute(sa.text("""INSERT INTO risk_warning (code, entity_id, level, source, reasons, explanation,
            department_id, status, dispatched_at, receipt_due_at, disposal_due_at, created_by_name, created_at,
            updated_at, row_version)
        SELECT 'YJ-2020-' || lpad(e.id::text, 6, '0'), e.id, (ARRAY['red','orange','yellow','blue'])[1 + e.id % 4],
               'model', '[]', '{}', (CAST(:depts AS integer[]))[1 + e.id % 24],
               CASE e.id % 5 WHEN 0 THEN 'closed' WHEN 1 THEN 'in_progress' ELSE 'issued' END,
               now() - (e.id % 300) * interval '1 hour', now() + interval '1 day', now() + interval '7 days',
               'test', now() - (e.id % 300) * interval '1 hour', now(), 1
        FROM entity e WHERE e.uscc LIKE 'G%'"""), {"depts": [world.dept_a, world.dept_b, *others]})
    session.commit()
    for table in ("entity", "risk_warning", "warning_disposal", "department"):
        session.connection().exec_driver_sql(f"ANALYZE {table}")
    # warning_disposal fills up after its statistics were taken (urges, the overdue sweep): still read by key per row
    session.connection().execute(sa.text("""INSERT INTO warning_disposal (warning_id, return_reason, urge_count,
            feedback_round, rework_count, updated_at)
        SELECT id, '', 1, 0, 0, now() FROM risk_warning WHERE id % 3 = 0"""))
    session.commit()
    index = "ix_risk_warning_department_status_created"
    # a one-status tab walks (department_id, status, created_at, id); a tab of two statuses may walk the department's
    # (department_id, created_at, id) and filter the status instead; never a sort of the department's warnings
    for f, wanted in ((InboxFilter(department_code="SZ-SCJG"), index), (InboxFilter(department_id=world.dept_a), index),
                      (InboxFilter(department_code="SZ-SCJG", tab="in_progress"), "ix_risk_warning_department_")):
        plans = explain(db, session, lambda s, f=f: inbox_page(s, world.admin, PageRequest(first=50, count=False), f))
        assert len(plans) == 1
        window = _under_limit(plans[0])
        assert wanted in window and "Sort" not in window, plans[0]
        assert "Index Cond: (warning_id = risk_warning.id)" in plans[0], plans[0]  # a key lookup, not a scan
        assert "Seq Scan on warning_disposal" not in plans[0], plans[0]
    counts = explain(db, session, lambda s: inbox_counts(s, world.admin, InboxFilter(department_code="SZ-SCJG")))
    # the department's rows through one of its indexes (the overdue columns are read from those rows), not the table
    assert len(counts) == 1 and "ix_risk_warning_department_" in counts[0], counts[0]
    assert "Seq Scan on risk_warning" not in counts[0], counts[0]
    # once vacuumed (the visibility map set), the counts and their overdue come from the index alone (0017)
    session.commit()
    with db.engine.connect() as c:
        c.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE risk_warning")
    counts = explain(db, session, lambda s: inbox_counts(s, world.admin, InboxFilter(department_code="SZ-SCJG")))
    assert f"Index Only Scan using {index}" in counts[0], counts[0]
    # a handler's counts: its own department's rows by the same index, the assisted ones by key — never every
    # warning (the OR of the two read the whole table)
    counts = explain(db, session, lambda s: inbox_counts(s, world.handler_a))
    assert len(counts) == 1 and f"Index Only Scan using {index}" in counts[0], counts[0]
    assert "Seq Scan on risk_warning" not in counts[0], counts[0]
