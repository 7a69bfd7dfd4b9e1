"""One way to page through a list: choose the window on the base table, join after, count on demand.

Every list (GraphQL connections and pages alike) goes through :func:`select_page`:

1. **The window is chosen on the base table alone.** ``stmt`` selects one ORM entity (``select(SupervisionAction)``)
   with the list's filters and only the joins a filter needs (better: filter codes through scalar subqueries,
   ``SupervisionAction.department_id == select(Department.id).where(Department.code == code).scalar_subquery()``,
   so the planner walks the index). ``order_by`` is the list's order, ending in a unique column (``id``); the
   statement gets that ORDER BY, the cursor predicate and ``LIMIT n + 1`` — an index on ``(filter columns,
   order columns)`` serves it without sorting the matching rows.
   Add that index in a migration, and an EXPLAIN test beside ``tests/api/test_lists.py``'s.
2. **The page's rows are then joined to what the page shows**: ``load(rows)`` gets the (at most ``n``) base rows
   and returns the items, with one batched query per relation or one join on the page's ids — never a join over
   every matching row. :func:`by_id` helps with the batched lookup. Or ``join=`` names the page in the window's
   own statement: ``join(page)`` gets the LIMITed window as an alias of the entity and returns
   ``select(page, Department.name, ...).join(Department, Department.id == page.department_id)`` (one statement;
   ``list_actions`` does this); ``load`` then gets those rows as tuples.
3. **The total is counted only when asked** (``PageRequest(count=True)``; GraphQL sets it from the selection,
   see ``api.pagination.page_request``; pages when they show it), with ``stmt``'s filters and joins only, as a
   scalar subquery of the window's own statement (a separate count only when the window is empty).
4. **Cursors are opaque keyset cursors** (the order key values of the row, base64url JSON) when every order
   column is a plain NOT NULL column of the entity, so page 300 costs what page 1 costs and rows inserted between
   two requests neither repeat nor vanish. Otherwise the list pages by offset (the cursors are offsets). An integer
   ``after``/``before`` (``PageRequest(first=20, after=39)``, the pages' ``?page=3``) is an offset window on either
   kind of list; old offset cursors keep working.

Usage (a list of actions with their department's name: two statements, the total riding on the first)::

    def list_actions(session, actor, page: PageRequest, *, department_code=None, max_size=200) -> Page[ActionRow]:
        stmt = scope_to_department(select(SupervisionAction), actor, SupervisionAction.department_id)
        if department_code:
            stmt = stmt.where(SupervisionAction.department_id == select(Department.id)
                              .where(Department.code == department_code).scalar_subquery())

        def load(actions: list[SupervisionAction]) -> list[ActionRow]:
            departments = by_id(session, Department, {a.department_id for a in actions})
            return [ActionRow(a, departments[a.department_id].name) for a in actions]

        return select_page(session, stmt, page, max_size=max_size, load=load,
                           order_by=(SupervisionAction.started_on.desc(), SupervisionAction.id.desc()))

and in GraphQL ``build_connection(page, ActionType.build)`` with ``page_request(first, after, last, before,
info=info)``; ``page.cursors[i]`` is the opaque cursor of ``page.items[i]``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import operator
import zlib
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Bundle, aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import Session

from domain.errors import InvalidInput
from domain.fixed_rows import fetch_fixed

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "Keyset",
    "Made",
    "Page",
    "PageRequest",
    "by_id",
    "count_rows",
    "decode_cursor",
    "encode_cursor",
    "page_record",
    "record_type",
    "select_page",
    "shared_statement",
]

T = TypeVar("T")
U = TypeVar("U")
DEFAULT_PAGE_SIZE = 50
_OFFSET_PREFIX = "cursor:"
_KEYSET_PREFIX = "k:"


class Keyset(tuple):  # type: ignore[type-arg]
    """A decoded keyset cursor: the order key values of the row a window starts after / ends before."""


Position = int | Keyset  # an offset (of the row) or that row's keys


@dataclass(frozen=True)
class PageRequest:
    """A window as Relay asks for it. ``after``/``before`` are offsets (int) or decoded keyset cursors;
    ``count`` says whether the caller shows the total (``Page.total`` is None when not)."""

    first: int | None = None
    after: Position | None = None  # the window starts after this row
    last: int | None = None
    before: Position | None = None  # the window ends before this row
    count: bool = True

    def validate(self, max_size: int) -> None:
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and value < 0:
                raise InvalidInput(f"分页参数 {name} 为 {value}，不能为负数", field=name, code="page_size_negative")
            if value is not None and value > max_size:
                raise InvalidInput(f"分页参数 {name} 为 {value}，超过每页上限 {max_size}；请分多页读取",
                                   field=name, code="page_size_too_large")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int | None  # None when the request did not ask for it
    offset: int | None  # offset of items[0] when known (offset windows)
    has_next: bool
    has_previous: bool
    # each item's order key values (keyset lists; empty: the cursors are offset + i), encoded only when a cursor
    # is asked for: most pages show none, and encoding 50 of them cost more than the window's statement
    keysets: list[Sequence[Any]] = field(default_factory=list)

    def cursor(self, index: int) -> str:
        if self.keysets:
            return encode_cursor(self.keysets[index])
        return encode_cursor((self.offset or 0) + index)

    @property
    def cursors(self) -> list[str]:
        """The opaque cursor of each item."""
        return [self.cursor(i) for i in range(len(self.items))]

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        """The same window with each item converted."""
        return Page([fn(item) for item in self.items], self.total, self.offset, self.has_next,  # type: ignore[arg-type]
                    self.has_previous, self.keysets)


# --- cursors -------------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(position: Position | Sequence[Any]) -> str:
    """An opaque cursor for an offset or a row's order key values."""
    if isinstance(position, bool) or not isinstance(position, int | Sequence):
        raise TypeError(f"a cursor is an offset or a row's key values, not {position!r}")
    if isinstance(position, int):
        text = f"{_OFFSET_PREFIX}{position}"
    else:
        text = _KEYSET_PREFIX + json.dumps([_plain(v) for v in position], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, field: str = "after") -> Position | None:
    """The offset or keyset a cursor stands for; a specific error for anything this API did not give out."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        if text.startswith(_OFFSET_PREFIX):
            offset = int(text[len(_OFFSET_PREFIX):])
            if offset < 0:
                raise ValueError
            return offset
        if text.startswith(_KEYSET_PREFIX):
            values = json.loads(text[len(_KEYSET_PREFIX):])
            if not isinstance(values, list) or not values:
                raise ValueError
            return Keyset(values)
        raise ValueError
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidInput(f"{field} 不是本接口给出的游标（“{cursor[:40]}”）", field=field, code="bad_cursor") from exc


# --- order keys ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Key:
    expr: Any  # the column expression
    descending: bool
    attr: str | None  # attribute on the entity holding the value, when keyset-able
    python_type: type | None
    table: str | None = None  # the column's table
    # the ORDER BY clauses in the list's order and reversed, built once (see `_Order`)
    forward: Any = field(init=False, repr=False, compare=False)
    backward: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        up, down = self.expr.asc(), self.expr.desc()
        object.__setattr__(self, "forward", down if self.descending else up)
        object.__setattr__(self, "backward", up if self.descending else down)

    def ordered(self, reverse: bool) -> Any:
        return self.backward if reverse else self.forward


def _keys(order_by: Sequence[Any]) -> list[_Key]:
    keys: list[_Key] = []
    for item in order_by:
        expr, descending = _split(item)
        column = getattr(expr, "expression", expr)  # an ORM attribute's column
        attr = None
        python_type: type | None = None
        if isinstance(column, sa.Column) or isinstance(getattr(column, "table", None), sa.Table):
            if isinstance(column, sa.ColumnElement) and getattr(column, "nullable", True) is False:
                attr = column.key
            try:
                python_type = column.type.python_type
            except NotImplementedError:
                python_type = None
        table = getattr(getattr(column, "table", None), "name", None)
        keys.append(_Key(expr, descending, attr, python_type, table))
    return keys


def _split(item: Any) -> tuple[Any, bool]:
    """An order item as (expression, descending)."""
    if isinstance(item, UnaryExpression) and item.modifier in (operators.desc_op, operators.asc_op):
        return item.element, item.modifier is operators.desc_op
    return item, False


def _tag(keys: Sequence[_Key]) -> int:
    """Which order a keyset cursor belongs to (its first value), so one list's cursor is refused by another."""
    text = ",".join(f"{k.table}.{k.attr}{' desc' if k.descending else ''}" for k in keys)
    return zlib.crc32(text.encode()) & 0xFFFF


