"""Engines, sessions and the unit of work. Sync sessions for CLI and jobs; async ones on request paths.

Domain functions take a plain `Session`; request handlers reach them through
`AsyncSession.run_sync`, so each business rule is written once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import Session, SQLModel

from domain.errors import Conflict

__all__ = [
    "NAMING_CONVENTION",
    "Database",
    "async_url",
    "conflict_from",
    "sqlite_pragmas",
    "sync_url",
]

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10000,
    "foreign_keys": 1,
    "synchronous": 1,  # NORMAL
}


def conflict_from(exc: sa.exc.IntegrityError) -> Conflict:
    """A uniqueness or reference violation that slipped past the domain's checks (two people acting at the same
    moment) becomes a Conflict the caller can act on, instead of a server error."""
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return Conflict("这条记录刚被他人同时创建或修改，请刷新后重试 "
                        "(the record was just created or changed by someone else; reload and try again)",
                        code="conflict")
    return Conflict(f"数据完整性冲突，请刷新后重试 (integrity conflict: {type(exc.orig).__name__})", code="conflict")


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
        self._async_engine: AsyncEngine | None = None
        self._async_maker: async_sessionmaker[AsyncSession] | None = None
        self._kwargs = kwargs

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @property
    def async_engine(self) -> AsyncEngine:
        if self._async_engine is None:
            self._async_engine = create_async_engine(async_url(self.url), **self._kwargs)
            _configure(self._async_engine.sync_engine)
        return self._async_engine

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work commits together at the end, or not at all."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except sa.exc.IntegrityError as exc:
                session.rollback()
                raise conflict_from(exc) from exc
            except BaseException:
                session.rollback()
                raise

    def async_session(self) -> AsyncSession:
        if self._async_maker is None:
            self._async_maker = async_sessionmaker(
                self.async_engine, expire_on_commit=False, sync_session_class=Session)
        return self._async_maker()

    @asynccontextmanager
    async def async_unit_of_work(self) -> AsyncIterator[AsyncSession]:
        async with self.async_session() as session:
            try:
                yield session
                await session.commit()
            except sa.exc.IntegrityError as exc:
                await session.rollback()
                raise conflict_from(exc) from exc
            except BaseException:
                await session.rollback()
                raise

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a sync domain function inside one async unit of work."""
        async with self.async_unit_of_work() as session:
            return await session.run_sync(lambda s: fn(s, *args, **kwargs))

    def dispose(self) -> None:
        self.engine.dispose()

    async def adispose(self) -> None:
        if self._async_engine is not None:
            await self._async_engine.dispose()
        self.engine.dispose()
