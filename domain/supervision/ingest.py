"""Ingestion (数据导入): the one bulk path every channel uses — GraphQL, file import, CLI and the demo generator.

    ingest(session, actor, *, source: str, kind: str, records: Iterable[Mapping[str, Any]],
           mode: str = "partial", channel: str = "api", file_name: str | None = None) -> IngestResult
    ingest_stream(db, actor, *, source: str, kind: str, records: Iterable[Mapping[str, Any]],
                  mode: str = "partial", channel: str = "file", file_name: str | None = None,
                  chunk_size: int = CHUNK_SIZE, on_progress: Callable[[int], None] | None = None,
                  job_id: int | None = None, max_errors: int = MAX_RETURNED_ERRORS) -> IngestResult

`source` is a data source code; `kind` is one of entities | items | actions | complaints | credit; `mode` is
partial (keep the valid records) or all_or_nothing (keep none if any fails). Records are dicts keyed by the
snake_case field names (see `domain.supervision.fields.RECORD_FIELDS`):

    entities    uscc name entity_type industry_code region_code registered_capital founded_on status
    items       code name department_code kind legal_basis
    actions     external_id kind item_code department_code uscc started_on decided_on result
                penalty_amount document_number officers
    complaints  external_id uscc received_on channel category responded_on outcome
    credit      external_id uscc kind listed_on removed_on authority reason

Dates are `date`/`datetime` objects or text (YYYY-MM-DD, YYYY/MM/DD, YYYY年M月D日); amounts are numbers or text.
Enum fields take the English code or the Chinese label.

How it works: records are validated chunk by chunk (code lookups once per chunk) and the valid ones are written
to a temporary stage table (executemany; COPY on PostgreSQL for streams); duplicates inside the batch are found
in SQL; then one transaction upserts the stage into the target (`INSERT ... SELECT ... ON CONFLICT DO UPDATE`,
keyed by the natural key or (source, external id)), writes the batch row, its errors and the audit row, and
keeps the source's record counters (`SourceRecordCount`, read by the sources page) in the same transaction. On
SQLite a batch of many new rows into a table no larger than their number rebuilds the target's plain indexes
after the upsert, rows whose indexed columns keep their values are updated without rewriting any index (see
`_Stage.merge`), and `ingest_stream` merges with foreign-key enforcement off on its own connection, checking the
distinct parents the stage refers to once each under the write lock instead (`_Stage.check_references`).
Temporary tables belong to the connection, so an import killed half-way leaves nothing behind, and running it
again gives the same result. `ingest` works inside the caller's unit of work (which commits); `ingest_stream`
owns its connection: it commits the batch row (still running) with its errors, then the merge, memory staying
flat whatever the input size; a merge that fails is rolled back whole and the batch marked failed.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from domain.audit.service import record_audit
from domain.db import Database
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.policy import require, require_signed_in
from domain.integration.models import (
    COUNTED_KINDS,
    INGEST_KINDS,
    DataSource,
    IngestionBatch,
    IngestionError,
    SourceRecordCount,
)
from domain.jobs.models import Job
from domain.supervision.fields import RECORD_FIELDS
from domain.supervision.models import (
    DEREGISTERED_STATUSES,
    Complaint,
    CreditRecord,
    Entity,
    SupervisionAction,
    SupervisionItem,
)
from domain.supervision.validation import (
    CONTROL_CHARACTERS,
    OPTIONAL_FIELDS,
    STAGE_COLUMNS,
    VALIDATORS,
    Lookups,
    RowError,
    printable,
)
from domain.types import UTCDateTime, local_today, table_of, utcnow

__all__ = [
    "CHUNK_SIZE",
    "INGEST_MODES",
    "MAX_RECORDS_PER_CALL",
    "MAX_RETURNED_ERRORS",
    "MAX_STORED_ERRORS",
    "IngestResult",
    "RecordError",
    "authorise_source",
    "ingest",
    "ingest_stream",
]

INGEST_MODES = ("partial", "all_or_nothing")
CHANNELS = ("api", "file", "cli", "demo")
MAX_RECORDS_PER_CALL = 10_000
MAX_RETURNED_ERRORS = 1_000
MAX_STORED_ERRORS = 1_000  # error rows kept per batch (the first ones, by record); the batch keeps the total
CHUNK_SIZE = 5_000
_ENTITY_MERGE_LOCK = 0x5257_454E  # PostgreSQL advisory lock key: one entity merge at a time ("RWEN")
MERGE_CACHE_KIB = 256 * 1024  # SQLite page cache of the merging connection (allocated only as pages are used)
# SQLite: a merge that inserts at least REBUILD_MIN_ROWS new rows, and at least REBUILD_RATIO times the rows the
# target holds (by its largest id), rebuilds the target's plain indexes after the upsert instead of updating them
# row by row. The new rows are estimated, before the write lock, from a sample of about NEW_ROWS_SAMPLE staged rows.
REBUILD_MIN_ROWS = 50_000
REBUILD_RATIO = 1.0
NEW_ROWS_SAMPLE = 1_000

_TARGETS: dict[str, sa.Table] = {
    "entities": table_of(Entity),
    "items": table_of(SupervisionItem),
    "actions": table_of(SupervisionAction),
    "complaints": table_of(Complaint),
    "credit": table_of(CreditRecord),
}
# The key a record is upserted on; the stage column that carries it.
_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "entities": (("uscc",), "uscc"),
    "items": (("code",), "code"),
    "actions": (("source_id", "external_id"), "external_id"),
    "complaints": (("source_id", "external_id"), "external_id"),
    "credit": (("source_id", "external_id"), "external_id"),
}


_PARENT_LABELS = {"entity": "市场主体", "department": "部门", "supervision_item": "监管事项", "data_source": "数据源"}


def _reference_gone(table: str, id_: int) -> Conflict:
    return Conflict(f"本批记录引用的{_PARENT_LABELS.get(table, table)}（编号 {id_}）在导入期间已不存在：本批未写入"
                    "任何记录，请重新导入 (a referenced row disappeared during the import: nothing was written)",
                    code="reference_gone")


@dataclass(frozen=True)
class RecordError:
    """One problem with one record: its index in the batch (0-based), the field, a stable code, a message, and
    for files the record's row in the file (header = row 1)."""

    index: int | None
    field: str | None
    code: str
    message: str
    row: int | None = None


