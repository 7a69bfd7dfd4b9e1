"""Automatic warning issue after a scoring run, at city scale (issue 13).

    .venv/bin/python -m bench.warnings --backend sqlite --entities 1000000
    .venv/bin/python -m bench.warnings --backend postgresql --entities 1000000

Builds a throwaway database with N entities and one champion run whose levels follow a city-like spread
(red 1%, orange 2%, yellow 7%, blue 15%, the rest below blue), then times `auto_issue_warnings` (set-based: a few
statements whatever N) on the first run (every yellow-or-higher entity gets a warning) and on a second run where
5% of the entities move up a level (raised in place, as events) and the rest stay (nothing duplicated).

    .venv/bin/python -m bench.warnings --backend postgresql --url postgresql://postgres@127.0.0.1:5432/rw_warn1m \
        --repeat 3

`--url` reuses a database built once (built there through the migrations if it holds no entities, never dropped).
Before every measurement the warnings, their events and outbox rows and the code sequence are deleted (not timed;
PostgreSQL: then VACUUM ANALYZE and CHECKPOINT, so no run pays for the previous one's dead rows or dirty pages), so
every first run is a first night. Each measurement prints one JSON line with the seconds of every step of
`auto_issue_warnings` (`AutoIssueResult.steps`) and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from bench.common import create_database, drop_database
from domain.db import Database
from domain.identity.actor import SYSTEM
from domain.schema_version import upgrade_to_head
from domain.types import utcnow

LEVEL_SQL = ("CASE WHEN i % 100 = 0 THEN 'red' WHEN i % 100 < 3 THEN 'orange' WHEN i % 100 < 10 THEN 'yellow' "
             "WHEN i % 100 < 25 THEN 'blue' ELSE NULL END")


def _series(backend: str, n: int) -> str:
    if backend == "postgresql":
        return f"SELECT generate_series(1, {n}) AS i"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"


def build(db: Database, n: int) -> tuple[int, int]:
    backend = db.engine.dialect.name
    upgrade_to_head(db.url)
    now = utcnow()
    with db.engine.begin() as c:
        c.execute(sa.text("INSERT INTO department (code, name, level, region_code, active, created_at) VALUES "
                          "('SZ-SCJG', '苏州市市场监督管理局', 'city', '320500', true, :t), "
                          "('WZ-SCJG', '吴中区市场监督管理局', 'district', '320506', true, :t), "
                          "('SZ-WJW', '苏州市卫生健康委员会', 'city', '320500', true, :t)"), {"t": now})
        c.execute(sa.text("INSERT INTO routing_rule (kind, item_id, industry_prefix, region_code, department_id, "
                          "priority, active, note, updated_by_name, updated_at) VALUES "
                          "('default', NULL, NULL, NULL, 1, 100, true, '', 'bench', :t), "
                          "('district', NULL, NULL, '320506', 2, 100, true, '', 'bench', :t), "
                          "('industry', NULL, '13', NULL, 3, 100, true, '', 'bench', :t)"), {"t": now})
        c.execute(sa.text("INSERT INTO model_version (model_name, version, status, features, params, "
                          "label_window_days, label_counts, data_fingerprint, metrics, thresholds, training_summary, "
                          "trained_by_name, "
                          "created_at) VALUES ('entity_risk', 1, 'ready', '[]', '{}', 90, '{}', '', '{}', '{}', '{}', "
                          "'bench', :t)"), {"t": now})
        regions = "CASE i % 4 WHEN 0 THEN '320505' WHEN 1 THEN '320506' WHEN 2 THEN '320507' ELSE '320508' END"
        industries = "CASE i % 5 WHEN 0 THEN '13' WHEN 1 THEN '52' WHEN 2 THEN '61' WHEN 3 THEN '47' ELSE '72' END"
        pad = "lpad(i::text, 12, '0')" if backend == "postgresql" else "printf('%012d', i)"
        c.execute(sa.text(f"INSERT INTO entity (uscc, name, entity_type, industry_code, region_code, status, "
                          f"updated_at) SELECT 'BENCH0' || {pad}, 'E' || i, 'enterprise', {industries}, {regions}, "
                          f"'active', :t FROM ({_series(backend, n)}) s"), {"t": now})
    runs = []
    for k, as_of in enumerate((date(2026, 3, 1), date(2026, 3, 2))):
        with db.engine.begin() as c:
            run_id = c.execute(sa.text("INSERT INTO scoring_run (version_id, role, as_of, status, entities, "
                                       "level_counts, drift, timings, started_at) VALUES (1, 'champion', :d, "
                                       "'succeeded', :n, '{}', '{}', '{}', :t) RETURNING id"),
                               {"d": as_of, "n": n, "t": now}).scalar_one()
            # the second run: every 20th entity moves up one level
            level = LEVEL_SQL if k == 0 else (
                "CASE WHEN i % 20 = 7 THEN (CASE WHEN i % 100 < 3 THEN 'red' WHEN i % 100 < 10 THEN 'orange' "
                "WHEN i % 100 < 25 THEN 'yellow' ELSE 'blue' END) ELSE " + LEVEL_SQL + " END")
            c.execute(sa.text(f"INSERT INTO risk_score (run_id, entity_id, score, model_level, level, rules_matched, "
                              f"contributions) SELECT {run_id}, i, 1.0 - (i % 100) / 100.0, {level}, {level}, "
                              f"'[]', '[[\"failed_inspections_90d\", 2.0, 0.42]]' FROM ({_series(backend, n)}) s"))
        runs.append(run_id)
    if backend == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
    return runs[0], runs[1]


RESET_TABLES = ("outbox_event", "warning_event", "risk_warning", "warning_code_sequence")


def runs_of(db: Database) -> tuple[int, int]:
    with db.engine.connect() as c:
        ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM scoring_run ORDER BY id")]
    return ids[0], ids[1]


def reset(db: Database) -> None:
    """Every warning, event, outbox row and code number gone (audit_log is append-only: its rows stay)."""
    with db.engine.begin() as c:
        for table in RESET_TABLES:
            c.exec_driver_sql(f"DELETE FROM {table}")
    if db.backend == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for table in RESET_TABLES:
                c.exec_driver_sql(f"VACUUM ANALYZE {table}")
            c.exec_driver_sql("CHECKPOINT")


def measure(db: Database, first_run: int, second_run: int) -> dict[str, object]:
    from domain.warnings.auto_issue import auto_issue_warnings

    out: dict[str, object] = {"load_before": os.getloadavg()[0]}
    for label, run_id in (("first_run", first_run), ("second_run", second_run)):
        t = time.perf_counter()
        with db.unit_of_work() as session:
            result = auto_issue_warnings(session, SYSTEM, run_id, min_level="yellow")
        out[label] = {"seconds": round(time.perf_counter() - t, 2), "issued": result.issued,
                      "raised": result.raised, "unrouted": result.unrouted, "steps": result.steps}
    with db.engine.connect() as c:
        out["warnings"] = c.exec_driver_sql("SELECT count(*) FROM risk_warning").scalar_one()
        out["open_per_entity_max"] = c.exec_driver_sql(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM risk_warning GROUP BY entity_id) x"
        ).scalar_one()
    out["load_after"] = os.getloadavg()[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the database (its URL is printed).")
    parser.add_argument("--url", help="reuse the database at this URL (built there if it holds no entities)")
    parser.add_argument("--repeat", type=int, default=1, help="measurements, each after a reset")
    args = parser.parse_args()

    url = args.url
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="rw_bench_warnings_"))
        url = create_database(args.backend, workdir, "warnings")
    db = Database(url)
    try:
        built = None
        with db.engine.connect() as c:
            empty = not sa.inspect(c).has_table("entity") or not c.exec_driver_sql(
                "SELECT count(*) FROM entity").scalar_one()
        if empty:
            t = time.perf_counter()
            build(db, args.entities)
            built = round(time.perf_counter() - t, 1)
        else:
            upgrade_to_head(url)
        first_run, second_run = runs_of(db)
        with db.engine.connect() as c:
            entities = c.exec_driver_sql("SELECT count(*) FROM entity").scalar_one()
        for i in range(args.repeat):
            reset(db)
            out: dict[str, object] = {"backend": db.backend, "entities": entities, "build_s": built,
                                      "measurement": i + 1, **measure(db, first_run, second_run)}
            print(json.dumps(out, ensure_ascii=False), flush=True)
    finally:
        db.dispose()
        if args.keep or args.url:
            print(url)
        else:
            drop_database(url)


if __name__ == "__main__":
    main()
