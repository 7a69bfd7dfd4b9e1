"""Engines, sessions and the one unit of work every channel uses (pages, GraphQL, CLI, jobs).

Domain functions take a plain sync `Session`. `Database.unit_of_work(mode)` (sync) and `Database.run(fn, work=...)`
(from async code) are the only places that decide what happens at the end of the work:

- ``"commit"`` — commit when the function returns, roll back when it raises;
- ``"read"``   — never commit; the transaction ends with the session;
- ``"dry_run"`` — flush (so the database checks its constraints too), then roll back: validation only.

In every mode an `IntegrityError` becomes a `Conflict` (see `conflict_from`), here and nowhere else.
`Database.run` executes the function in a worker thread on the sync engine, so CPU-heavy steps inside a domain
function (password hashing, feature computation, parsing) never stall the event loop.

A whole request may instead run in one worker thread (`Database.in_worker`, GraphQL over HTTP does): inside
`inline_work()` `run` and `run_in` call the function at once in the current (worker) thread, so the request pays
one event-loop-to-thread hop instead of one per read.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, SQLModel

from domain.errors import Conflict

__all__ = [
    "MODES",
    "NAMING_CONVENTION",
    "Busy",
    "Database",
    "Mode",
    "async_url",
    "call_in",
    "conflict_from",
    "inline_work",
    "is_busy",
    "leave_autocommit",
    "settled",
    "sqlite_pragmas",
    "sync_url",
]

T = TypeVar("T")
Mode = Literal["commit", "read", "dry_run"]
MODES: tuple[Mode, ...] = ("commit", "read", "dry_run")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

BUSY_TIMEOUT_MS = 10000
SQLITE_PRAGMAS: dict[str, str | int] = {
    "journal_mode": "wal",
    "busy_timeout": BUSY_TIMEOUT_MS,
    "foreign_keys": 1,
    "synchronous": 1,  # NORMAL
}


# psycopg converts a query text to PostgreSQL's own placeholders on every execution, and keeps the conversion (an
# LRU of 128 texts) only for texts up to 4096 characters. The nested entity's windows are one UNION of 14,311
# characters, re-split by a regular expression on every request (~50-100 µs of ~1.8 ms, bench.api): kept up to
# 64 KiB here, which bounds that cache at a few MB. (A module constant psycopg reads at each call; if a release
# drops it, setting it does nothing.)
try:
    import psycopg._queries as _psycopg_queries

    if getattr(_psycopg_queries, "MAX_CACHED_STATEMENT_LENGTH", 0) < 65536:
        _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = 65536
except ImportError:  # SQLite-only installations
    pass

# True while the current code already runs in a worker thread for a whole request (see `inline_work`)
_INLINE: ContextVar[bool] = ContextVar("regwatch_db_inline", default=False)


@contextmanager
def inline_work() -> Iterator[None]:
    """Inside this block (in a worker thread, never on the event loop) `Database.run`/`run_in` run their function
    at once in this thread instead of handing it to another one."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


class _Job:
    """One call for a worker thread, and the event-loop future that gets its outcome (`settle`, on the loop)."""

    __slots__ = ("call", "context", "ended", "finished", "loop", "waiter")

    def __init__(self, context: contextvars.Context, call: Callable[[], Any], loop: asyncio.AbstractEventLoop,
                 waiter: asyncio.Future[Any]) -> None:
        self.context, self.call, self.loop, self.waiter = context, call, loop, waiter
        self.ended = False  # the call has returned or raised (set on the loop)
        self.finished: asyncio.Future[None] | None = None  # set by a cancelled caller that waits for the end

    def settle(self, ok: bool, value: Any) -> None:
        self.ended = True
        waiter = self.waiter
        if not waiter.done():  # a cancelled caller's waiter is done already: the outcome is dropped
            if ok:
                waiter.set_result(value)
            else:
                waiter.set_exception(value)
        finished = self.finished
        if finished is not None and not finished.done():
            finished.set_result(None)


_IDLE: Any = object()  # a worker's next job: none yet, it waits on its slot