@dataclass
class IngestResult:
    batch_id: int
    kind: str
    status: str  # done / rejected (all_or_nothing with errors)
    received: int
    accepted: int
    rejected: int
    errors: list[RecordError] = field(default_factory=list)  # up to max_errors
    errors_total: int = 0  # every error found; the batch stores the first MAX_STORED_ERRORS
    # seconds per phase of `ingest_stream`: stage (read, validate, stage), open (batch row and errors: a short
    # write), merge (the upsert: the only long hold of the database's write lock); merge_cpu is the process's CPU
    # time during the merge (wall time above it is waiting for a CPU or the disk)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Source:
    id: int
    code: str


def authorise_source(connection: sa.Connection, actor: Actor, code: str) -> _Source:
    """May `actor` write as data source `code`? Its own integration user may; staff need `data.ingest`.

    An integration user of one source can never write as another, whatever else it holds.
    """
    require_signed_in(actor)
    if not isinstance(code, str) or CONTROL_CHARACTERS.search(code):
        raise InvalidInput(f"数据源编码“{printable(str(code))}”含有不可见的控制字符", field="source",
                           code="control_character")
    table = table_of(DataSource)
    row = connection.execute(
        sa.select(table.c.id, table.c.code, table.c.user_id, table.c.active).where(table.c.code == code)).first()
    if row is None:
        raise NotFound(f"数据源“{code}”不存在", field="source", code="unknown_source")
    if row.user_id is not None and row.user_id == actor.user_id:
        pass
    else:
        if actor.user_id is not None:
            own = connection.execute(sa.select(table.c.code).where(table.c.user_id == actor.user_id)).scalars().all()
            if own:
                raise Forbidden(f"该令牌属于数据源“{'、'.join(own)}”，不能以数据源“{code}”的身份写入",
                                field="source", code="forbidden_source")
        require(actor, "data.ingest")
    if not row.active:
        raise InvalidInput(f"数据源“{code}”已停用", field="source", code="inactive_source")
    return _Source(row.id, row.code)


def _check_arguments(kind: str, mode: str, channel: str) -> None:
    if kind not in INGEST_KINDS:
        raise InvalidInput(f"unknown kind {kind!r}; expected one of {', '.join(INGEST_KINDS)}", field="kind",
                           code="invalid_kind")
    if mode not in INGEST_MODES:
        raise InvalidInput(f"unknown mode {mode!r}; expected one of {', '.join(INGEST_MODES)}", field="mode",
                           code="invalid_mode")
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}", field="channel", code="invalid_channel")


