"""The rows of a SELECT that a process builds once and runs again and again, read on the driver's cursor.

A list's page statement (`domain.pagination`'s templates) and the nested entity's windows are built once per shape
and then executed with new values on every request. Each execution through `Connection.execute` still pays for
SQLAlchemy's generic path: the statement's cache key walked again to find its compiled form, an execution context,
the driver's `cursor.description` turned into one `Column` object per column (58 for the nested entity's UNION),
result metadata and a `Row` per row — 70–300 µs of a 1.5–3 ms list request (in-process CPU, bench.api), as much as
psycopg's own work for the statement. `fetch_fixed` keeps, per statement object, what SQLAlchemy would work out
for it every time (the SQL text, the bind processors, the result processors of its columns, its keys) and runs it
on the connection's psycopg cursor:

* values go through `Compiled.construct_params` and the compiled bind processors (e.g. `UTCDateTime`'s), IN lists
  are expanded into the SQL, and names escaped, as `DefaultExecutionContext._init_compiled` does it (the compiled
  object's own helpers: `_bind_processors`, `_process_parameters_for_postcompile`, `_result_columns`);
* rows come back as the driver's tuples, through the result processors of the statement's column types where
  there are any (one generated function for the whole page; none at all when no column has one);
* `before_cursor_execute` / `after_cursor_execute` listeners are called as SQLAlchemy calls them (statement
  counters and EXPLAIN helpers see these statements as before);
* a driver error is raised as SQLAlchemy's `DBAPIError` of the same kind, and a lost connection is invalidated.

Anything else — another driver (SQLite), a positional paramstyle, a statement that is not a SELECT, one whose
compiled columns do not match the cursor's — is executed by SQLAlchemy as before (`connection.execute`).
REGWATCH_FIXED_ROWS=0 at import sends everything through SQLAlchemy, for measuring."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa

__all__ = ["ENABLED", "fetch_fixed"]

ENABLED = os.environ.get("REGWATCH_FIXED_ROWS", "1") != "0"
_MAX = 512


class _Fixed:
    """One statement compiled for one dialect: its SQL, bind processors and (after its first run) row converter."""

    __slots__ = ("bind_procs", "compiled", "convert", "escaped", "expanding", "keys", "ready", "sql", "statement",
                 "types")

    def __init__(self, statement: Any, compiled: Any, dialect: Any) -> None:
        self.statement = statement  # kept alive with its entry, so its id is not reused while the entry lives
        self.compiled = compiled
        self.sql: str = compiled.string
        self.escaped: dict[str, str] = dict(compiled.escaped_bind_names or {})
        self.bind_procs: dict[str, Callable[[Any], Any]] = dict(compiled._bind_processors)  # by unescaped name
        # IN lists (expanding) and literal-execute values: the SQL is rendered for the values, as SQLAlchemy does
        self.expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
        columns = compiled._result_columns  # what SQLAlchemy's own result metadata is made of
        self.types = tuple(c.type for c in columns)
        self.keys: tuple[str, ...] = tuple(c.keyname for c in columns)
        self.convert: Callable[[Sequence[Any]], list[Any]] | None = None
        self.ready = False  # the converter is known once the cursor has described the columns

    def prepared(self, params: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """The SQL and the driver's values for `params`, as `DefaultExecutionContext._init_compiled` makes them."""
        compiled = self.compiled
        values = compiled.construct_params(params, escape_names=False)
        sql, procs = self.sql, self.bind_procs
        if self.expanding:
            state = compiled._process_parameters_for_postcompile(values)  # expands `values` in place
            sql, procs = state.statement, {**procs, **state.processors}
        escaped = self.escaped
        return sql, {escaped.get(k, k): (procs[k](v) if k in procs else v) for k, v in values.items()}

    def learn(self, description: Sequence[Any], dialect: Any) -> bool:
        """The row converter from the cursor's column types; False when the columns are not the compiled ones."""
        if description is None or len(description) != len(self.types):
            return False
        procs = [t.dialect_impl(dialect).result_processor(dialect, d[1]) for t, d in zip(self.types, description,
                                                                                          strict=True)]
        if any(procs):
            namespace: dict[str, Any] = {f"p{i}": p for i, p in enumerate(procs) if p is not None}
            parts = ", ".join(f"p{i}(r[{i}])" if p is not None else f"r[{i}]" for i, p in enumerate(procs))
            if all(getattr(p, "keeps_utc", False) for p in procs if p is not None):
                # only timestamps whose processor returns None and UTC values as they are (`UTCDateTime`; the
                # engine's sessions are in UTC): a row whose timestamps are all such is kept as the driver made it,
                # instead of being copied into a new tuple (61 rows of 58 values for the nested entity's UNION)
                namespace["UTC"] = UTC
                kept = " and ".join(f"(r[{i}] is None or r[{i}].tzinfo is UTC)"
                                    for i, p in enumerate(procs) if p is not None)
                self.convert = eval(f"lambda rows: [r if {kept} else ({parts},) for r in rows]", namespace)
            else:
                self.convert = eval(f"lambda rows: [({parts},) for r in rows]", namespace)
        self.ready = True
        return True


