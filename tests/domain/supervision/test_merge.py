"""The ingestion merge (issue 8 #15, issue 9 /sources): the per-source record counters it keeps in its own
transaction, and the SQLite bulk path that rebuilds the target's indexes after a large upsert."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.errors import Conflict
from domain.integration.models import COUNTED_KINDS, IngestionBatch, SourceRecordCount
from domain.integration.service import integration_status
from domain.supervision import ingest as ingest_module
from domain.supervision.ingest import ingest, ingest_stream
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction
from domain.types import table_of
from tests.domain.supervision.factories import ADMIN, seed_basics, uscc

ROOT = Path(__file__).resolve().parents[3]
TABLES = {"entities": Entity, "actions": SupervisionAction, "complaints": Complaint, "credit": CreditRecord}


@pytest.fixture
def basics(session):
    return seed_basics(session)


def run(db, **kwargs):
    with db.unit_of_work() as s:
        return ingest(s, ADMIN, **kwargs)


def action(n: int, **overrides):
    return {"external_id": f"A-{n}", "kind": "inspection", "item_code": "320500-SCJG-JC-001",
            "department_code": "SZ-SCJG", "uscc": uscc(n % 3), "started_on": "2025-03-01", "result": "pass",
            **overrides}


def entity(n: int, **fields):
    return {"uscc": uscc(n), "name": f"苏州测试{n}号有限公司", "entity_type": "enterprise", **fields}


def counters(db) -> dict[tuple[str, str], int]:
    """The counters by (source code, kind), zeros left out."""
    with db.unit_of_work("read") as s:
        codes = dict(s.execute(sa.text("SELECT id, code FROM data_source")).all())
        return {(codes[c.source_id], c.kind): c.records for c in s.exec(select(SourceRecordCount)) if c.records}


def counted(db) -> dict[tuple[str, str], int]:
    """What the counters must say: the records of each source, counted in their tables."""
    with db.unit_of_work("read") as s:
        codes = dict(s.execute(sa.text("SELECT id, code FROM data_source")).all())
        found = {}
        for kind, model in TABLES.items():
            table = table_of(model)
            for sid, n in s.execute(sa.select(table.c.source_id, sa.func.count()).group_by(table.c.source_id)):
                if sid is not None:
                    found[(codes[sid], kind)] = n
        return found


def test_counters_follow_inserts_not_updates_nor_rejected_batches(db, basics):
    run(db, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(3)])
    assert counters(db) == counted(db) == {("SCJG-SYS", "actions"): 3}
    run(db, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(3)])  # the same again
    run(db, source="SCJG-SYS", kind="actions", records=[action(0, result="fail"), action(3), action(4)])
    assert counters(db) == counted(db) == {("SCJG-SYS", "actions"): 5}
    # the same external ids from another source are that source's records
    run(db, source="YJGL-SYS", kind="actions", records=[action(0, department_code="SZ-YJGL"), action(1)])
    # all or nothing with one bad record: nothing merged, nothing counted
    rejected = run(db, source="YJGL-SYS", kind="actions", mode="all_or_nothing",
                   records=[action(7), action(8, kind="x")])
    assert rejected.status == "rejected"
    run(db, source="SCJG-SYS", kind="complaints", records=[
        {"external_id": "C-1", "uscc": uscc(0), "received_on": "2025-01-01", "channel": "12345", "category": "价格"}])
    run(db, source="MANUAL", kind="credit", records=[
        {"external_id": "K-1", "uscc": uscc(1), "kind": "abnormal_operation", "listed_on": "2024-05-01"}])
    assert counters(db) == counted(db) == {("SCJG-SYS", "actions"): 5, ("YJGL-SYS", "actions"): 2,
                                           ("SCJG-SYS", "complaints"): 1, ("MANUAL", "credit"): 1}


def test_an_entity_sent_by_another_source_moves_its_count(db, basics):
    # uscc 0-2 exist without a source (seeded); 3-4 are new
    run(db, source="SCJG-SYS", kind="entities", records=[entity(n) for n in range(5)])
    assert counters(db) == counted(db) == {("SCJG-SYS", "entities"): 5}
    run(db, source="YJGL-SYS", kind="entities", records=[entity(1), entity(4), entity(9)])
    assert counters(db) == counted(db) == {("SCJG-SYS", "entities"): 3, ("YJGL-SYS", "entities"): 3}
    run(db, source="YJGL-SYS", kind="entities", records=[entity(n) for n in (0, 2, 3)])  # all of SCJG's
    assert counters(db) == counted(db) == {("YJGL-SYS", "entities"): 6}
    with db.unit_of_work("read") as s:
        status = {st.source.code: st for st in integration_status(s, ADMIN).sources}
    assert status["SCJG-SYS"].records == {}  # a counter at zero lists nothing, as a count of no rows did
    assert status["YJGL-SYS"].records == {"entities": 6}


def test_the_sources_page_lists_kinds_in_their_order(db, basics):
    run(db, source="SCJG-SYS", kind="complaints", records=[
        {"external_id": "C-1", "uscc": uscc(0), "received_on": "2025-01-01", "channel": "12345", "category": "价格"}])
    run(db, source="SCJG-SYS", kind="actions", records=[action(0)])
    run(db, source="SCJG-SYS", kind="entities", records=[entity(7)])
    with db.unit_of_work("read") as s:
        scjg = next(st for st in integration_status(s, ADMIN).sources if st.source.code == "SCJG-SYS")
    assert list(scjg.records.items()) == [("entities", 1), ("actions", 1), ("complaints", 1)]
    assert tuple(scjg.records) == tuple(k for k in COUNTED_KINDS if k in scjg.records)


def _indexes(db, table: str) -> set[str]:
    with db.engine.connect() as conn:
        return {ix["name"] for ix in sa.inspect(conn).get_indexes(table)}


def test_a_large_stream_rebuilds_the_indexes_and_counts_exactly(db, basics, monkeypatch):
    """Any number of rows takes the bulk path here (the threshold lowered): same rows, same indexes, same counts."""
    monkeypatch.setattr(ingest_module, "REBUILD_MIN_ROWS", 1)
    before = _indexes(db, "supervision_action")
    first = ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(40)])
    assert first.accepted == 40
    again = ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions",
                          records=[action(i, result="fail") for i in range(30, 80)])
    assert again.accepted == 50
    assert _indexes(db, "supervision_action") == before
    assert counters(db) == counted(db) == {("SCJG-SYS", "actions"): 80}
    with db.unit_of_work("read") as s:
        failed = s.exec(select(SupervisionAction).where(SupervisionAction.result == "fail")).all()
        assert sorted(int(a.external_id[2:]) for a in failed) == list(range(30, 80))
        # the rebuilt index answers the list's query
        assert s.execute(sa.text("SELECT COUNT(*) FROM supervision_action WHERE started_on >= '2025-01-01'")
                         ).scalar_one() == 80


def test_a_merge_that_fails_leaves_rows_counters_and_indexes_as_they_were(db, basics, monkeypatch):
    monkeypatch.setattr(ingest_module, "REBUILD_MIN_ROWS", 1)
    run(db, source="SCJG-SYS", kind="actions", records=[action(0)])
    before = _indexes(db, "supervision_action")

    def broken(self):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(ingest_module._Counter, "save", broken)
    with pytest.raises(RuntimeError):
        ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(10)])
    assert _indexes(db, "supervision_action") == before
    assert counters(db) == counted(db) == {("SCJG-SYS", "actions"): 1}
    with db.unit_of_work("read") as s:
        assert [b.status for b in s.exec(select(IngestionBatch).order_by(IngestionBatch.id))] == ["done", "failed"]


def test_a_resent_batch_updates_indexed_and_other_columns_alike(db, basics):
    """Rows whose indexed columns keep their values take SQLite's narrow update; the others the full one."""
    run(db, source="SCJG-SYS", kind="actions",
        records=[action(i, officers="张三", decided_on="2025-03-02") for i in range(4)])
    run(db, source="SCJG-SYS", kind="actions", records=[
        action(0, officers="李四", decided_on="2025-03-02"),  # a column no index holds
        action(1, officers="张三", started_on="2025-02-01", decided_on="2025-03-02"),  # an indexed column
        action(2, officers="王五", started_on="2025-02-02", decided_on="2025-03-02"),  # both
        action(3, officers="张三", decided_on="2025-03-02"),  # nothing
        action(4, officers="赵六")])  # new
    with db.unit_of_work("read") as s:
        rows = {a.external_id: a for a in s.exec(select(SupervisionAction))}
        by_start = s.execute(sa.text("SELECT external_id FROM supervision_action WHERE started_on < '2025-03-01' "
                                     "ORDER BY started_on, id")).scalars().all()
    assert {k: (a.officers, a.started_on.isoformat()) for k, a in rows.items()} == {
        "A-0": ("李四", "2025-03-01"), "A-1": ("张三", "2025-02-01"), "A-2": ("王五", "2025-02-02"),
        "A-3": ("张三", "2025-03-01"), "A-4": ("赵六", "2025-03-01")}
    assert by_start == ["A-1", "A-2"]  # the (started_on, id) index saw the change
    assert rows["A-3"].updated_at < rows["A-0"].updated_at  # an unchanged row is left as it was
    assert counters(db) == counted(db) == {("SCJG-SYS", "actions"): 5}