class _Stage:
    """The temporary tables of one batch on one connection: valid rows and record errors."""

    def __init__(self, connection: sa.Connection, kind: str) -> None:
        self.connection = connection
        self.kind = kind
        self.backend = connection.dialect.name
        target = _TARGETS[kind]
        metadata = sa.MetaData()
        # idx, the target's columns, the presence mask of the optional fields, the file row
        self.columns = ("idx", *STAGE_COLUMNS[kind], "present", "row")
        self.table = sa.Table(
            f"rw_stage_{kind}", metadata,
            sa.Column("idx", sa.Integer, nullable=False),
            *[sa.Column(name, target.c[name].type.copy() if name in target.c else sa.Integer)
              for name in STAGE_COLUMNS[kind]],
            sa.Column("present", sa.Integer, nullable=False),
            sa.Column("row", sa.Integer),
            prefixes=["TEMPORARY"],
        )
        # SQLite, a merge run without foreign-key enforcement: the distinct parent ids the stage refers to, by
        # column, collected before the write lock and checked against their tables under it (`check_references`)
        self.references = sa.Table(
            f"rw_stage_refs_{kind}", metadata,
            sa.Column("col", sa.String(64), nullable=False),
            sa.Column("ref", sa.Integer, nullable=False),
            prefixes=["TEMPORARY"],
        )
        self.checks_references = False
        self.errors = sa.Table(
            f"rw_stage_errors_{kind}", metadata,
            sa.Column("idx", sa.Integer, nullable=False),
            sa.Column("field", sa.String(64)),
            sa.Column("code", sa.String(64), nullable=False),
            sa.Column("message", sa.String(500), nullable=False),
            sa.Column("row", sa.Integer),
            prefixes=["TEMPORARY"],
        )
        mark = "?" if self.backend == "sqlite" else "%s"
        quoted = self._quoted = ", ".join(f'"{name}"' for name in self.columns)
        self._insert_rows = (f"INSERT INTO {self.table.name} ({quoted}) "
                             f"VALUES ({', '.join([mark] * len(self.columns))})")
        self._insert_errors = (f'INSERT INTO {self.errors.name} (idx, field, code, message, "row") '
                               f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})")

    def create(self) -> None:
        self.drop()
        self.table.create(self.connection)
        self.errors.create(self.connection)

    def drop(self) -> None:
        for table in (self.table, self.errors, self.references):
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")

    def write(self, rows: list[tuple], errors: list[RowError], *, copy: bool = False) -> None:
        if rows:
            if copy and self.backend == "postgresql":
                raw = self.connection.connection.dbapi_connection
                copy_sql = f"COPY {self.table.name} ({self._quoted}) FROM STDIN"
                with raw.cursor() as cursor, cursor.copy(copy_sql) as out:  # type: ignore[union-attr]
                    for row in rows:
                        out.write_row(row)
            else:
                self.connection.exec_driver_sql(self._insert_rows, rows)
        if errors:
            self.connection.exec_driver_sql(
                self._insert_errors, [(i, f, c, printable(m)[:500], row) for i, f, c, m, row in errors])

    def reject_duplicates(self) -> None:
        """Keep the first of records sharing a key; the later ones become `duplicate_in_batch` errors."""
        key = _KEYS[self.kind][1]
        label = next(spec.label for spec in RECORD_FIELDS[self.kind] if spec.name == key)
        stage = self.table.name
        dupes = self.connection.exec_driver_sql(
            f'SELECT s.idx, s.{key}, f.first_idx, s."row", o."row" FROM {stage} s '
            f"JOIN (SELECT {key} AS k, MIN(idx) AS first_idx FROM {stage} GROUP BY {key} HAVING COUNT(*) > 1) f "
            f"ON s.{key} = f.k JOIN {stage} o ON o.idx = f.first_idx WHERE s.idx > f.first_idx").all()
        if not dupes:
            return
        self.write([], [(idx, key, "duplicate_in_batch",
                         f"{label}：“{value}”与文件第{first_row}行重复" if first_row is not None
                         else f"{label}：“{value}”与本批序号{first}（从0起）的记录重复", row)
                        for idx, value, first, row, first_row in dupes])
        self.connection.exec_driver_sql(
            f"DELETE FROM {stage} WHERE idx IN (SELECT s.idx FROM {stage} s "
            f"JOIN (SELECT {key} AS k, MIN(idx) AS first_idx FROM {stage} GROUP BY {key}) f "
            f"ON s.{key} = f.k WHERE s.idx > f.first_idx)")

    def collect_references(self) -> None:
        """Before the merge (no lock on the main database: temporary tables only), for a merge that runs with
        SQLite's foreign-key enforcement off: the distinct ids each referencing column of the stage holds."""
        self.references.create(self.connection)
        for column, _, _ in self._foreign_keys():
            self.connection.exec_driver_sql(
                f'INSERT INTO {self.references.name} (col, ref) SELECT DISTINCT ?, "{column}" FROM {self.table.name} '
                f'WHERE "{column}" IS NOT NULL', (column,))

    def _foreign_keys(self) -> list[tuple[str, sa.Table, str]]:
        """The target's single-column foreign keys on staged columns: (column, parent table, parent column)."""
        found = []
        for constraint in _TARGETS[self.kind].foreign_key_constraints:
            (column,) = constraint.column_keys
            if column in STAGE_COLUMNS[self.kind]:
                (element,) = constraint.elements
                found.append((column, element.column.table, element.column.name))
        return found

    def check_references(self, source_id: int) -> None:
        """Inside the merge's transaction, after its first write (so under SQLite's write lock, which no other
        connection can delete a parent under): every parent the merged rows refer to exists — what SQLite's
        foreign-key enforcement checks row by row, checked once per distinct id. A missing one fails the merge."""
        refs = self.references.c
        for column, parent, parent_column in self._foreign_keys():
            missing = self.connection.execute(
                sa.select(refs.ref).where(refs.col == column, ~sa.exists().where(parent.c[parent_column] == refs.ref))
                .limit(1)).scalar()
            if missing is not None:
                raise _reference_gone(parent.name, missing)
        if "source_id" in _TARGETS[self.kind].c:
            source = table_of(DataSource)
            if self.connection.execute(sa.select(source.c.id).where(source.c.id == source_id)).first() is None:
                raise _reference_gone(source.name, source_id)

    def new_rows(self, source_id: int, staged: int) -> int:
        """An estimate of how many staged rows the merge will insert (their key not in the target yet), from a
        sample of about NEW_ROWS_SAMPLE staged rows: a read before the write lock, used only to choose a plan."""
        target = _TARGETS[self.kind]
        key_columns, stage_key = _KEYS[self.kind]
        stride = max(1, staged // NEW_ROWS_SAMPLE)
        s = self.table.c
        match = [target.c[stage_key] == s[stage_key]]
        if "source_id" in key_columns:
            match.append(target.c.source_id == source_id)
        sample, new = self.connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((~sa.exists().where(*match), 1),
                                                                             else_=0)), 0))
            .select_from(self.table).where(sa.literal_column(f"{self.table.name}.rowid") % stride == 0)).one()
        return round(staged * new / sample) if sample else 0

    def merge(self, source_id: int) -> int:
        """Upsert the staged rows into the target and keep the source's record counters; returns how many.

        One `INSERT ... SELECT ... ON CONFLICT DO UPDATE` per distinct presence mask (a file has one): an update
        sets the required columns and the optional ones the record carried, and leaves the others alone.
        """
        target = _TARGETS[self.kind]
        key_columns = _KEYS[self.kind][0]
        optional = OPTIONAL_FIELDS[self.kind]
        optional_columns = {column for _, columns in optional for column in columns}
        values = list(STAGE_COLUMNS[self.kind])
        selected: list[Any] = [self.table.c[name] for name in values]
        always = {name for name in values if name not in optional_columns and name not in key_columns}
        if "source_id" in target.c:
            values.append("source_id")
            selected.append(sa.literal(source_id, sa.Integer))
            if "source_id" not in key_columns:  # an entity moves to the source that sent it last
                always.add("source_id")  # (in a key it is the same by definition: setting it rewrites the index)
        values.append("updated_at")
        selected.append(sa.literal(utcnow(), UTCDateTime()))
        always.add("updated_at")
        insert = (postgresql.insert if self.backend == "postgresql" else sqlite.insert)(target)
        masks = self.connection.execute(sa.select(self.table.c.present).distinct()).scalars().all()
        staged = self.count() if self.backend == "sqlite" else 0
        new = self.new_rows(source_id, staged) if staged >= REBUILD_MIN_ROWS else 0
        counter = _Counter(self, target, source_id) if self.kind in COUNTED_KINDS else None
        rebuilt = self._drop_indexes(target, new)
        for mask in masks:
            given = {name for bit, (name, _) in enumerate(optional) if mask & (1 << bit)}
            updated = always | {column for bit, (name, columns) in enumerate(optional) if name in given
                                for column in columns}
            # the `WHERE` also keeps SQLite's parser from reading ON CONFLICT as a join constraint
            stmt = insert.from_select(values, sa.select(*selected).where(self.table.c.present == mask))
            excluded = stmt.excluded
            set_: dict[str, Any] = {name: excluded[name] for name in values if name in updated}
            if self.kind == "entities" and "status" in given:
                set_["deregistered_on"] = _deregistered_on(target, excluded)
                if "status_changed_on" not in given:  # a new status of unknown date: no stale date
                    set_["status_changed_on"] = sa.case((target.c.status == excluded.status,
                                                         target.c.status_changed_on), else_=None)
            # a row that would not change is left as it is: re-sending a file rewrites nothing (nor its indexes)
            changed = sa.or_(*[target.c[name].is_distinct_from(excluded[name]) for name in set_
                               if name != "updated_at"])
            if self.backend == "sqlite" and not rebuilt:
                narrow = _narrow_upsert(stmt, target, set_, key_columns)
                if narrow is not None:
                    self.connection.execute(narrow)
            stmt = stmt.on_conflict_do_update(index_elements=list(key_columns), set_=set_, where=changed)
            if counter is not None:
                counter.execute(stmt)
            else:
                self.connection.execute(stmt)
        for index in rebuilt:
            index.create(self.connection)
        if self.checks_references:
            self.check_references(source_id)
        if counter is not None:
            counter.save()
        return self.count()

    def _drop_indexes(self, target: sa.Table, new: int) -> list[sa.Index]:
        """SQLite, a large batch of new rows into a table no larger than it: drop the target's plain indexes for
        the upsert and build them again after it, in the same transaction (readers keep theirs until it commits;
        a failed merge rolls the drop back). Building an index sorts once, where the upsert would insert into each
        index row by row in random order. Decided on the rows the merge inserts (`new`, estimated): a re-sent file
        (rows that exist, their indexed columns unchanged) is cheaper through the narrow update, which rewrites no
        index, than through dropping and building them (600,000 actions: 1.6 s against 4.3 s of CPU).
        Measured rather than guessed: see bench/ingest_lock.py and the README's ingestion section."""
        if self.backend != "sqlite" or not self.connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            return []  # (the driver opens SQLite's transaction at the first write; a DROP INDEX alone would commit)
        if new < REBUILD_MIN_ROWS:
            return []
        present = self.connection.execute(sa.select(sa.func.coalesce(sa.func.max(target.c.id), 0))).scalar_one()
        if new < present * REBUILD_RATIO:
            return []
        indexes = sorted((index for index in target.indexes if not index.unique), key=lambda index: str(index.name))
        for index in indexes:
            index.drop(self.connection)
        return indexes

    def count(self) -> int:
        return self.connection.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one()

    def rejected(self) -> int:
        return self.connection.execute(
            sa.select(sa.func.count(sa.distinct(self.errors.c.idx)))).scalar_one()

    def errors_total(self) -> int:
        return self.connection.execute(sa.select(sa.func.count()).select_from(self.errors)).scalar_one()

    def first_errors(self, limit: int) -> list[RecordError]:
        e = self.errors.c
        rows = self.connection.execute(
            sa.select(e.idx, e.field, e.code, e.message, e.row).order_by(e.idx, e.field).limit(limit)).all()
        return [RecordError(*row) for row in rows]

    def save_errors(self, batch_id: int, limit: int | None = None) -> None:
        """Store the first `limit` (default MAX_STORED_ERRORS) errors, by record; the batch row keeps the total."""
        limit = MAX_STORED_ERRORS if limit is None else limit
        target = table_of(IngestionError)
        e = self.errors.c
        first = (sa.select(sa.literal(batch_id, sa.Integer), e.idx, e.field, e.code, e.message, e.row)
                 .order_by(e.idx, e.field).limit(limit))
        self.connection.execute(sa.insert(target).from_select(
            ["batch_id", "record_index", "field", "code", "message", "row_number"], first))


