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

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread
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


def call_in(session: Session, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any],
            mode: Mode = "commit") -> T:
    """`fn(session, *args, **kwargs)` settled as `mode` (a plain function, so it can run in a worker thread)."""
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


def _configure(sync_engine: sa.Engine) -> None:
    if sync_engine.dialect.name == "sqlite":
        sa.event.listen(sync_engine, "connect", _on_sqlite_connect)


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
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
        self.engine = sa.create_engine(sync_url(url), **kwargs)
        _configure(self.engine)
        self._async_engine: AsyncEngine | None = None  # health probes and the schema guard only
        self._kwargs = kwargs
        # Worker threads for request work: no more at once than the connection pool can serve.
        self._threads = anyio.CapacityLimiter(20 if self.engine.dialect.name != "sqlite" else 15)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @property
    def async_engine(self) -> AsyncEngine:
        if self._async_engine is None:
            self._async_engine = create_async_engine(async_url(self.url), **self._kwargs)
            _configure(self._async_engine.sync_engine)
        return self._async_engine

    def session(self) -> Session:
        """A plain sync session on this database (the caller settles it, e.g. with `settled`)."""
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self, mode: Mode = "commit") -> Iterator[Session]:
        """A session whose work ends as `mode` says: committed together, only read, or validated and undone."""
        with self.session() as session, settled(session, mode):
            yield session

    async def run(self, fn: Callable[..., T], *args: Any, work: Mode = "commit", **kwargs: Any) -> T:
        """Run a sync domain function in its own unit of work, in a worker thread (never on the event loop)."""
        if _INLINE.get():
            return self._run_now(fn, args, kwargs, work)
        return await anyio.to_thread.run_sync(
            functools.partial(self._run_now, fn, args, kwargs, work), limiter=self._threads)

    def _run_now(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], mode: Mode) -> T:
        with self.session() as session:
            return call_in(session, fn, args, kwargs, mode)

    async def run_in(self, session: Session, fn: Callable[..., T], *args: Any, work: Mode = "commit",
                     **kwargs: Any) -> T:
        """Run a sync domain function on a session the caller keeps open (GraphQL: one per request), in a
        worker thread; the caller makes sure no two calls use the session at once."""
        if _INLINE.get():
            return call_in(session, fn, args, kwargs, work)
        return await anyio.to_thread.run_sync(
            functools.partial(call_in, session, fn, args, kwargs, work), limiter=self._threads)

    async def in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread of this database's pool (a whole request's work: one hop)."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=self._threads)

    def dispose(self) -> None:
        self.engine.dispose()

    async def adispose(self) -> None:
        if self._async_engine is not None:
            await self._async_engine.dispose()
        self.engine.dispose()