def _foreign_keys_enforced_on_every_pooled_connection(db) -> bool:
    """SQLite: every connection the pool holds enforces foreign keys (the merge turns them off on its own)."""
    if db.backend != "sqlite":
        return True
    held = [db.engine.connect() for _ in range(max(1, db.engine.pool.checkedin()))]
    try:
        return all(c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1 for c in held)
    finally:
        for c in held:
            c.close()


def test_a_stream_merge_gives_its_connection_back_as_it_found_it(db, basics, monkeypatch):
    monkeypatch.setattr(ingest_module, "REBUILD_MIN_ROWS", 1)
    result = ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(20)])
    assert result.accepted == 20 and set(result.timings) >= {"stage", "open", "merge", "merge_cpu", "checkpoint"}
    assert _foreign_keys_enforced_on_every_pooled_connection(db)
    if db.backend == "sqlite":
        with db.engine.connect() as c:
            assert [c.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("cache_size", "wal_autocheckpoint")
                    ] == [-2000, 1000]


def test_a_connection_whose_pragmas_cannot_be_put_back_never_returns_to_the_pool(db, basics, monkeypatch):
    set_pragmas = ingest_module._set_pragmas

    def failing_restore(connection, values):
        if values.get("foreign_keys") == 1:
            raise sa.exc.OperationalError("PRAGMA foreign_keys = 1", {}, Exception("disk I/O error"))
        return set_pragmas(connection, values)

    monkeypatch.setattr(ingest_module, "_set_pragmas", failing_restore)
    result = ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(5)])
    assert result.accepted == 5
    assert _foreign_keys_enforced_on_every_pooled_connection(db)