@dataclass(frozen=True)
class _Order:
    """A list's `order_by` worked out once: its keys (with their ORDER BY clauses both ways), the cursors' tag and
    the getter of a row's key values. The lists' orders are a handful of constant shapes, rebuilt by most callers
    on every request (``col(Job.id).desc()``) around the same column objects, so `_order` keeps one per shape."""

    keys: tuple[_Key, ...]
    tag: int
    forward: tuple[Any, ...]  # the ORDER BY clauses
    backward: tuple[Any, ...]  # reversed (a backward window)
    values_of: Callable[[Any], Any]  # a row's key values: one value for one key, a tuple for more
    # the keyset windows' statements in this order, by shape (`_keyset_statement`); None: built per request
    shaped: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def clauses(self, reverse: bool) -> tuple[Any, ...]:
        return self.backward if reverse else self.forward


_ORDERS: dict[tuple[tuple[int, bool], ...], _Order] = {}
_ORDERS_MAX = 256


def _order(order_by: Sequence[Any]) -> _Order:
    """`order_by`'s keys, built once per shape: the identity of each item's expression (an ORM attribute or its
    column, the same objects on every request) and its direction. The cached keys hold those expressions, so an
    id in the shape cannot be reused by another object while its entry lives."""
    shape = tuple((id(expr), descending) for expr, descending in map(_split, order_by))
    found = _ORDERS.get(shape)
    if found is None:
        keys = tuple(_keys(order_by))
        found = _Order(keys, _tag(keys), tuple(k.forward for k in keys), tuple(k.backward for k in keys),
                       operator.attrgetter(*[str(k.attr) for k in keys]))
        if len(_ORDERS) >= _ORDERS_MAX:
            _ORDERS.clear()
        _ORDERS[shape] = found
    return found