class _Slot:
    """A worker thread's hand-off: the job it is given while idle, and the lock it sleeps on until then (held
    while it is idle: released by the submitter that gives it a job)."""

    __slots__ = ("job", "wake")

    def __init__(self) -> None:
        self.job: _Job | None = None
        self.wake = threading.Lock()
        self.wake.acquire()


class _WorkerPool:
    """Threads for request work, started as needed up to `size` (as ThreadPoolExecutor starts them), each outcome
    handed to its event loop with one `call_soon_threadsafe`. ThreadPoolExecutor's path cost a
    `concurrent.futures.Future` and a work item per call, a lock and a condition to submit and to settle, and the
    event loop's future chained to it by callbacks copying its state (`run_in_executor`, `wrap_future`) behind a
    `shield`: ~13 % of the event-loop thread's CPU of a trivial GraphQL request.

    A job goes to the thread that became idle last (a stack of idle threads), not to the one idle longest (a shared
    queue wakes its waiters in turn): under light load one thread, with its own connection, serves request after
    request while its caches are warm; the nested entity's p50 at c=1 was ~10 % lower with a single thread than
    with the queue's round robin over two. When every thread is busy the job waits in a backlog, taken first by the
    next thread to finish. The threads are daemons, so a process that never disposes its database still exits;
    every caller awaits its call (a cancelled one too), so none is cut short while a request waits on it."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._lock = threading.Lock()
        self._idle: list[_Slot] = []  # the last to go idle at the end
        self._backlog: collections.deque[_Job] = collections.deque()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, job: _Job) -> None:
        with self._lock:
            if self._idle:
                slot = self._idle.pop()
                slot.job = job
                slot.wake.release()
                return
            if len(self._threads) >= self._size:
                self._backlog.append(job)
                return
            thread = threading.Thread(target=self._work, args=(job,), name=f"{self._name}_{len(self._threads)}",
                                      daemon=True)
            self._threads.append(thread)
        thread.start()

    def shutdown(self) -> None:
        """Each thread ends once the work submitted before it is done (it is not waited for)."""
        with self._lock:
            self._closed = True
            idle = self._idle[:]
            self._idle.clear()
            self._threads = []
        for slot in idle:
            slot.wake.release()  # with no job: it ends

    def _work(self, job: _Job | None) -> None:
        slot = _Slot()
        lock, idle, backlog = self._lock, self._idle, self._backlog
        while job is not None:
            try:
                value, ok = job.context.run(job.call), True
            except StopIteration as exc:  # a future refuses it (the caller would never hear back): as asyncio
                value, ok = RuntimeError("StopIteration 从工作线程中抛出 (raised in a worker thread)"), False
                value.__cause__ = exc
            except BaseException as exc:  # the caller's to raise, whatever it is
                value, ok = exc, False
            done = job
            # idle (or on to the backlog) before the caller hears back: its next call, sent the moment it does,
            # comes to this thread again
            with lock:
                if backlog:
                    job = backlog.popleft()
                elif self._closed:
                    job = None
                else:
                    job = _IDLE
                    idle.append(slot)
            with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting
                done.loop.call_soon_threadsafe(done.settle, ok, value)
            del done, value
            if job is _IDLE:
                slot.wake.acquire()
                job, slot.job = slot.job, None


class Busy(Conflict):
    """The database stayed locked by another writer (SQLite, e.g. a large import's final merge) for longer than the
    busy timeout: nothing was written; the same request can simply be sent again."""

    code = "busy"

    def __init__(self) -> None:
        super().__init__(f"数据库正忙（另一项写入仍在进行，已等待 {BUSY_TIMEOUT_MS // 1000} 秒），"
                         "本次未做任何修改，请稍后重试 (database busy: nothing was changed; retry)", code="busy")


def is_busy(exc: sa.exc.OperationalError) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY, SQLITE_LOCKED)."""
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def conflict_from(exc: sa.exc.IntegrityError) -> Conflict:
    """A uniqueness or reference violation that slipped past the domain's checks (two people acting at the same
    moment) becomes a Conflict the caller can act on, instead of a server error."""
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return Conflict("这条记录刚被他人同时创建或修改，请刷新后重试 "
                        "(the record was just created or changed by someone else; reload and try again)",
                        code="conflict")
    return Conflict(f"数据完整性冲突，请刷新后重试 (integrity conflict: {type(exc.orig).__name__})", code="conflict")


@contextmanager
def settled(session: Session, mode: Mode = "commit") -> Iterator[Session]:
    """End the work done on `session` inside the block as `mode` says; the one place errors are mapped."""
    if mode not in MODES:
        raise ValueError(f"unknown unit-of-work mode {mode!r}")
    try:
        yield session
        if mode == "commit":
            session.commit()
        elif mode == "dry_run":
            session.flush()
            session.rollback()
    except sa.exc.IntegrityError as exc:
        session.rollback()
        raise conflict_from(exc) from exc
    except sa.exc.OperationalError as exc:
        session.rollback()
        if is_busy(exc):
            raise Busy() from exc
        raise
    except BaseException:
        if mode != "read":  # a failed read leaves nothing to undo; other readers' objects stay loaded
            session.rollback()
        raise


# On a session from `Database.read_session` (PostgreSQL): the transactional engine its first change moves it to
_TRANSACTIONAL_BIND = "regwatch_transactional_bind"


def leave_autocommit(session: Session) -> None:
    """Before a change on a session that so far only read in autocommit (`Database.read_session`): end its use of
    the autocommit connection (nothing to commit, each statement committed itself: no round trip) and bind it to
    the transactional engine, so the change and everything after it run in transactions as usual. Objects already
    loaded stay in the session (expire_on_commit is off)."""
    bind = session.info.pop(_TRANSACTIONAL_BIND, None)
    if bind is not None:
        session.commit()
        session.bind = bind


def call_in(session: Session, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any],
            mode: Mode = "commit") -> T:
    """`fn(session, *args, **kwargs)` settled as `mode` (a plain function, so it can run in a worker thread)."""
    if mode != "read":
        leave_autocommit(session)
    with settled(session, mode):
        return fn(session, *args, **kwargs)