_CACHE: dict[tuple[int, str], _Fixed | None] = {}  # (id of the statement, dialect) -> entry; None: SQLAlchemy's
_LOCK = threading.Lock()


def _entry(statement: Any, dialect: Any) -> _Fixed | None:
    key = (id(statement), dialect.name)
    if key in _CACHE:
        found = _CACHE[key]
        if found is None or found.statement is statement:
            return found
    entry: _Fixed | None = None
    try:
        compiled = statement.compile(dialect=dialect)
        plain = not compiled.positional and not (compiled.isinsert or compiled.isupdate or compiled.isdelete)
        if plain:
            entry = _Fixed(statement, compiled, dialect)
    except Exception:  # whatever SQLAlchemy's own path makes of it
        entry = None
    with _LOCK:
        if len(_CACHE) >= _MAX:
            _CACHE.clear()
        # a statement SQLAlchemy's path keeps is still kept alive by the caller; a None entry holds no statement, so
        # it is dropped when its id could be another statement's (a miss on a dead id only compiles again)
        _CACHE[key] = entry
    return entry


_CURSORS = "regwatch_fixed_cursors"  # key in a DBAPI connection's info: id(entry) -> its cursor there
_CURSORS_MAX = 128


def _cursor(fairy: Any, entry: _Fixed) -> Any:
    """The DBAPI connection's cursor for this statement, kept between runs: psycopg keeps a cursor's transformer
    (its loaders and dumpers) when the same SQL string runs on it again, instead of making two transformers and a
    loader per column on every run (~60 µs of the nested entity's ~375 µs execute-and-fetch). A cursor holds its
    last result (a page) until it runs again; the DBAPI connection's info lives and dies with the connection."""
    cursors = fairy.info.get(_CURSORS)
    if cursors is None:
        cursors = fairy.info[_CURSORS] = {}
    cursor = cursors.get(id(entry))
    if cursor is None or cursor.closed:
        if len(cursors) >= _CURSORS_MAX:
            for kept in cursors.values():
                kept.close()
            cursors.clear()
        cursor = cursors[id(entry)] = fairy.cursor()
    return cursor


def _drop_cursor(fairy: Any, entry: _Fixed, cursor: Any) -> None:
    cursors = fairy.info.get(_CURSORS) or {}
    if cursors.get(id(entry)) is cursor:
        del cursors[id(entry)]
    with contextlib.suppress(Exception):
        cursor.close()


def fetch_fixed(connection: sa.Connection, statement: Any, params: dict[str, Any] | None
                ) -> tuple[Sequence[Any], tuple[str, ...]]:
    """The rows of `statement` (a SELECT the caller keeps and runs again) with `params`, and their keys: plain
    tuples, or SQLAlchemy's rows where it runs the statement itself (same values, same positions)."""
    dialect = connection.dialect
    entry = _entry(statement, dialect) if ENABLED and dialect.driver == "psycopg" else None
    if entry is None:
        result = connection.execute(statement, params)
        return result.fetchall(), tuple(result.keys())
    sql, values = entry.prepared(params)
    if not connection.in_transaction():
        connection.begin()  # as `execute` would autobegin (a session's connection is begun already)
    fairy = connection.connection
    cursor = _cursor(fairy, entry)
    dispatch = connection.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, sql, values, None, False)
        try:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
            if not entry.ready and not entry.learn(cursor.description, dialect):
                with _LOCK:
                    _CACHE[(id(statement), dialect.name)] = None
                result = connection.execute(statement, params)  # not what it was compiled to: SQLAlchemy's
                return result.fetchall(), tuple(result.keys())
        except dialect.loaded_dbapi.Error as exc:
            lost = dialect.is_disconnect(exc, fairy.dbapi_connection, cursor)
            if lost:
                connection.invalidate(exc)
            raise sa.exc.DBAPIError.instance(sql, values, exc, dialect.loaded_dbapi.Error,
                                             connection_invalidated=lost, dialect=dialect) from exc
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
    except BaseException:
        _drop_cursor(fairy, entry, cursor)  # its state is not known: the next run gets a new one
        raise
    convert = entry.convert
    return (convert(rows) if convert is not None else rows), entry.keys