def test_a_parent_that_disappears_before_the_merge_fails_it_whole(db, basics, monkeypatch):
    """Validation found the entity; it is deleted before the merge takes the write lock. SQLite merges without
    row-by-row foreign-key checks and finds the missing parent under the lock; PostgreSQL's constraint does: either
    way nothing is written and the batch is failed."""
    with db.unit_of_work() as s:
        s.add(Entity(uscc=uscc(7), name="苏州测试7号有限公司", entity_type="enterprise"))
    close_batch = ingest_module._close_batch

    def entity_deleted_first(*args, **kwargs):
        with db.engine.connect() as other:
            other.exec_driver_sql("DELETE FROM entity WHERE uscc = ?" if db.backend == "sqlite"
                                  else "DELETE FROM entity WHERE uscc = %s", (uscc(7),))
            other.commit()
        return close_batch(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "_close_batch", entity_deleted_first)
    with pytest.raises((Conflict, sa.exc.IntegrityError)) as raised:
        ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions",
                      records=[action(0), action(1, uscc=uscc(7)), action(2)])
    if db.backend == "sqlite":
        assert isinstance(raised.value, Conflict)
        assert raised.value.code == "reference_gone" and "市场主体" in str(raised.value)
    with db.unit_of_work("read") as s:
        assert s.exec(select(SupervisionAction)).all() == []
        assert [b.status for b in s.exec(select(IngestionBatch))] == ["failed"]
    assert counters(db) == counted(db) == {}
    assert _foreign_keys_enforced_on_every_pooled_connection(db)


