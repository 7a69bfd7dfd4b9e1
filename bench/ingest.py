"""Ingestion benchmark: supervision actions through the real path (validation included) beside a raw baseline.

    python -m bench.ingest [--rows 1000000] [--backend sqlite|postgresql|both] [--entities 50000] [--no-small]

Each measurement runs in its own process on a fresh database (so peak RSS is its own): the real path is
`ingest_stream` (validation, lookups, stage, upsert, batch, errors); the baseline writes the same rows with no
validation — SQLite `executemany` of tuples, PostgreSQL `COPY` — into the same table. Memory flatness is shown by
running the real path at a tenth of the rows too. The merge column is the final upsert's time (the one long hold of
SQLite's write lock) and the process's CPU time during it; the checkpoint column is SQLite's copy of the WAL into
the database after the merge's commit (no lock held; 0 on PostgreSQL). Prints a Markdown table (copied into the
README).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.common import create_database, drop_database

CHUNK = 5_000
KINDS = ("inspection", "penalty", "coercion", "other")


def records(rows: int, entities: int) -> Iterator[dict]:
    """Deterministic action records as an integrator sends them (text dates and amounts)."""
    from domain.supervision.uscc import make_uscc_from_int

    start = date(2024, 1, 1)
    codes = [make_uscc_from_int("320505", n) for n in range(entities)]
    for i in range(rows):
        kind = KINDS[i % 4]  # under an item of the same kind (item n has kind n % 4)
        started = start + timedelta(days=i % 600)
        record = {"external_id": f"BENCH-{i:08d}", "kind": kind, "item_code": f"ITEM-{(i % 37) * 4 + i % 4:03d}",
                  "department_code": f"DEPT-{i % 25:02d}", "uscc": codes[(i * 7919) % entities],
                  "started_on": started.isoformat(), "decided_on": (started + timedelta(days=5)).isoformat(),
                  "result": "fail" if i % 9 == 0 else "pass", "penalty_amount": None,
                  "document_number": None, "officers": "张三、李四"}
        if kind == "penalty":
            record.update(result=None, penalty_amount=f"{(i % 50) * 100}.00", document_number=f"苏市监罚〔2025〕{i}号")
        elif kind == "coercion":
            record.update(result=None, document_number=f"苏市监强〔2025〕{i}号")
        elif kind == "other":
            record.update(result=None)
        yield record


def _prepare(url: str, entities: int) -> None:
    """Migrate, then departments, a source, 150 items and the entities (through the real path)."""
    from domain.db import Database
    from domain.identity.actor import SYSTEM
    from domain.identity.models import Department
    from domain.integration.models import DataSource
    from domain.schema_version import upgrade_to_head
    from domain.supervision.ingest import ingest_stream
    from domain.supervision.uscc import make_uscc_from_int

    upgrade_to_head(url)
    db = Database(url)
    with db.unit_of_work() as session:
        session.add_all([Department(code=f"DEPT-{d:02d}", name=f"部门{d}") for d in range(25)])
        session.add(DataSource(code="BENCH", name="基准测试", kind="department_system"))
    ingest_stream(db, SYSTEM, source="BENCH", kind="items", records=(
        {"code": f"ITEM-{n:03d}", "name": f"事项{n}", "department_code": f"DEPT-{n % 25:02d}",
         "kind": KINDS[n % 4]} for n in range(150)))
    ingest_stream(db, SYSTEM, source="BENCH", kind="entities", records=(
        {"uscc": make_uscc_from_int("320505", n), "name": f"企业{n}", "entity_type": "enterprise",
         "industry_code": "C", "region_code": "320505"} for n in range(entities)))
    db.dispose()


def _raw(url: str, rows: int, entities: int) -> None:
    """The baseline: the same rows, ids resolved from in-memory maps, no validation; executemany or COPY."""
    from domain.db import Database
    from domain.types import utcnow

    db = Database(url)
    with db.engine.connect() as conn:
        source_id = conn.exec_driver_sql("SELECT id FROM data_source WHERE code = 'BENCH'").scalar_one()
        items = dict(conn.exec_driver_sql("SELECT code, id FROM supervision_item").all())
        departments = dict(conn.exec_driver_sql("SELECT code, id FROM department").all())
        entity_ids = dict(conn.exec_driver_sql("SELECT uscc, id FROM entity").all())
    columns = ("source_id", "external_id", "kind", "item_id", "department_id", "entity_id", "started_on",
               "decided_on", "result", "penalty_amount", "document_number", "officers", "updated_at")
    now = utcnow().replace(tzinfo=None).isoformat(sep=" ")
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        cursor = raw.cursor()
        if db.backend == "postgresql":
            now = utcnow()
            with cursor.copy(f"COPY supervision_action ({', '.join(columns)}) FROM STDIN") as out:
                for r in records(rows, entities):
                    out.write_row((source_id, r["external_id"], r["kind"], items[r["item_code"]],
                                   departments[r["department_code"]], entity_ids[r["uscc"]],
                                   date.fromisoformat(r["started_on"]), date.fromisoformat(r["decided_on"]),
                                   r["result"], r["penalty_amount"], r["document_number"], r["officers"], now))
        else:
            sql = f"INSERT INTO supervision_action ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            batch = []
            for r in records(rows, entities):
                batch.append((source_id, r["external_id"], r["kind"], items[r["item_code"]],
                              departments[r["department_code"]], entity_ids[r["uscc"]], r["started_on"],
                              r["decided_on"], r["result"], r["penalty_amount"], r["document_number"],
                              r["officers"], now))
                if len(batch) == CHUNK:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
        raw.commit()
    db.dispose()


def _real(url: str, rows: int, entities: int) -> dict:
    from domain.db import Database
    from domain.identity.actor import SYSTEM
    from domain.supervision.ingest import ingest_stream

    db = Database(url)
    result = ingest_stream(db, SYSTEM, source="BENCH", kind="actions", records=records(rows, entities),
                           channel="cli")
    db.dispose()
    return {"accepted": result.accepted, "rejected": result.rejected, **result.timings}


def worker(mode: str, backend: str, rows: int, entities: int, workdir: Path) -> dict:
    url = create_database(backend, workdir, "ingest")
    try:
        _prepare(url, entities)
        started = time.perf_counter()
        extra = _real(url, rows, entities) if mode == "real" else (_raw(url, rows, entities) or {})
        seconds = time.perf_counter() - started
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT COUNT(*) FROM supervision_action").scalar_one()
        engine.dispose()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"mode": mode, "backend": backend, "rows": rows, "seconds": seconds, "stored": stored,
                "rows_per_s": rows / seconds, "peak_mb": peak_mb, **extra}
    finally:
        drop_database(url)


def _spawn(mode: str, backend: str, rows: int, entities: int, workdir: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.ingest", "--worker", mode, "--backend", backend,
                          "--rows", str(rows), "--entities", str(entities), "--workdir", str(workdir)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--worker", choices=("real", "raw"))
    parser.add_argument("--workdir")
    parser.add_argument("--no-small", action="store_true", help="skip the run at a tenth of the rows (memory check)")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.backend, args.rows, args.entities, Path(args.workdir))))
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print("| backend | rows | raw rows/s | real rows/s | ratio | merge (write lock) s / CPU s | checkpoint s | "
          "peak RSS real (rows/10 → rows) | raw peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="regwatch-bench-") as tmp:
        for backend in backends:
            raw = _spawn("raw", backend, args.rows, args.entities, Path(tmp))
            real = _spawn("real", backend, args.rows, args.entities, Path(tmp))
            small = None if args.no_small else _spawn("real", backend, max(1, args.rows // 10), args.entities,
                                                      Path(tmp))
            assert real["stored"] == raw["stored"] == args.rows, (raw, real)
            memory = f"{small['peak_mb'] if small else 0:.0f} MB → {real['peak_mb']:.0f} MB"
            print(f"| {backend} | {args.rows:,} | {raw['rows_per_s']:,.0f} | {real['rows_per_s']:,.0f} | "
                  f"{real['rows_per_s'] / raw['rows_per_s']:.2f} | {real['merge']:.1f} / {real['merge_cpu']:.1f} | "
                  f"{real.get('checkpoint', 0):.1f} | {memory} | {raw['peak_mb']:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
