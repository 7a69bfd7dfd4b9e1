"""The request session of GraphQL (`Database.read_session`): reads in autocommit on PostgreSQL (no BEGIN/ROLLBACK
round trips), its first change moved to a transaction and kept atomic; pooled connections pinged only after idling,
and a dead idle one replaced (issue 9)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

import domain.db as dbmod
from domain.db import Database, call_in
from domain.identity.models import Department
from tests.support import backend

pg_only = pytest.mark.skipif(backend() != "postgresql", reason="autocommit reads and pings: PostgreSQL")


def _codes(db: Database) -> list[str]:
    with db.unit_of_work("read") as s:
        return list(s.execute(select(Department.code).where(Department.code.startswith("T-RS-"))).scalars())


def test_a_read_session_keeps_its_first_change_atomic_and_commits_it(db):
    session = db.read_session()
    try:
        assert call_in(session, lambda s: s.execute(sa.select(sa.literal(1))).scalar_one(), (), {}, "read") == 1
        if backend() == "postgresql":  # the read ran outside any transaction block
            from psycopg.pq import TransactionStatus

            raw = session.connection().connection.dbapi_connection
            assert raw is not None and raw.info.transaction_status == TransactionStatus.IDLE

        def failing(s):
            s.add(Department(code="T-RS-1", name="甲"))
            s.flush()
            s.add(Department(code="T-RS-2", name="乙"))
            s.flush()
            raise ValueError("stop")

        with pytest.raises(ValueError):
            call_in(session, failing, (), {}, "commit")
        assert _codes(db) == []  # nothing of the failed change stayed
        call_in(session, lambda s: s.add(Department(code="T-RS-3", name="丙")), (), {}, "commit")
        call_in(session, lambda s: s.add(Department(code="T-RS-4", name="丁")), (), {}, "dry_run")
        assert call_in(session, lambda s: s.execute(select(Department.code).where(
            Department.code.startswith("T-RS-"))).scalars().all(), (), {}, "read") == ["T-RS-3"]
    finally:
        session.close()
    assert _codes(db) == ["T-RS-3"]


@pg_only
def test_an_idle_pooled_connection_that_died_is_replaced_before_use(database_url, monkeypatch):
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)
    db = Database(database_url)
    admin = sa.create_engine(dbmod.sync_url(database_url))
    try:
        with db.engine.connect() as conn:
            pid = conn.execute(sa.select(sa.func.pg_backend_pid())).scalar_one()
        with admin.connect() as conn:  # the server ends the pooled connection while it sits idle
            assert conn.execute(sa.select(sa.func.pg_terminate_backend(pid))).scalar_one()
        session = db.read_session()
        try:
            new_pid = call_in(session, lambda s: s.execute(sa.select(sa.func.pg_backend_pid())).scalar_one(), (), {},
                              "read")
        finally:
            session.close()
        assert new_pid != pid
    finally:
        admin.dispose()
        db.dispose()


@pg_only
def test_a_connection_back_from_use_a_moment_ago_is_handed_out_without_a_ping(database_url, monkeypatch):
    pings = []
    original = dbmod._on_checkout

    def counted(dbapi_connection, record, proxy):
        idle_since = record.info.get(dbmod._CHECKED_IN_AT)
        pings.append(idle_since is None or dbmod.time.monotonic() - idle_since >= dbmod.PING_AFTER_IDLE_S)
        return original(dbapi_connection, record, proxy)

    monkeypatch.setattr(dbmod, "_on_checkout", counted)
    db = Database(database_url)
    try:
        for _ in range(3):
            with db.engine.connect() as conn:
                conn.execute(sa.select(sa.literal(1)))
        assert pings == [True, False, False]  # the new connection once, then straight from the pool
    finally:
        db.dispose()


async def test_a_cancelled_caller_waits_for_its_worker_thread_and_context_variables_reach_it(db):
    import asyncio
    import contextvars
    import threading

    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")
    marker.set("from the caller")
    started, finished = threading.Event(), threading.Event()
    seen: list[str] = []

    def slow() -> str:
        seen.append(marker.get())
        started.set()
        finished.wait(5)  # released below, after the caller was cancelled
        return "done"

    task = asyncio.create_task(db.in_worker(slow))
    while not started.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # still waiting for the thread, which is still running
    finished.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["from the caller"]
    assert await db.in_worker(lambda: threading.current_thread().name.startswith("regwatch-db"))


async def test_worker_threads_are_capped_reused_and_hand_back_results_and_errors(db):
    import asyncio
    import threading

    gate = threading.Event()
    names: set[str] = set()
    lock = threading.Lock()

    def held(i: int) -> int:
        with lock:
            names.add(threading.current_thread().name)
        gate.wait(5)
        if i % 7 == 3:
            raise KeyError(f"boom {i}")
        return i * i

    calls = [asyncio.create_task(db.in_worker(held, i)) for i in range(db._workers + 10)]
    for _ in range(500):  # every thread busy (started as needed; a loaded machine starts them slowly)
        if len(names) >= db._workers:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert len(names) == db._workers  # the rest queued: no thread beyond the cap
    gate.set()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for i, outcome in enumerate(outcomes):
        if i % 7 == 3:
            assert isinstance(outcome, KeyError) and outcome.args == (f"boom {i}",)
        else:
            assert outcome == i * i
    def stops() -> None:
        raise StopIteration("from a domain function")

    with pytest.raises(RuntimeError) as caught:  # a future refuses StopIteration: the caller still hears back
        await asyncio.wait_for(db.in_worker(stops), 5)
    assert isinstance(caught.value.__cause__, StopIteration)
    before = set(names)
    await asyncio.gather(*(db.in_worker(held, i) for i in range(40)), return_exceptions=True)
    assert names == before  # the same threads serve later calls


async def test_the_thread_idle_last_takes_the_next_call(database_url):
    """Calls one after another go to one thread (the one that went idle last), not round the pool's threads in turn;
    a burst still spreads over several. A database of its own: no other test's call finishes in its pool meanwhile."""
    import asyncio
    import threading

    db = Database(database_url)
    try:
        gate = threading.Event()
        entered: list[str] = []

        def held() -> str:
            entered.append(threading.current_thread().name)
            gate.wait(5)
            return threading.current_thread().name

        burst = [asyncio.create_task(db.in_worker(held)) for _ in range(4)]
        for _ in range(500):  # all four held (a loaded machine starts threads slowly)
            if len(entered) == 4:
                break
            await asyncio.sleep(0.01)
        gate.set()
        assert len(set(await asyncio.gather(*burst))) == 4  # each call held its thread: four threads
        last = await db.in_worker(threading.current_thread)
        following = {(await db.in_worker(threading.current_thread)).name for _ in range(30)}
        assert following == {last.name}
    finally:
        db.dispose()


