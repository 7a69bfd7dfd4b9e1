"""A window's LIMIT is written into the statement's text, so PostgreSQL keeps one generic plan for a list's prepared
statement instead of planning every execution anew (it cannot cost a generic plan with LIMIT as a parameter)."""

from __future__ import annotations

import pytest

from domain.identity.actor import SYSTEM
from domain.pagination import PageRequest
from domain.supervision.service import search_entities
from tests.domain.supervision.factories import seed_basics
from tests.support import count_statements


def test_the_page_size_is_in_the_statement_text(db, session):
    seed_basics(session)
    session.commit()
    with count_statements(db) as counter, db.read_session() as s:
        search_entities(s, SYSTEM, PageRequest(first=20, count=False), rows=True)
        search_entities(s, SYSTEM, PageRequest(first=7, count=False), rows=True)
    assert [" LIMIT 21" in sql for sql in counter.statements] == [True, False]
    assert " LIMIT 8" in counter.statements[1]


def test_postgresql_keeps_a_generic_plan_for_a_list(db, session):
    if db.backend != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    seed_basics(session)
    session.commit()
    with db.read_session() as s:
        for _ in range(14):  # psycopg prepares it after 5 runs; PostgreSQL compares 5 custom plans, then goes generic
            search_entities(s, SYSTEM, PageRequest(first=20, count=False), rows=True)
        plans = s.connection().exec_driver_sql(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %(table)s"
            " AND statement LIKE %(limit)s", {"table": "%FROM entity%", "limit": "%LIMIT 21%"}).all()
    assert plans, "the list's statement was not prepared"
    generic, custom = plans[0]
    assert generic > 0 and custom <= 5, plans