def _values(position: Position | None) -> Position | None:
    return Keyset(position[1:]) if isinstance(position, Keyset) else position


def _coerce(value: Any, key: _Key, field: str) -> Any:
    try:
        if value is None:
            raise ValueError
        if key.python_type is datetime:
            return datetime.fromisoformat(value)
        if key.python_type is date:
            return date.fromisoformat(value)
        if key.python_type is Decimal:
            return Decimal(value)
        if key.python_type is int and not isinstance(value, int):
            raise ValueError
        if key.python_type is str and not isinstance(value, str):
            raise ValueError
        return value
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidInput(f"{field} 不是这个列表的游标", field=field, code="bad_cursor") from exc


def _seek_bound(keys: Sequence[_Key], values: Sequence[Any], *, later: bool) -> tuple[Any, list[Any]]:
    """Rows strictly later (or earlier) than `values` in the order of `keys`: the clause and its bind parameters,
    one per value in the order of `values` (a value compared twice is the same parameter twice), so a reused
    statement can be given other values (`_keyset_statement`)."""
    bound = [sa.literal(v, k.expr.type) for k, v in zip(keys, values, strict=True)]

    def cmp(key: _Key, value: Any) -> Any:
        return key.expr < value if key.descending == later else key.expr > value

    if len({k.descending for k in keys}) == 1:
        row = sa.tuple_(*(k.expr for k in keys))
        right = sa.tuple_(*bound)
        return ((row < right) if keys[0].descending == later else (row > right)), bound
    clauses = []
    for i, key in enumerate(keys):
        equal = [k.expr == v for k, v in zip(keys[:i], bound[:i], strict=True)]
        clauses.append(sa.and_(*equal, cmp(key, bound[i])))
    first = keys[0]
    leading = first.expr <= bound[0] if first.descending == later else first.expr >= bound[0]
    return sa.and_(leading, sa.or_(*clauses)), bound


# --- records -------------------------------------------------------------------------------------------------

@functools.cache
def record_type(names: tuple[str, ...]) -> Any:
    """A named tuple of these column names: what a list reads from a Core row, by attribute or by position.

    SQLAlchemy 2.1's `Row` answers an attribute by looking the name up in its result metadata, about 0.3 µs each:
    a page of 50 entities read into its GraphQL nodes (13 attributes a row) spent ~180 µs on that alone, as much
    as the statement's own round trip; a named tuple's attribute is a slot read. One class per column list."""
    return namedtuple("Record", names, rename=True)


class Made(Bundle[Any]):
    """Columns as one object per row, `make(*values)` (a dataclass, a `record_type`); None when the first value (the
    id) is null (an outer join that found nothing). Each use has a name of its own: the name is part of the
    statement's cache key. For a `join`'s related rows, and the window's own columns (`page_record`)."""

    def __init__(self, name: str, make: Callable[..., Any], *exprs: Any) -> None:
        super().__init__(name, *exprs)
        self.make = make
        self._last: tuple[tuple[Any, ...], Any] | None = None  # the last procs given and the processor made of them

    def create_row_processor(self, query: Any, procs: Any, labels: Any) -> Any:
        last = self._last  # every execution of a cached statement passes the same getters
        if last is not None and len(last[0]) == len(procs) and all(map(operator.is_, last[0], procs)):
            return last[1]
        made = self._processor(procs)
        self._last = (tuple(procs), made)
        return made

    def _processor(self, procs: Sequence[Any]) -> Callable[[Any], Any]:
        make = self.make
        indexes = _positions(procs)
        if indexes is not None and len(indexes) > 1:
            # the columns' getters are plain positions (SQLAlchemy's `itemgetter(i)`): one C call takes them all
            take, first = operator.itemgetter(*indexes), indexes[0]

            def proc_at(row: Any) -> Any:
                return None if row[first] is None else make(*take(row))

            return proc_at

        def proc(row: Any) -> Any:
            values = [p(row) for p in procs]
            return None if values[0] is None else make(*values)

        return proc


def _positions(procs: Sequence[Any]) -> list[int] | None:
    """The row positions `procs` read, when each is an `operator.itemgetter` of one position (what SQLAlchemy's
    result gives for a plain column); None otherwise."""
    indexes = []
    for proc in procs:
        if type(proc) is not operator.itemgetter:
            return None
        args = proc.__reduce__()[1]
        if len(args) != 1 or type(args[0]) is not int:
            return None
        indexes.append(args[0])
    return indexes


