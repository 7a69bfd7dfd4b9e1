"""Test helpers shared across features: throwaway databases, table cleaning, statement counting."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from domain.db import Database
from domain.tables import metadata

__all__ = [
    "KEEP_TABLES",
    "PG_ADMIN_URL",
    "backend",
    "clean_tables",
    "count_statements",
    "create_database",
    "drop_database",
    "pg_available",
]

PG_ADMIN_URL = os.environ.get("REGWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Reference data loaded by migrations survives between tests.
KEEP_TABLES = {"alembic_version", "region", "industry"}


def backend() -> str:
    return os.environ.get("REGWATCH_TEST_BACKEND", "sqlite")


def pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
                                  connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _admin_engine(admin_url: str) -> sa.Engine:
    return sa.create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")


def create_database(tmp_dir: Path, label: str = "t", *, backend: str | None = None,
                    admin_url: str = PG_ADMIN_URL) -> str:
    """A fresh empty database on the backend under test (or the one given); returns its URL."""
    if (backend or globals()["backend"]()) == "sqlite":
        return f"sqlite:///{tmp_dir / f'regwatch_{label}_{uuid.uuid4().hex[:6]}.db'}"
    name = f"regwatch_test_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str, *, admin_url: str = PG_ADMIN_URL) -> None:
    if url.startswith("sqlite"):
        return
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    admin.dispose()


def clean_tables(db: Database) -> None:
    """Empty every table but reference data, so each test starts from the migrated, empty state."""
    tables = [t for t in reversed(metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            conn.commit()
        else:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for table in tables:
                conn.execute(table.delete())
            if conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'").first():
                conn.exec_driver_sql("DELETE FROM sqlite_sequence")
            # The pragma is a no-op inside the open transaction: end it first, or the pooled
            # connection keeps foreign keys off for every later test.
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextlib.contextmanager
def count_statements(db: Database) -> Iterator[StatementCounter]:
    """Count SQL statements sent by both engines of `db` inside the block."""
    counter = StatementCounter()

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            counter.statements.append(statement)

    engines = [*db.sync_engines, db.async_engine.sync_engine]
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield counter
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", listener)


def explain(db: Database, session: Any, run: Callable[[Any], object], *, table: str | None = None) -> list[str]:
    """The plan of every SELECT that `run(session)` sends (only those reading FROM `table`, when given), with the same
    parameters: EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite."""
    sent: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and (table is None or f"FROM {table}" in statement):
            sent.append((statement, parameters))

    for engine in db.sync_engines:
        sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        run(session)
    finally:
        for engine in db.sync_engines:
            sa.event.remove(engine, "before_cursor_execute", listener)
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return ["\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
                for sql, params in sent]
    return ["\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params)) for sql, params in sent]
