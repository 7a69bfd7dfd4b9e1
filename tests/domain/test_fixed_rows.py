"""domain.fixed_rows: a reused SELECT read on the driver's cursor gives what SQLAlchemy's own execution gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from domain import fixed_rows
from domain.fixed_rows import fetch_fixed
from domain.types import UTCDateTime
from tests.support import count_statements

_META = sa.MetaData()
PROBE = sa.Table("fixed_probe", _META, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(40), nullable=False),
                 sa.Column("amount", sa.Numeric(12, 2), nullable=True),
                 sa.Column("on", sa.Date, nullable=True),
                 sa.Column("at", UTCDateTime, nullable=True))

ROWS = [
    {"id": 1, "name": "苏州甲", "amount": Decimal("12.50"), "on": date(2026, 1, 2),
     "at": datetime(2026, 12, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))},
    {"id": 2, "name": "苏州乙", "amount": None, "on": None, "at": None},
    {"id": 3, "name": "苏州丙", "amount": Decimal("0.01"), "on": date(2025, 12, 31),
     "at": datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)},
]


@pytest.fixture
def probe(db):
    PROBE.create(db.engine)
    try:
        with db.engine.begin() as conn:
            conn.execute(PROBE.insert(), ROWS)
        yield PROBE
    finally:
        PROBE.drop(db.engine)


def _both(db, statement, params):
    """(fetch_fixed's rows and keys, SQLAlchemy's rows and keys) for the same statement and values."""
    with db.read_session() as s:
        fixed, keys = fetch_fixed(s.connection(), statement, params)
        result = s.connection().execute(statement, params)
        return (fixed, keys), (result.fetchall(), tuple(result.keys()))


def test_rows_keys_and_processed_values_are_sqlalchemys(db, probe):
    since = sa.bindparam("since", type_=UTCDateTime())
    statement = (sa.select(probe.c.id, probe.c.name, probe.c.amount, probe.c.on, probe.c.at,
                           sa.func.count().over().label("total_count"))
                 .where(sa.or_(probe.c.at >= since, probe.c.at.is_(None)))
                 .order_by(probe.c.id.desc()).limit(sa.bindparam("n", type_=sa.Integer())))
    # a zone-aware bound value goes through UTCDateTime's bind processor (a naive one would be refused)
    params = {"since": datetime(2026, 7, 1, 0, 30, tzinfo=timezone(timedelta(hours=8))), "n": 10}
    for _ in range(3):  # the first run learns the converter; later runs reuse it
        (fixed, keys), (theirs, their_keys) = _both(db, statement, params)
        assert keys == their_keys == ("id", "name", "amount", "on", "at", "total_count")
        assert [tuple(r) for r in fixed] == [tuple(r) for r in theirs]
        assert [r[0] for r in fixed] == [3, 2, 1]
        assert all(r[4] is None or r[4].tzinfo is UTC for r in fixed)  # UTCDateTime's result processor ran
    assert fixed[2][4] == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    assert fixed[0][2] == Decimal("0.01") and fixed[0][3] == date(2025, 12, 31)


def test_timestamps_from_a_session_in_another_zone_are_still_turned_to_utc(db, probe, monkeypatch):
    """Rows whose timestamps already arrive in UTC are kept as the driver made them; one that arrives in another
    zone (a session whose TimeZone is not the engine's UTC) is converted, as SQLAlchemy's own path converts it."""
    statement = sa.select(probe.c.id, probe.c.at).order_by(probe.c.id)
    with db.read_session() as s:
        utc_rows, _ = fetch_fixed(s.connection(), statement, None)
        if db.backend == "postgresql":
            s.connection().exec_driver_sql("SET TimeZone = 'Asia/Shanghai'")
        try:
            local_rows, _ = fetch_fixed(s.connection(), statement, None)
            theirs = s.connection().execute(statement).fetchall()
        finally:
            if db.backend == "postgresql":
                s.connection().exec_driver_sql("SET TimeZone = 'UTC'")
    for rows in (utc_rows, local_rows):
        assert [tuple(r) for r in rows] == [tuple(r) for r in theirs]
        assert all(r[1] is None or r[1].tzinfo is UTC for r in rows)
    assert local_rows[0][1] == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)


def test_default_values_and_a_different_value_each_run(db, probe):
    statement = sa.select(probe.c.id).where(probe.c.name == sa.bindparam("name", "苏州甲")).order_by(probe.c.id)
    assert _both(db, statement, None)[0][0] == [(1,)]  # the value the statement was built with
    assert _both(db, statement, {"name": "苏州丙"})[0][0] == [(3,)]
    assert _both(db, statement, {"name": "无此名"})[0][0] == []


def test_statement_listeners_see_it(db, probe):
    statement = sa.select(probe.c.id).order_by(probe.c.id)
    with count_statements(db) as counter, db.read_session() as s:
        rows, _ = fetch_fixed(s.connection(), statement, None)
    assert [r[0] for r in rows] == [1, 2, 3]
    assert counter.count == 1 and "FROM fixed_probe" in counter.statements[0]


def test_a_driver_error_is_sqlalchemys_error_and_the_session_goes_on(db, probe):
    missing = sa.select(sa.table("no_such_table", sa.column("x")).c.x)
    statement = sa.select(probe.c.id).order_by(probe.c.id)
    with db.read_session() as s:
        with pytest.raises(sa.exc.DBAPIError) as caught:
            fetch_fixed(s.connection(), missing, None)
        assert caught.value.orig is not None and "no_such_table" in str(caught.value)
        s.rollback()
        assert [r[0] for r in fetch_fixed(s.connection(), statement, None)[0]] == [1, 2, 3]


def test_in_lists_are_expanded_for_their_values(db, probe):
    since = sa.bindparam("since", type_=UTCDateTime())
    statement = (sa.select(probe.c.id).where(probe.c.id.in_(sa.bindparam("ids", expanding=True)),
                                             sa.or_(probe.c.at >= since, probe.c.at.is_(None)))
                 .order_by(probe.c.id))
    early = datetime(2020, 1, 1, tzinfo=UTC)
    for ids, expected in (([1, 3], [1, 3]), ([2], [2]), ([1, 2, 3], [1, 2, 3]), ([], [])):
        (fixed, _), (theirs, _) = _both(db, statement, {"ids": ids, "since": early})
        assert [tuple(r) for r in fixed] == [tuple(r) for r in theirs] == [(i,) for i in expected]
    if db.backend == "postgresql":
        assert isinstance(fixed_rows._CACHE[(id(statement), "postgresql")], fixed_rows._Fixed)


def test_the_driver_lane_is_taken_on_postgresql(db, probe):
    statement = sa.select(probe.c.id, probe.c.name).order_by(probe.c.id)
    (fixed, _), (theirs, _) = _both(db, statement, None)
    if db.backend == "postgresql":
        assert type(fixed[0]) is tuple and type(theirs[0]) is not tuple  # the driver's rows, not SQLAlchemy's
        assert isinstance(fixed_rows._CACHE[(id(statement), "postgresql")], fixed_rows._Fixed)
    else:
        assert (id(statement), "sqlite") not in fixed_rows._CACHE  # SQLite: SQLAlchemy's execution
    assert [tuple(r) for r in fixed] == [(1, "苏州甲"), (2, "苏州乙"), (3, "苏州丙")]


def test_a_statement_keeps_its_cursor_on_its_connection_and_a_failed_one_is_replaced(db, probe):
    if db.backend != "postgresql":
        pytest.skip("the driver lane (psycopg) only")
    statement = sa.select(probe.c.id, probe.c.name).where(probe.c.id >= sa.bindparam("low")).order_by(probe.c.id)
    failing = sa.select(sa.cast(probe.c.name, sa.Integer)).where(probe.c.id == sa.bindparam("id"))
    with db.engine.connect() as conn:
        fairy = conn.connection
        first = [tuple(r) for r in fetch_fixed(conn, statement, {"low": 1})[0]]
        entry = fixed_rows._CACHE[(id(statement), "postgresql")]
        cursor = fairy.info[fixed_rows._CURSORS][id(entry)]
        transformer = cursor._tx
        again = [tuple(r) for r in fetch_fixed(conn, statement, {"low": 2})[0]]
        # the same cursor and, for the same SQL, the same transformer; each run with its own values
        assert fairy.info[fixed_rows._CURSORS][id(entry)] is cursor and cursor._tx is transformer
        assert first == [(1, "苏州甲"), (2, "苏州乙"), (3, "苏州丙")] and again == first[1:]
        # a statement the server refuses: its cursor is closed and dropped, the next run gets a new one
        with pytest.raises(sa.exc.DBAPIError):
            fetch_fixed(conn, failing, {"id": 1})
        failed = fixed_rows._CACHE[(id(failing), "postgresql")]
        assert id(failed) not in fairy.info[fixed_rows._CURSORS]
        conn.rollback()
        assert [tuple(r) for r in fetch_fixed(conn, statement, {"low": 3})[0]] == [(3, "苏州丙")]
        # a cursor closed under it (as a closed connection's are) is replaced
        cursor.close()
        assert [tuple(r) for r in fetch_fixed(conn, statement, {"low": 1})[0]] == first
        assert fairy.info[fixed_rows._CURSORS][id(entry)] is not cursor