async def test_a_caller_cancelled_twice_still_waits_for_its_call_and_the_pool_goes_on(db):
    import asyncio
    import threading

    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "late"

    task = asyncio.create_task(db.in_worker(slow))
    while not started.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.sleep(0.02)
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await db.in_worker(lambda: "next") == "next"


# --- a worker thread's own read connection (`Database._held_connection`) ------------------------------------------

def _pid(session) -> int:
    return call_in(session, lambda s: s.execute(sa.select(sa.func.pg_backend_pid())).scalar_one(), (), {}, "read")


def _checkouts(db: Database) -> list[int]:
    seen: list[int] = []
    sa.event.listen(db._autocommit_engine, "checkout", lambda *_: seen.append(1))
    return seen


@pg_only
def test_a_request_thread_reads_on_its_own_connection_without_a_pool_checkout(database_url):
    import threading

    from domain.db import inline_work

    db = Database(database_url)
    try:
        checkouts = _checkouts(db)
        with inline_work():
            pids = []
            for _ in range(3):  # three requests served by this thread, one after the other
                session = db.read_session()
                try:
                    pids.append(_pid(session))
                finally:
                    session.close()
        assert len(set(pids)) == 1 and len(checkouts) == 1  # one connection, checked out once
        # outside `inline_work` (a request whose work hops between threads): a pooled connection each time
        session = db.read_session()
        try:
            _pid(session)
        finally:
            session.close()
        assert len(checkouts) == 2

        other: list[int] = []

        def in_another_thread() -> None:
            with inline_work():
                s = db.read_session()
                try:
                    other.append(_pid(s))
                finally:
                    s.close()

        thread = threading.Thread(target=in_another_thread)
        thread.start()
        thread.join()
        assert other and other[0] != pids[0]  # each thread has its own
        assert len(db._held_connections) == 2
    finally:
        db.dispose()
    assert not db._held_connections  # dispose returned them to their pool


@pg_only
def test_a_held_connection_stays_usable_after_a_failed_read_and_a_change(database_url):
    from domain.db import inline_work

    db = Database(database_url)
    try:
        with inline_work():
            session = db.read_session()
            try:
                first = _pid(session)
                with pytest.raises(sa.exc.DataError):  # a statement the server refuses, on the held connection
                    call_in(session, lambda s: s.execute(sa.text("SELECT 1 / 0")).scalar_one(), (), {}, "read")
                assert _pid(session) == first  # autocommit: no aborted transaction left behind
                # the session's first change moves it to a transaction of its own, on the transactional engine
                call_in(session, lambda s: s.add(Department(code="T-RS-H", name="戊")), (), {}, "commit")
                assert _pid(session) != first
            finally:
                session.close()
            session = db.read_session()  # the next request: the same connection, idle, no transaction open
            try:
                assert _pid(session) == first
                from psycopg.pq import TransactionStatus

                raw = session.connection().connection.dbapi_connection
                assert raw is not None and raw.info.transaction_status == TransactionStatus.IDLE
            finally:
                session.close()
        assert _codes(db) == ["T-RS-H"]
    finally:
        db.dispose()


@pg_only
def test_a_held_connection_that_died_while_its_thread_was_idle_is_replaced_before_use(database_url, monkeypatch):
    from domain.db import inline_work

    db = Database(database_url)
    admin = sa.create_engine(dbmod.sync_url(database_url))
    try:
        with inline_work():
            session = db.read_session()
            try:
                pid = _pid(session)
            finally:
                session.close()
            with admin.connect() as conn:  # the server ends it between two requests
                assert conn.execute(sa.select(sa.func.pg_terminate_backend(pid))).scalar_one()
            monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)  # it has sat idle long enough to be pinged
            session = db.read_session()
            try:
                new_pid = _pid(session)
            finally:
                session.close()
        assert new_pid != pid
        assert len(db._held_connections) == 1
    finally:
        admin.dispose()
        db.dispose()