def sync_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def async_url(url: str) -> str:
    url = sync_url(url)
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.split(":", 1)[1]
    return url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # aiosqlite wraps the sqlite3 connection; both expose cursor().execute synchronously here
    cursor = dbapi_connection.cursor()
    for name, value in SQLITE_PRAGMAS.items():
        cursor.execute(f"PRAGMA {name}={value}")
    cursor.close()


# A pooled connection idle for longer than this is pinged before it is handed out; one back from use more recently
# is handed out as it is (a dead one then fails its first statement, which invalidates the pool: see `_configure`).
PING_AFTER_IDLE_S = 5.0
_CHECKED_IN_AT = "regwatch_checked_in_at"


def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN_AT] = time.monotonic()


def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pessimistic disconnect handling, only for a connection that sat idle: `pool_pre_ping` pings on every
    checkout, one round trip (and its Python) per request on a busy server whose connections were all in use a
    moment ago. A failed ping raises DisconnectionError, so the pool replaces the connection (and retries)."""
    idle_since = record.info.get(_CHECKED_IN_AT)
    if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return
    try:
        _ping(dbapi_connection)
    except Exception as exc:  # the server went away, or restarted, while the connection sat in the pool
        raise sa.exc.DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def _ping(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()
    dbapi_connection.rollback()  # hand it out idle, as the pool returned it (autocommit can only be set then)


def _configure(sync_engine: sa.Engine, *, ping_idle: bool = False) -> None:
    if sync_engine.dialect.name == "sqlite":
        sa.event.listen(sync_engine, "connect", _on_sqlite_connect)
    elif ping_idle:
        sa.event.listen(sync_engine, "checkin", _on_checkin)
        sa.event.listen(sync_engine, "checkout", _on_checkout)


def sqlite_pragmas(connection: sa.Connection) -> dict[str, Any]:
    """The pragmas in force on a SQLite connection, read back from the database."""
    return {
        name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in SQLITE_PRAGMAS
    }


class Database:
    """One database: a sync engine (CLI, jobs, bulk paths) and an async one (requests)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 10}
        else:
            # liveness: a ping after idle (`_on_checkout`) instead of `pool_pre_ping` on every checkout; a connection
            # that dies in use fails its statement and SQLAlchemy invalidates the pool's older connections
            kwargs.update(pool_size=10, max_overflow=10, pool_recycle=1800)
            # sessions in UTC whatever the server's TimeZone: timestamps arrive as UTC-aware values that
            # UTCDateTime passes through as they are (no conversion per value), and nothing implicit in SQL
            # depends on where the server is (local days are computed explicitly, with LOCAL_TZ)
            given = sa.engine.make_url(sync_url(url)).query.get("options")
            kwargs["connect_args"] = {"options": " ".join([*([str(given)] if given else []), "-c TimeZone=UTC"])}
        self.engine = sa.create_engine(sync_url(url), **kwargs)
        _configure(self.engine, ping_idle=True)
        self._async_engine: AsyncEngine | None = None  # health probes and the schema guard only
        # `read_session`'s on PostgreSQL: a pool of its own whose connections stay in autocommit. A session on
        # `engine.execution_options(isolation_level="AUTOCOMMIT")` (the same pool) had SQLAlchemy switch each
        # connection to autocommit when it was checked out and back when it was returned, and merge that option
        # into every statement's: ~60 µs of a GraphQL list request's ~1.5 ms (in-process CPU, bench.api's entities
        # list). Made here, before any listener asks for `sync_engines`; it connects on first use only.
        self._autocommit_engine: sa.Engine | None = None
        if not url.startswith("sqlite"):
            self._autocommit_engine = sa.create_engine(sync_url(url), isolation_level="AUTOCOMMIT", **kwargs)
            _configure(self._autocommit_engine, ping_idle=True)
        self._kwargs = kwargs
        # Worker threads for request work: no more at once than the connection pool can serve. A pool of our own
        # (`_WorkerPool`; anyio's to_thread, with its capacity limiter and checkpoints, cost ~25 µs more a hop than
        # ThreadPoolExecutor, which cost ~35 µs more than this pool)
        self._workers = 20 if self.engine.dialect.name != "sqlite" else 15
        self._executor: _WorkerPool | None = None
        # `read_session` inside `inline_work`: each worker thread keeps one autocommit connection checked out
        # between the requests it serves (`_held_connection`)
        self._held = threading.local()
        self._held_connections: set[sa.Connection] = set()
        self._held_lock = threading.Lock()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @property
    def sync_engines(self) -> tuple[sa.Engine, ...]:
        """Every sync engine of this database: the transactional one, then (PostgreSQL) `read_session`'s
        autocommit one — where a listener for every statement this process sends must be registered."""
        if self._autocommit_engine is None:
            return (self.engine,)
        return (self.engine, self._autocommit_engine)

    @property
    def async_engine(self) -> AsyncEngine:
        if self._async_engine is None:
            # health probes and the schema guard: rare, so every checkout is pinged
            extra = {} if self.url.startswith("sqlite") else {"pool_pre_ping": True}
            self._async_engine = create_async_engine(async_url(self.url), **self._kwargs, **extra)
            _configure(self._async_engine.sync_engine)
        return self._async_engine

    def session(self) -> Session:
        """A plain sync session on this database (the caller settles it, e.g. with `settled`)."""
        return Session(self.engine, expire_on_commit=False)

    def read_session(self) -> Session:
        """A session for a request that mostly reads (GraphQL over HTTP): on PostgreSQL its reads run in autocommit,
        so a request pays no BEGIN and no ROLLBACK round trip around them (each statement sees what was committed
        when it started, as it does in a READ COMMITTED transaction); its first change (`call_in` in "commit" or
        "dry_run" mode) moves it to transactions (`leave_autocommit`). SQLite: a plain session."""
        if self._autocommit_engine is None:  # SQLite
            return self.session()
        if _INLINE.get():  # the whole request runs in this thread: on the thread's own connection
            # the session joins the connection's (SQLAlchemy-only) transaction and leaves it as it is on close
            session = Session(self._held_connection(), expire_on_commit=False, join_transaction_mode="rollback_only")
        else:
            session = Session(self._autocommit_engine, expire_on_commit=False)
        session.info[_TRANSACTIONAL_BIND] = self.engine
        return session

    def _held_connection(self) -> sa.Connection:
        """This thread's autocommit connection, kept checked out between the requests the thread serves: a
        GraphQL request's session then costs no pool checkout and checkin, no Connection made and closed, and no
        SQLAlchemy transaction begun and ended (~75 µs of a request's CPU measured alone, ~3× that inside a
        request). It is in autocommit, so between requests it holds no transaction and no locks on the server.
        As in the pool: pinged before use once it sat idle for PING_AFTER_IDLE_S, and replaced when the ping fails
        or a statement on it found the server gone (SQLAlchemy invalidates it then). `dispose` returns them all."""
        assert self._autocommit_engine is not None
        held = self._held
        connection: sa.Connection | None = getattr(held, "connection", None)
        now = time.monotonic()
        if connection is not None:
            if connection.invalidated or connection.closed:
                self._release_held(connection)
                connection = None
            elif now - held.used_at >= PING_AFTER_IDLE_S:
                try:
                    _ping(connection.connection.dbapi_connection)
                except Exception as exc:  # the server went away while the thread was idle
                    connection.invalidate(exc)
                    self._release_held(connection)
                    connection = None
        if connection is None:
            connection = self._autocommit_engine.connect()  # the pool pings one that sat idle in it
            with self._held_lock:
                self._held_connections.add(connection)
            held.connection = connection
        if not connection.in_transaction():  # new, or a session's rollback ended it
            connection.begin()
        held.used_at = now
        return connection

    def _release_held(self, connection: sa.Connection) -> None:
        with self._held_lock:
            self._held_connections.discard(connection)
        self._held.connection = None
        with contextlib.suppress(Exception):  # a dead connection: the pool has dropped it already
            connection.close()

    @contextmanager
    def unit_of_work(self, mode: Mode = "commit") -> Iterator[Session]:
        """A session whose work ends as `mode` says: committed together, only read, or validated and undone."""
        with self.session() as session, settled(session, mode):
            yield session

    async def run(self, fn: Callable[..., T], *args: Any, work: Mode = "commit", **kwargs: Any) -> T:
        """Run a sync domain function in its own unit of work, in a worker thread (never on the event loop)."""
        if _INLINE.get():
            return self._run_now(fn, args, kwargs, work)
        return await self._to_thread(functools.partial(self._run_now, fn, args, kwargs, work))

    def _run_now(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], mode: Mode) -> T:
        with self.session() as session:
            return call_in(session, fn, args, kwargs, mode)

    async def run_in(self, session: Session, fn: Callable[..., T], *args: Any, work: Mode = "commit",
                     **kwargs: Any) -> T:
        """Run a sync domain function on a session the caller keeps open (GraphQL: one per request), in a
        worker thread; the caller makes sure no two calls use the session at once."""
        if _INLINE.get():
            return call_in(session, fn, args, kwargs, work)
        return await self._to_thread(functools.partial(call_in, session, fn, args, kwargs, work))

    async def in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread of this database's pool (a whole request's work: one hop)."""
        return await self._to_thread(functools.partial(fn, *args))

    async def _to_thread(self, call: Callable[[], T]) -> T:
        """`call()` in one of this database's worker threads, with the caller's context variables. A cancelled
        caller waits for the call to end before it goes on (the call may be committing, and the caller's cleanup
        closes the session the call is using), then is cancelled: as anyio's `to_thread.run_sync` does."""
        if self._executor is None:
            self._executor = _WorkerPool(self._workers, "regwatch-db")
        loop = asyncio.get_running_loop()
        job = _Job(contextvars.copy_context(), call, loop, loop.create_future())
        self._executor.submit(job)
        try:
            return await job.waiter  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            if not job.ended:  # the call goes on in its thread: wait for it to end, cancelled again or not
                job.finished = finished = loop.create_future()
                while not finished.done():
                    try:
                        await asyncio.wait([finished])
                    except asyncio.CancelledError:
                        continue
            raise

    def dispose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None
        with self._held_lock:
            held, self._held_connections = self._held_connections, set()
        for connection in held:  # the worker threads' own connections (`_held_connection`) back to their pool
            with contextlib.suppress(Exception):
                connection.close()
        for engine in self.sync_engines:
            engine.dispose()

    async def adispose(self) -> None:
        if self._async_engine is not None:
            await self._async_engine.dispose()
        self.dispose()