class _Counter:
    """The source's record counters (`SourceRecordCount`) kept by one merge, in the merge's transaction.

    Rows the merge inserts are the source's new records; an entity re-sent by another source moves to it (its
    `source_id` is always updated), so its old source's counter goes down. Exact under concurrency: on SQLite the
    merge holds the database's only write lock from its first statement (the counter rows below) to its commit,
    so the rows with an id above the table's largest before the merge are the ones it inserted; on PostgreSQL the
    upsert reports which rows it inserted (`xmax = 0`) and entity merges are serialised by a transaction lock,
    so the entities they find are the ones they update.
    """

    def __init__(self, stage: _Stage, target: sa.Table, source_id: int) -> None:
        self.stage, self.target, self.source_id = stage, target, source_id
        self.connection = connection = stage.connection
        self.postgresql = stage.backend == "postgresql"
        self.inserted = 0
        self.moved: dict[int | None, int] = {}
        if self.postgresql:
            if stage.kind == "entities":
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ENTITY_MERGE_LOCK)))
        else:  # the merge's first write: SQLite's write lock is held from here to the commit
            connection.execute(sqlite.insert(table_of(SourceRecordCount)).values(
                source_id=source_id, kind=stage.kind, records=0).on_conflict_do_nothing())
        if stage.kind == "entities":
            t, s = target.c, stage.table.c
            self.moved = {old: n for old, n in connection.execute(
                sa.select(t.source_id, sa.func.count()).select_from(
                    stage.table.join(target, t.uscc == s.uscc))
                .where(t.source_id.is_distinct_from(source_id)).group_by(t.source_id)).all()}
        self.before = None if self.postgresql else connection.execute(
            sa.select(sa.func.coalesce(sa.func.max(target.c.id), 0))).scalar_one()

    def execute(self, stmt: Any) -> None:
        if self.postgresql:
            merged = stmt.returning(sa.literal_column("xmax = 0", sa.Boolean).label("inserted")).cte("merged")
            self.inserted += self.connection.execute(
                sa.select(sa.func.count()).select_from(merged).where(merged.c.inserted)).scalar_one()
        else:
            self.connection.execute(stmt)

    def save(self) -> None:
        if self.before is not None:
            self.inserted = self.connection.execute(sa.select(sa.func.count()).select_from(self.target)
                                                    .where(self.target.c.id > self.before)).scalar_one()
        deltas = {self.source_id: self.inserted + sum(self.moved.values())}
        for old, n in self.moved.items():
            if old is not None:
                deltas[old] = deltas.get(old, 0) - n
        counts = table_of(SourceRecordCount)
        insert = postgresql.insert if self.postgresql else sqlite.insert
        for sid in sorted(deltas):  # one order for every merge: no deadlock between two of them
            if deltas[sid]:
                stmt = insert(counts).values(source_id=sid, kind=self.stage.kind, records=deltas[sid])
                self.connection.execute(stmt.on_conflict_do_update(
                    index_elements=["source_id", "kind"], set_={"records": counts.c.records + stmt.excluded.records}))