def page_record(name: str, page: Any) -> Any:
    """For a `join`: the window's own columns (`page`, the alias select_page passes) as one record per row, with the
    entity's attribute names, instead of an ORM object (whose construction cost a 50-row page ~0.5 ms)."""
    names = tuple(attr.key for attr in sa.inspect(page).mapper.column_attrs)
    return Made(name, record_type(names), *(getattr(page, n) for n in names))


# --- the window ----------------------------------------------------------------------------------------------

def count_rows(session: Session, stmt: sa.Select[Any]) -> int:
    """Rows matching `stmt` (its filters and joins; order and limit dropped)."""
    return session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()


def by_id(session: Session, model: Any, ids: Iterable[Any], *columns: Any) -> dict[Any, Any]:
    """One batched lookup of `model` rows (or only `columns` of them, as rows) by id, for a page's relations."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    if columns:
        return {row[0]: row for row in session.execute(sa.select(model.id, *columns).where(model.id.in_(wanted)))}
    return {row.id: row for row in session.execute(sa.select(model).where(model.id.in_(wanted))).scalars()}


def select_page(session: Session, stmt: sa.Select[Any], req: PageRequest, *, order_by: Sequence[Any],
                max_size: int, load: Callable[[list[Any]], Sequence[T]] | None = None,
                join: Callable[[Any], sa.Select[Any]] | None = None, plain: bool = False) -> Page[T]:
    """The window `req` asks for, chosen on `stmt` (one entity, the filters and the joins they need) in the order
    `order_by` (ending in a unique column); `load` turns the page's rows into its items. See the module docstring.

    `join(page)`, when given, gets the window as an alias of the entity (a subquery with its LIMIT) and returns a
    select of that alias first and the related columns the page shows, joined to it: window and names in one
    statement; `load` (if any) then gets those rows as tuples. A `join` that selects only `Made` records and
    columns is run on the session's connection (after the autoflush the ORM would do) and its rows are put
    together here (`_Layout`); one that selects an entity (ORM objects) is read by the ORM.

    `plain` (without `join`): the page's rows are the entity table's own columns as Core rows, read by attribute
    with the entity's attribute names, instead of ORM objects (building those was a tenth of a 50-row list's
    request); for lists that show the entity's columns only.

    Statements: one for the window (with `join`, the names too; with ``req.count``, the total too), whatever
    `load` runs on the page; a count of its own only when the window comes back empty."""
    req.validate(max_size)
    order = _order(order_by)
    keys = order.keys
    entity = _entity(stmt)
    table = getattr(entity, "__table__", None)
    base = getattr(table, "name", None)
    if plain and (join is not None or table is None):
        raise ValueError("plain rows are for a window of one entity without join")
    # keyset needs every order value on the selected entity (NOT NULL columns of its own table)
    keyset = all(k.attr is not None and k.table == base for k in keys)
    tag = order.tag
    for name, position in (("after", req.after), ("before", req.before)):
        if isinstance(position, Keyset) and (not keyset or len(position) != len(keys) + 1 or position[0] != tag):
            raise InvalidInput(f"{name} 不是这个列表的游标", field=name, code="bad_cursor")
    if isinstance(req.after, Keyset) or isinstance(req.before, Keyset):
        req = replace(req, after=_values(req.after), before=_values(req.before))
    total = _Total(stmt, wanted=req.count)
    offset_mode = isinstance(req.after, int) or isinstance(req.before, int)
    if offset_mode:
        if plain:  # its columns, as `*table.c` would (one clause to coerce, not 14); a keyset window's: on its build
            assert table is not None
            stmt = stmt.with_only_columns(table)
        rows, offset, has_next, has_previous = _offset_window(session, stmt, order, req, total, join, plain)
    else:
        rows, has_next, has_previous = _keyset_window(session, stmt, order, req, total, join, plain)
        offset = None
    keysets: list[Sequence[Any]] = []
    if keyset:
        entities = [row[0] for row in rows] if join is not None else rows
        values_of = order.values_of  # one C call a row (a tuple for 2+ keys)
        if len(keys) == 1:
            keysets = [[tag, values_of(row)] for row in entities]
        else:
            keysets = [[tag, *values_of(row)] for row in entities]
    if not keyset and offset is None:
        offset = 0
    items = list(load(rows)) if load is not None else rows
    return Page(items=items, total=total.get(session) if req.count else None, offset=offset, has_next=has_next,
                has_previous=has_previous, keysets=keysets)


_ENTITIES: dict[int, tuple[Any, Any]] = {}  # id of a statement's first column clause -> (that clause, its entity)
_ENTITIES_MAX = 256


def _entity(stmt: sa.Select[Any]) -> Any:
    """The entity `stmt` selects first (its column description's): worked out once per first column clause, the
    same object for every `select(Model)` (SQLAlchemy keeps a mapper's clause); the entry holds the clause, so its
    id is not reused while it lives."""
    first = stmt._raw_columns[0] if stmt._raw_columns else None
    found = _ENTITIES.get(id(first))
    if found is not None and found[0] is first:
        return found[1]
    entity = stmt.column_descriptions[0].get("entity")
    if len(_ENTITIES) >= _ENTITIES_MAX:
        _ENTITIES.clear()
    _ENTITIES[id(first)] = (first, entity)
    return entity


@dataclass
class _Total:
    """The count of `stmt`'s rows, when wanted: carried by the window's statement as an uncorrelated scalar
    subquery (one round trip; PostgreSQL runs it once, as an InitPlan), or counted alone when the window is empty."""

    stmt: sa.Select[Any]
    wanted: bool
    value: int | None = None

    def column(self) -> Any:
        if not self.wanted or self.value is not None:
            return None
        return (sa.select(sa.func.count()).select_from(self.stmt.order_by(None).subquery())
                .correlate(None).scalar_subquery().label("total_count"))

    def get(self, session: Session) -> int:
        if self.value is None:
            self.value = count_rows(session, self.stmt)
        return self.value


def _fetch(session: Session, window: sa.Select[Any], keys: Sequence[_Key], reverse: bool, total: _Total,
           join: Callable[[Any], sa.Select[Any]] | None, plain: bool = False) -> list[Any]:
    # the total's column is built only when the statement is (a reused one already carries it)
    count = total.column if total.wanted and total.value is None else None
    statement, params, layout, fixed = _statement(session, window, keys, reverse, count, join)
    return _run(session, statement, params, layout, fixed, count is not None, total, join, plain)


def _run(session: Session, statement: Any, params: dict[str, Any] | None, layout: _Layout | None, fixed: bool,
         counted: bool, total: _Total, join: Callable[[Any], sa.Select[Any]] | None, plain: bool) -> list[Any]:
    """The rows of a window's fetch statement (`_statement`'s), as the list's items are made of them; `counted`:
    the statement carries the total as its last column."""
    count = counted or None
    if plain:  # the entity's columns as records (the total, when carried, is one more attribute of each)
        # columns only: run on the session's connection, without the ORM's execution path (~90 µs of ~230); a
        # template on the driver's cursor (`fetch_fixed`)
        fetched: Sequence[Any]
        if fixed:
            fetched, names = fetch_fixed(session.connection(), statement, params)
        else:
            result = session.connection().execute(statement, params)
            fetched, names = result.fetchall(), tuple(result.keys())
        # a row is the record's values as they are (`_make` without its length check: the columns are its fields)
        make = functools.partial(tuple.__new__, record_type(names))
        records = list(map(make, fetched))
        if records and count is not None:
            total.value = records[0][-1]
        return records
    if layout is not None:  # a join of records and columns only: on the connection, assembled here
        session._autoflush()  # as the ORM's execution would, before it reads
        raw = fetch_fixed(session.connection(), statement, params)[0]
        if raw and len(raw[0]) != layout.width:
            raise RuntimeError(f"the page's statement gave {len(raw[0])} columns, not {layout.width}")
        if raw and count is not None:
            total.value = raw[0][-1]
        return layout.assemble_all(raw)
    if join is None:
        if count is None:
            return list(session.execute(statement, params).scalars())
        rows = session.execute(statement, params).all()
        if rows:
            total.value = rows[0][-1]
        return [row[0] for row in rows]
    if count is None:
        return list(session.execute(statement, params).all())
    rows = session.execute(statement, params).all()
    if rows:
        total.value = rows[0][-1]
    return [tuple(row[:-1]) for row in rows]


@dataclass(frozen=True)
class _Layout:
    """Where a `join`'s items sit in its statement's rows, when the statement selects only `Made` records and plain
    columns: run on the connection, a row becomes (record or None, column, ...) here, as the ORM would make it (its
    own execution and result cost a 50-row page ~110 µs more). `parts`: (start, stop, make) over the row's values,
    make None for a run of plain columns; `width`: the row's length (the total's column, when carried, is last and
    left out of the parts)."""

    parts: tuple[tuple[int, int, Callable[..., Any] | None], ...]
    width: int
    # the rows -> items function generated from `parts` (one expression per row, no loop over the parts)
    assemble_all: Callable[[Sequence[Any]], list[tuple[Any, ...]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        namespace: dict[str, Any] = {}
        items: list[str] = []
        for i, (start, stop, make) in enumerate(self.parts):
            if make is None:
                items.extend(f"r[{at}]" for at in range(start, stop))
            else:
                namespace[f"m{i}"] = make
                items.append(f"None if r[{start}] is None else m{i}(*r[{start}:{stop}])")
        source = f"lambda rows: [({', '.join(items)},) for r in rows]" if items else "lambda rows: [() for r in rows]"
        object.__setattr__(self, "assemble_all", eval(source, namespace))


def _layout(statement: sa.Select[Any], counted: bool) -> _Layout | None:
    """`statement`'s `_Layout`, or None when the ORM must read it: an entity (an ORM object per row), or a bundle
    other than `Made`. Columns and bundles take one position per column, in order, a column selected twice included
    (the ORM lists only an entity's columns once); `_fetch` checks the rows' width all the same."""
    parts: list[tuple[int, int, Callable[..., Any] | None]] = []
    width = 0
    for raw in statement._raw_columns:
        bundle = getattr(raw, "_annotations", {}).get("bundle")
        if isinstance(bundle, Made):
            exprs = list(bundle.exprs)
            if not all(isinstance(e, sa.ColumnElement) and "bundle" not in e._annotations for e in exprs):
                return None
            make: Callable[..., Any] | None = bundle.make
        elif bundle is None and isinstance(raw, sa.ColumnElement):
            exprs, make = [raw], None
        else:
            return None
        start, width = width, width + len(exprs)
        if make is None and parts and parts[-1][2] is None and parts[-1][1] == start:
            parts[-1] = (parts[-1][0], width, None)  # one slice for a run of plain columns
        else:
            parts.append((start, width, make))
    if counted:  # the total's column, last: read apart
        start, stop, make = parts[-1]
        if make is not None or stop != width:
            return None
        parts[-1:] = [(start, stop - 1, None)] if stop - 1 > start else []
    return _Layout(tuple(parts), width)


def _build(window: sa.Select[Any], keys: Sequence[_Key], reverse: bool, count: Callable[[], Any] | None,
           join: Callable[[Any], sa.Select[Any]] | None) -> sa.Select[Any]:
    """The statement that fetches `window`: the window itself, or the page's names joined to it, with the count
    (`count()`, the total's column)."""
    if join is None:
        return window if count is None else window.add_columns(count())
    entity = window.column_descriptions[0]["entity"]
    page = aliased(entity, window.subquery("page"))
    outer = join(page).order_by(*(replace(k, expr=getattr(page, str(k.attr))).ordered(reverse) for k in keys))
    return outer if count is None else outer.add_columns(count())


@dataclass(frozen=True)
class _Template:
    """A fetch statement built once for every window of the same shape: `names` are the compiled names of the
    window's parameters, in the order of the window's cache key (None: nothing to pass, the statement is reused as
    it is)."""

    statement: sa.Select[Any]
    names: tuple[str, ...] | None
    layout: _Layout | None = None  # a `join` run on the connection (see `_Layout`)


_TEMPLATES: dict[Any, _Template | None] = {}  # None: this shape cannot be reused (see `_template`)
_TEMPLATES_MAX = 512


def _statement(session: Session, window: sa.Select[Any], keys: Sequence[_Key], reverse: bool,
               count: Callable[[], Any] | None,
               join: Callable[[Any], sa.Select[Any]] | None,
               ) -> tuple[sa.Select[Any], dict[str, Any] | None, _Layout | None, bool]:
    statement, params, layout, fixed, _names = _statement_named(session, window, keys, reverse, count, join)
    return statement, params, layout, fixed


def _statement_named(session: Session, window: sa.Select[Any], keys: Sequence[_Key], reverse: bool,
                     count: Callable[[], Any] | None, join: Callable[[Any], sa.Select[Any]] | None,
                     ) -> tuple[sa.Select[Any], dict[str, Any] | None, _Layout | None, bool, tuple[str, ...] | None]:
    """The fetch statement for `window`, the values to run it with, for a reused `join` its `_Layout`, and whether
    the statement is a reused template (run again and again: `fetch_fixed`).

    Building the statement around the window (the alias of the LIMITed subquery, the names' joins, the ORDER BY,
    the count) and computing its cache key costs more than PostgreSQL takes to answer it. So it is built once per
    shape of window — the window's SQLAlchemy cache key, which leaves out the values — and later windows of the
    same shape run that statement with their own values, passed by the parameters' compiled names. A statement
    that carries values of its own outside the window (a `join` that embeds one) is never reused."""
    window_key = window._generate_cache_key()
    if window_key is None:  # not cacheable (SQLAlchemy says so): built each time
        return _build(window, keys, reverse, count, join), None, None, False, None
    dialect = session.get_bind().dialect
    shape = (dialect.name, window_key.key, join, reverse, count is not None)
    template = _TEMPLATES.get(shape, _MISSING)
    if template is _MISSING:
        template = _template(dialect, window, window_key.bindparams, keys, reverse, count, join)
        if len(_TEMPLATES) >= _TEMPLATES_MAX:
            _TEMPLATES.clear()
        _TEMPLATES[shape] = template
    if template is None:
        return _build(window, keys, reverse, count, join), None, None, False, None
    assert isinstance(template, _Template)
    if template.names is None:
        return template.statement, None, template.layout, True, None
    values = [b.effective_value for b in window_key.bindparams]
    return (template.statement, dict(zip(template.names, values, strict=True)), template.layout, True,
            template.names)


_MISSING = object()


def _template(dialect: Any, window: sa.Select[Any], window_params: Sequence[Any], keys: Sequence[_Key], reverse: bool,
              count: Callable[[], Any] | None, join: Callable[[Any], sa.Select[Any]] | None) -> _Template | None:
    statement = _build(window, keys, reverse, count, join)
    statement_key = statement._generate_cache_key()
    if statement_key is None:
        return None
    own = {id(b) for b in window_params}
    if any(id(b) not in own for b in statement_key.bindparams):
        return None  # values of its own (e.g. a date the join compares with): built per request
    layout = None if join is None else _layout(statement, count is not None)
    if not window_params:
        return _Template(statement, None, layout)
    compiled = statement.compile(dialect=dialect)
    if any(b not in compiled.bind_names for b in window_params):
        return None
    return _Template(statement, tuple(compiled.bind_names[b] for b in window_params), layout)


def _ordered(stmt: sa.Select[Any], clauses: Sequence[Any]) -> sa.Select[Any]:
    """`stmt` in the list's order only (an ORDER BY it came with dropped; no copy spent on dropping none)."""
    if stmt._order_by_clauses:
        stmt = stmt.order_by(None)
    return stmt.order_by(*clauses)


def _limit(n: int) -> Any:
    """A window's LIMIT as a value written into the SQL when it runs (`literal_execute`), not a parameter: with a
    parameter PostgreSQL cannot cost a prepared statement's generic plan (it does not know how few rows are asked
    for), so it planned every execution of a list's statement anew — 0.3–0.9 ms of the server's CPU per request
    for the inbox, more than running it. With the value in the text, it keeps one generic plan per page size after
    the statement's first executions (`pg_prepared_statements`: custom plans only before)."""
    return sa.literal(n, type_=sa.Integer(), literal_execute=True)


@dataclass(frozen=True)
class _Shaped:
    """The fetch statement of every keyset window of one shape, and where each of its parameters' values comes
    from: `sources` are (compiled name, "base" / "after" / "before" / "limit", index), in the order of the window's
    cache key."""

    statement: Any
    sources: tuple[tuple[str, str, int], ...] | None  # None: no parameters
    layout: _Layout | None
    fixed: bool


_SHAPED_MAX = 256  # shapes kept per order (`_Order.shaped`)


_SHARED: dict[Any, Any] = {}
_SHARED_MAX = 1024


def shared_statement(key: Any, build: Callable[[], sa.Select[Any]]) -> sa.Select[Any]:
    """A list's filtered statement for `key` (the list's name and every value the statement is built from), built
    by `build` once and then the same object for every request with those values. Statements are immutable, and one
    reused keeps its SQLAlchemy cache key (computed once per object): a list request with the filters of the last
    one skips building its clauses and walking them for the key (`_keyset_statement` starts from it). Only for
    statements that depend on nothing but `key` (not on the clock, say)."""
    found = _SHARED.get(key)
    if found is None:
        found = build()
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        _SHARED[key] = found
    return found


def forget_statements() -> None:
    """Forget every list statement built so far (templates, keyset window shapes, shared filtered statements):
    the next window of each shape is built from scratch (tests compare the two)."""
    _TEMPLATES.clear()
    _SHARED.clear()
    for order in list(_ORDERS.values()):
        order.shaped.clear()


def _keyset_statement(session: Session, stmt: sa.Select[Any], order: _Order, backward: bool,
                      after: list[Any] | None, before: list[Any] | None, size: int,
                      count: Callable[[], Any] | None, join: Callable[[Any], sa.Select[Any]] | None,
                      plain: bool) -> tuple[Any, dict[str, Any] | None, _Layout | None, bool]:
    """`_statement`'s answer for the keyset window of `stmt` (the list's entity and filters) in `order`, after /
    before the given key values, `size` + 1 rows: worked out from the window once per shape of window, later from
    `stmt`'s cache key alone. Building the window around `stmt` (the seek clauses, ORDER BY, LIMIT, the plain
    columns, the count) and computing the whole window's cache key cost a list request ~10 % of its CPU; the shape
    is `stmt`'s cache key (its values left out) with the order, direction, which cursors are given, the page size,
    the count, the join and `plain`, and the values are `stmt`'s parameters' with the cursors' and the LIMIT's.
    Where the window's statement is not reused (`_statement`: not cacheable, or values of its own) it is built per
    request as before."""
    base_key = stmt._generate_cache_key()
    shape: Any = None
    if base_key is not None:
        shape = (session.get_bind().dialect.name, base_key.key, backward, after is not None, before is not None,
                 size, count is not None, join, plain)
        shaped = order.shaped.get(shape, _MISSING)
        if shaped is None:
            shape = None  # built per request
        elif shaped is not _MISSING:
            assert isinstance(shaped, _Shaped)
            if shaped.sources is None:
                return shaped.statement, None, shaped.layout, shaped.fixed
            base = base_key.bindparams
            params: dict[str, Any] = {}
            for name, source, index in shaped.sources:
                if source == "base":
                    params[name] = base[index].effective_value
                elif source == "after":
                    params[name] = after[index]  # type: ignore[index]
                elif source == "before":
                    params[name] = before[index]  # type: ignore[index]
                else:
                    params[name] = size + 1
            return shaped.statement, params, shaped.layout, shaped.fixed
    if plain:
        table = _entity(stmt).__table__
        stmt = stmt.with_only_columns(table)  # its columns, as `*table.c` would (one clause to coerce, not 14)
    keys = order.keys
    window = stmt
    seeks: dict[str, list[Any]] = {}
    if after is not None:
        clause, seeks["after"] = _seek_bound(keys, after, later=True)
        window = window.where(clause)
    if before is not None:
        clause, seeks["before"] = _seek_bound(keys, before, later=False)
        window = window.where(clause)
    limit = _limit(size + 1)
    window = _ordered(window, order.clauses(backward)).limit(limit)
    statement, params_, layout, fixed, names = _statement_named(session, window, keys, backward, count, join)
    if shape is not None:
        if len(order.shaped) >= _SHAPED_MAX:
            order.shaped.clear()
        order.shaped[shape] = _shaped(statement, names, layout, fixed, window, base_key, seeks, limit)
    return statement, params_, layout, fixed


def _shaped(statement: Any, names: tuple[str, ...] | None, layout: _Layout | None, fixed: bool,
            window: sa.Select[Any], base_key: Any, seeks: dict[str, list[Any]], limit: Any) -> _Shaped | None:
    """The memo of a window's shape, or None where its statement is built per request (not a reused template) or
    one of its parameters is not from `stmt`, the cursors or the LIMIT (then nothing is assumed)."""
    if not fixed:
        return None
    if names is None:
        return _Shaped(statement, None, layout, fixed)
    window_key = window._generate_cache_key()
    if window_key is None or len(window_key.bindparams) != len(names):
        return None
    origin: dict[int, tuple[str, int]] = {}
    for index, bind in enumerate(base_key.bindparams):
        origin.setdefault(id(bind), ("base", index))
    for source, binds in seeks.items():
        for index, bind in enumerate(binds):
            origin.setdefault(id(bind), (source, index))
    origin.setdefault(id(limit), ("limit", 0))
    sources = []
    for name, bind in zip(names, window_key.bindparams, strict=True):  # the template's names: in the key's order
        found = origin.get(id(bind))
        if found is None:
            return None
        sources.append((name, *found))
    return _Shaped(statement, tuple(sources), layout, fixed)


def _keyset_window(session: Session, stmt: sa.Select[Any], order: _Order, req: PageRequest, total: _Total,
                   join: Callable[[Any], sa.Select[Any]] | None = None,
                   plain: bool = False) -> tuple[list[Any], bool, bool]:
    backward = req.last is not None and req.first is None
    size = (req.last if backward else req.first) or 0
    if req.first is None and req.last is None:
        size = DEFAULT_PAGE_SIZE
    keys = order.keys
    after = ([_coerce(v, k, "after") for k, v in zip(keys, req.after, strict=True)]
             if isinstance(req.after, Keyset) else None)
    before = ([_coerce(v, k, "before") for k, v in zip(keys, req.before, strict=True)]
              if isinstance(req.before, Keyset) else None)
    if size == 0:
        return [], req.before is not None, req.after is not None
    counted = total.wanted and total.value is None
    statement, params, layout, fixed = _keyset_statement(session, stmt, order, backward, after, before, size,
                                                         total.column if counted else None, join, plain)
    rows = _run(session, statement, params, layout, fixed, counted, total, join, plain)
    extra = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
        return rows, req.before is not None, extra or req.after is not None
    has_previous = req.after is not None
    if req.last is not None and len(rows) > req.last:
        rows, has_previous = rows[len(rows) - req.last:], True
    return rows, extra or req.before is not None, has_previous


def _offset_window(session: Session, stmt: sa.Select[Any], order: _Order, req: PageRequest,
                   total: _Total, join: Callable[[Any], sa.Select[Any]] | None = None, plain: bool = False,
                   ) -> tuple[list[Any], int, bool, bool]:
    if isinstance(req.after, Keyset) or isinstance(req.before, Keyset):
        raise InvalidInput("不能同时使用偏移游标和键集游标", field="after", code="bad_cursor")
    start = 0 if req.after is None else req.after + 1
    end: int | None = req.before
    if end is None and req.last is not None and req.first is None:
        end = total.get(session)
    if end is not None:
        end = max(start, end)
    if req.first is not None:
        end = req.first + start if end is None else min(end, start + req.first)
    if req.last is not None and end is not None:
        start = max(start, end - req.last)
    if req.first is None and req.last is None:
        end = start + DEFAULT_PAGE_SIZE if end is None else min(end, start + DEFAULT_PAGE_SIZE)
    assert end is not None
    size = end - start
    rows: list[Any] = []
    extra = False
    if size > 0:
        window = _ordered(stmt, order.forward).offset(start).limit(size + 1)
        rows = _fetch(session, window, order.keys, False, total, join, plain)
        extra = len(rows) > size
        rows = rows[:size]
    bounded = req.before is not None and end >= req.before
    return rows, start, extra or bounded, start > 0