def test_a_resent_large_batch_updates_in_place_and_a_new_one_rebuilds(db, basics, monkeypatch):
    """The rebuild is chosen on the rows the merge inserts: a batch of new rows rebuilds the indexes, the same
    batch sent again (rows that exist) takes the narrow update instead; both store the same."""
    monkeypatch.setattr(ingest_module, "REBUILD_MIN_ROWS", 1)
    rebuilt: list[int] = []
    drop_indexes = ingest_module._Stage._drop_indexes

    def recorded(self, target, new):
        dropped = drop_indexes(self, target, new)
        rebuilt.append(len(dropped))
        return dropped

    monkeypatch.setattr(ingest_module._Stage, "_drop_indexes", recorded)
    ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(30)])
    ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions",
                  records=[action(i, officers="王五") for i in range(30)])
    if db.backend == "sqlite":
        assert rebuilt == [4, 0]
    with db.unit_of_work("read") as s:
        assert {a.officers for a in s.exec(select(SupervisionAction))} == {"王五"}
        assert s.execute(sa.text("SELECT COUNT(*) FROM supervision_action WHERE started_on >= '2025-01-01'")
                         ).scalar_one() == 30
    assert counters(db) == counted(db) == {("SCJG-SYS", "actions"): 30}


_STALLED_MERGE = """
import json, sys, time
from domain.db import Database
from domain.supervision import ingest
from tests.domain.supervision.factories import ADMIN

save = ingest._Counter.save


def stalled(self):  # the upsert, the index rebuild and the counters done, the commit not yet
    save(self)
    print("merging", flush=True)
    time.sleep(120)


ingest._Counter.save = stalled
ingest.REBUILD_MIN_ROWS = 1
ingest.ingest_stream(Database(sys.argv[1]), ADMIN, source="SCJG-SYS", kind="actions", records=json.loads(sys.argv[2]))
"""


def test_an_import_killed_in_the_middle_of_its_merge_writes_nothing_of_it(db, basics, database_url):
    """kill -9 after the merge's upsert, index rebuild and counters, before its commit (on SQLite: with the
    merging connection's foreign-key enforcement off): nothing of the merge is kept, the next import runs."""
    run(db, source="SCJG-SYS", kind="actions", records=[action(0)])
    indexes = _indexes(db, "supervision_action")
    process = subprocess.Popen([sys.executable, "-c", _STALLED_MERGE, database_url,
                                json.dumps([action(i, officers="王五") for i in range(40)])],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"merging", \
            process.stderr.read().decode() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert _indexes(db, "supervision_action") == indexes
    assert counters(db) == counted(db) == {("SCJG-SYS", "actions"): 1}
    with db.unit_of_work("read") as s:
        assert [(a.external_id, a.officers) for a in s.exec(select(SupervisionAction))] == [("A-0", None)]
        assert [(b.status, b.accepted) for b in s.exec(select(IngestionBatch).order_by(IngestionBatch.id))] == [
            ("done", 1), ("running", 0)]  # the batch row was committed before the merge began
    again = ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(40)])
    assert again.accepted == 40 and counters(db) == counted(db) == {("SCJG-SYS", "actions"): 40}
    with db.engine.connect() as c, pytest.raises(sa.exc.IntegrityError):  # a foreign-key violation is still refused
        c.execute(sa.update(table_of(SupervisionAction)).values(entity_id=10_000_000))