def _narrow_upsert(stmt: Any, target: sa.Table, set_: dict[str, Any], key_columns: tuple[str, ...]) -> Any:
    """SQLite, before the full upsert: the same rows, updating only the columns no index holds, for the rows whose
    indexed columns keep their values (most of a re-sent file). SQLite rewrites the entries of every index that
    holds a column an UPDATE sets, whether its value changes or not; these rows then rewrite none, and the full
    upsert after finds them unchanged and leaves them (new rows are inserted here, whole). None when the set
    touches no indexed column, or only indexed ones."""
    indexed = set(key_columns) | {column.name for index in target.indexes for column in index.columns}
    indexed |= {column.name for constraint in target.constraints if isinstance(constraint, sa.UniqueConstraint)
                for column in constraint.columns}
    kept = [name for name in set_ if name in indexed]
    narrow = {name: value for name, value in set_.items() if name not in indexed}
    if not kept or not set(narrow) - {"updated_at"}:
        return None
    same = sa.and_(*[target.c[name].is_not_distinct_from(set_[name]) for name in kept])
    differs = sa.or_(*[target.c[name].is_distinct_from(value) for name, value in narrow.items()
                       if name != "updated_at"])
    return stmt.on_conflict_do_update(index_elements=list(key_columns), set_=narrow, where=sa.and_(same, differs))


