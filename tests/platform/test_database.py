"""The database layer: SQLite pragmas in force on every connection, the unit of work, zone-aware timestamps."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from domain.db import Database, sqlite_pragmas
from domain.jobs.models import Job
from tests.support import backend


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite pragmas")
def test_sqlite_pragmas_are_set_on_sync_and_async_connections(db):
    with db.engine.connect() as conn:
        assert sqlite_pragmas(conn) == {"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1,
                                        "synchronous": 1}


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite pragmas")
async def test_sqlite_pragmas_on_the_async_engine(db):
    async with db.async_engine.connect() as conn:
        pragmas = await conn.run_sync(sqlite_pragmas)
    assert pragmas["foreign_keys"] == 1 and pragmas["journal_mode"] == "wal"


def test_unit_of_work_commits_together_or_not_at_all(db: Database):
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        s.add(Job(kind="a"))
        s.flush()
        raise RuntimeError("boom")
    with db.unit_of_work() as s:
        assert s.exec(select(Job)).all() == []
        s.add(Job(kind="b"))
    with db.unit_of_work() as s:
        assert [j.kind for j in s.exec(select(Job))] == ["b"]


def test_timestamps_come_back_in_utc_whatever_zone_went_in(db: Database):
    shanghai = timezone(timedelta(hours=8))
    with db.unit_of_work() as s:
        job = Job(kind="t", created_at=datetime(2026, 7, 1, 9, 30, tzinfo=shanghai))
        s.add(job)
        s.flush()
        job_id = job.id
    with db.unit_of_work() as s:
        stored = s.get(Job, job_id)
        assert stored.created_at == datetime(2026, 7, 1, 1, 30, tzinfo=UTC)
        assert stored.created_at.tzinfo is not None


def test_naive_timestamps_are_refused(db: Database):
    with pytest.raises(Exception, match="naive"), db.unit_of_work() as s:
        s.add(Job(kind="t", created_at=datetime(2026, 7, 1, 9, 30)))
        s.flush()


def test_a_uniqueness_race_becomes_a_conflict_not_a_server_error(db: Database):
    from domain.errors import Conflict
    from domain.identity.models import Department

    with db.unit_of_work() as s:
        s.add(Department(code="SZ-RACE", name="甲"))
    with pytest.raises(Conflict, match="reload and try again"), db.unit_of_work() as s:
        s.add(Department(code="SZ-RACE", name="乙"))  # as if both passed the domain's check at the same moment
        s.flush()
    with db.unit_of_work() as s:
        assert [d.name for d in s.exec(select(Department))] == ["甲"]


# ---- one unit of work, three modes (issue 10 point 3, issue 8 point 17) ------------------------------------------

def _add_department(s, code: str, name: str) -> str:
    from domain.identity.models import Department

    s.add(Department(code=code, name=name))
    return name


def _names(db: Database) -> list[str]:
    from domain.identity.models import Department

    with db.unit_of_work("read") as s:
        return sorted(d.name for d in s.exec(select(Department)))


async def test_run_commits_reads_or_only_validates_by_mode(db: Database):
    assert await db.run(_add_department, "SZ-A", "甲") == "甲"
    assert await db.run(_add_department, "SZ-B", "乙", work="read") == "乙"
    assert await db.run(_add_department, "SZ-C", "丙", work="dry_run") == "丙"
    assert _names(db) == ["甲"]
    with pytest.raises(ValueError, match="unknown unit-of-work mode"):
        await db.run(_add_department, "SZ-D", "丁", work="maybe")


async def test_a_dry_run_that_meets_a_simultaneous_insert_is_a_conflict_not_a_server_error(db: Database):
    """The inline validation's dry run and the real submit of the same form racing: the dry run's insert hits the
    unique index (both passed the domain's check) and must answer like a real save does."""
    from domain.errors import Conflict

    await db.run(_add_department, "SZ-RACE", "甲")
    with pytest.raises(Conflict, match="reload and try again"):
        await db.run(_add_department, "SZ-RACE", "乙", work="dry_run")
    assert _names(db) == ["甲"]


async def test_the_unit_of_work_runs_off_the_event_loop(db: Database):
    import threading

    loop_thread = threading.get_ident()
    ran_on = await db.run(lambda s: threading.get_ident(), work="read")
    assert ran_on != loop_thread