def _deregistered_on(target: sa.Table, excluded: Any) -> Any:
    """The date an entity left the register: the earliest known revocation/cancellation; none once it is back."""
    known, new = target.c.deregistered_on, excluded.deregistered_on
    return sa.case(
        (excluded.status.not_in(DEREGISTERED_STATUSES), None),
        (known.is_(None), new),
        (new.is_(None), known),
        (new < known, new),
        else_=known)


def _chunks(records: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[tuple[int, Mapping[str, Any]]]]:
    numbered = enumerate(records)
    while chunk := list(itertools.islice(numbered, size)):
        yield chunk


def _open_batch(session: Session, stage: _Stage, actor: Actor, source: _Source, *, kind: str, mode: str,
                channel: str, file_name: str | None, received: int, job_id: int | None) -> IngestionBatch:
    """The batch row (still `running`) with its counts and its first errors; the merge comes after."""
    _settle_orphans(session)
    rejected = stage.rejected()
    errors_total = stage.errors_total() if rejected else 0
    batch = IngestionBatch(source_id=source.id, kind=kind, channel=channel, mode=mode, status="running",
                           file_name=printable(file_name)[:255] if file_name else None,
                           received=received, accepted=0, rejected=rejected,
                           errors_total=errors_total, created_by_id=actor.user_id, job_id=job_id)
    session.add(batch)
    session.flush()
    assert batch.id is not None
    if rejected:
        stage.save_errors(batch.id)
    return batch


def _settle_orphans(session: Session) -> None:
    """A batch left `running` by an import whose process died (its job since marked failed) becomes `failed`."""
    table, job = table_of(IngestionBatch), table_of(Job)
    session.execute(sa.update(table).where(
        table.c.status == "running", table.c.job_id.in_(sa.select(job.c.id).where(job.c.status == "failed")))
        .values(status="failed", finished_at=utcnow()))


def _close_batch(session: Session, stage: _Stage, actor: Actor, source: _Source, batch: IngestionBatch, *,
                 max_errors: int) -> IngestResult:
    """Upsert (unless all-or-nothing failed), mark the batch finished, write the audit row."""
    assert batch.id is not None
    status = "rejected" if batch.mode == "all_or_nothing" and batch.rejected else "done"
    batch.accepted = stage.merge(source.id) if status == "done" else 0
    batch.status = status
    batch.finished_at = utcnow()
    session.add(batch)
    session.flush()
    record_audit(session, actor, f"ingest.{batch.kind}", "ingestion_batch", batch.id,
                 {"source": source.code, "mode": batch.mode, "channel": batch.channel, "file_name": batch.file_name,
                  "received": batch.received, "accepted": batch.accepted, "rejected": batch.rejected})
    errors = stage.first_errors(max_errors) if batch.rejected else []
    return IngestResult(batch_id=batch.id, kind=batch.kind, status=status, received=batch.received,
                        accepted=batch.accepted, rejected=batch.rejected, errors=errors,
                        errors_total=batch.errors_total)


def ingest(session: Session, actor: Actor, *, source: str, kind: str, records: Iterable[Mapping[str, Any]],
           mode: str = "partial", channel: str = "api", file_name: str | None = None) -> IngestResult:
    """Validate and upsert one call's records (at most MAX_RECORDS_PER_CALL) in the caller's unit of work."""
    _check_arguments(kind, mode, channel)
    if kind not in STAGE_COLUMNS:  # clues are pushed through submitClues / imported as files (ingest_stream)
        raise InvalidInput(f"数据类别“{kind}”不能用这个接口推送", field="kind", code="invalid_kind")
    batch = list(records)
    if len(batch) > MAX_RECORDS_PER_CALL:
        raise InvalidInput(
            f"一次最多提交 {MAX_RECORDS_PER_CALL} 条记录，本次 {len(batch)} 条；请分批提交或使用文件导入",
            field="records", code="too_many_records")
    connection = session.connection()
    src = authorise_source(connection, actor, source)
    lookups = Lookups.load(connection, kind, local_today())
    stage = _Stage(connection, kind)
    stage.create()
    try:
        validate = VALIDATORS[kind]
        for chunk in _chunks(batch, CHUNK_SIZE):
            rows, errors = validate(chunk, lookups)
            stage.write(rows, errors)
        stage.reject_duplicates()
        opened = _open_batch(session, stage, actor, src, kind=kind, mode=mode, channel=channel,
                             file_name=file_name, received=len(batch), job_id=None)
        return _close_batch(session, stage, actor, src, opened, max_errors=len(batch) * 20 + 1)
    finally:
        stage.drop()


# SQLite, the merging connection: index maintenance in memory rather than in a 2 MB page cache (the write lock is
# held for a fraction of the time), and the WAL checkpointed after the merge's commit rather than inside it (so the
# merge's time is the write lock's; the checkpoint holds none). Restored before the connection goes back to the pool.
_MERGE_PRAGMAS = {"cache_size": -MERGE_CACHE_KIB, "wal_autocheckpoint": 0}


def _set_pragmas(connection: sa.Connection, values: Mapping[str, int]) -> dict[str, int]:
    """Set SQLite pragmas of this connection (outside any transaction: some are ignored inside one); returns what
    they were."""
    before = {}
    for name, value in values.items():
        before[name] = int(connection.exec_driver_sql(f"PRAGMA {name}").scalar_one())
        connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    connection.commit()
    return before


def _restore_pragmas(connection: sa.Connection, restore: Mapping[str, int]) -> None:
    """Put the merge's pragmas back as they were; a connection that does not read them back so (foreign keys
    still off, the large cache, no automatic checkpoint) never goes back to the pool: it is invalidated."""
    if not restore:
        return
    try:
        _set_pragmas(connection, restore)
        restored = all(int(connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()) == value
                       for name, value in restore.items())
        connection.commit()
    except Exception:
        restored = False
    if not restored:
        connection.invalidate()


def _fail_batch(connection: sa.Connection, batch_id: int | None) -> None:
    """Mark a batch whose merge did not happen as failed (best effort: the connection may be gone)."""
    table = table_of(IngestionBatch)
    try:
        connection.execute(sa.update(table).where(table.c.id == batch_id)
                           .values(status="failed", accepted=0, finished_at=utcnow()))
        connection.commit()
    except Exception:
        pass


def ingest_stream(db: Database, actor: Actor, *, source: str, kind: str, records: Iterable[Mapping[str, Any]],
                  mode: str = "partial", channel: str = "file", file_name: str | None = None,
                  chunk_size: int = CHUNK_SIZE, on_progress: Callable[[int], None] | None = None,
                  job_id: int | None = None, max_errors: int = MAX_RETURNED_ERRORS) -> IngestResult:
    """Ingest any number of records as one batch on a connection of its own; commits once, at the end.

    Memory stays flat: records are read chunk by chunk into the temporary stage. `on_progress(done)` is called
    after each chunk. Any error (bad file, interrupt) leaves the database exactly as it was.
    """
    _check_arguments(kind, mode, channel)
    if kind == "clues":  # 风险线索: the clues' own validation, idempotency and deduplication
        from domain.warnings.clue_import import ingest_clue_stream

        return ingest_clue_stream(db, actor, source=source, records=records, mode=mode, channel=channel,
                                  file_name=file_name, job_id=job_id, on_progress=on_progress, max_errors=max_errors)
    started = time.perf_counter()
    with db.engine.connect() as connection:
        src = authorise_source(connection, actor, source)
        lookups = Lookups.load(connection, kind, local_today())
        stage = _Stage(connection, kind)
        stage.create()
        connection.commit()
        restore: dict[str, int] = {}  # SQLite pragmas of the merge, as they were
        try:
            validate = VALIDATORS[kind]
            received = 0
            for chunk in _chunks(records, chunk_size):
                rows, errors = validate(chunk, lookups)
                stage.write(rows, errors, copy=True)
                # Temporary tables only: committing per chunk holds no lock on the real tables (SQLite's writer
                # lock stays free for job progress) and ends the read snapshot before the final write.
                connection.commit()
                received += len(chunk)
                if on_progress:
                    on_progress(received)
            stage.reject_duplicates()
            on_sqlite = connection.dialect.name == "sqlite"
            if on_sqlite:
                stage.collect_references()
            connection.commit()
            # The main database's write lock is held twice, briefly: for the batch row with its (capped) error
            # rows, then for the merge. The batch is `running` in between, its records not yet visible.
            staged = time.perf_counter()
            if on_sqlite:
                restore.update(_set_pragmas(connection, _MERGE_PRAGMAS))
            # No transaction open here, so the session's own commits and rollbacks are the connection's (joined to
            # an open one, they would not be: a failed merge would then be committed with the batch's failure)
            with Session(bind=connection, expire_on_commit=False) as session:
                batch = _open_batch(session, stage, actor, src, kind=kind, mode=mode, channel=channel,
                                    file_name=file_name, received=received, job_id=job_id)
                session.commit()
                batch_id = batch.id
                if on_sqlite:  # the merge without SQLite's row-by-row foreign-key checks: see `_Stage.check_references`
                    restore.update(_set_pragmas(connection, {"foreign_keys": 0}))
                    stage.checks_references = connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
                    connection.commit()
                opened, opened_cpu = time.perf_counter(), time.process_time()
                try:
                    session.connection()  # the merge's transaction is the session's from its first statement
                    result = _close_batch(session, stage, actor, src, batch, max_errors=max_errors)
                    session.commit()
                except BaseException:
                    session.rollback()
                    _fail_batch(connection, batch_id)
                    raise
            merged, merged_cpu = time.perf_counter(), time.process_time()
            if on_sqlite:  # the WAL copied into the database after the lock is released (readers and writers go on)
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()
                connection.commit()
            result.timings = {"stage": staged - started, "open": opened - staged, "merge": merged - opened,
                              "merge_cpu": merged_cpu - opened_cpu, "checkpoint": time.perf_counter() - merged}
            return result
        except BaseException:
            connection.rollback()
            raise
        finally:
            try:
                stage.drop()
                connection.commit()
            except Exception:  # the connection is closing anyway; its temporary tables go with it
                pass
            _restore_pragmas(connection, restore)
