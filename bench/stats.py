"""Statistics benchmark: p50/p95 of each dashboard query at 100,000 warnings and 1,000,000 entities.

    python -m bench.stats [--backend sqlite|postgresql|both] [--entities 1000000] [--warnings 100000] [--repeat 15]

Builds a throwaway database per backend (migrated to head), fills it set-based — entities across Suzhou's
districts and the GB/T 4754 divisions, 30 departments, warnings over two years in every state with events,
extensions, feedback and clues, one champion scoring run of every entity — ANALYZEs it, then times each
chart's domain call (the same function the page and GraphQL use) for one half-year and for the whole city.
Target: p95 ≤ 200 ms per chart. The figures go into the README.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.common import create_database, drop_database
from domain.db import Database
from domain.identity.actor import Actor
from domain.risk.score_summary import summarise
from domain.schema_version import upgrade_to_head
from domain.statistics import goals as goal_service
from domain.statistics import service

LEVELS = ("red", "orange", "yellow", "blue")
STATUSES = (("closed", 55), ("feedback_submitted", 10), ("in_progress", 15), ("issued", 10),
            ("return_requested", 3), ("dismissed", 7))
DISTRICTS = ("320505", "320506", "320507", "320508", "320509", "320571", "320581", "320582", "320583", "320585")


def _uscc(n: int) -> str:
    return f"91{n:016d}"[:18]


def build(url: str, entities: int, warnings: int, seed: int = 2026) -> None:
    rng = random.Random(seed)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    md = sa.MetaData()
    md.reflect(engine, only=["department", "entity", "risk_warning", "warning_event", "warning_extension",
                             "warning_feedback", "risk_clue", "model_version", "model_alias", "scoring_run",
                             "risk_score", "industry", "app_user"])
    t = md.tables
    with engine.begin() as conn:
        sections = dict(conn.execute(sa.select(t["industry"].c.code, t["industry"].c.parent_code).where(
            t["industry"].c.level == "division")).all())
        divisions = list(sections)
        conn.execute(t["department"].insert(), [
            {"code": f"SZ-D{i:02d}", "name": f"苏州市第{i}监管部门", "level": "city" if i < 20 else "district",
             "region_code": "320500", "active": True, "created_at": datetime.now(UTC)} for i in range(30)])
        dept_ids = [r[0] for r in conn.execute(sa.select(t["department"].c.id))]
        now = datetime.now(UTC)
        chunk = 50_000
        places: list[tuple[str, str]] = []  # (industry_code, region_code) of entity i + 1
        for start in range(0, entities, chunk):
            batch = []
            for i in range(start, min(entities, start + chunk)):
                industry, region = rng.choice(divisions), rng.choice(DISTRICTS)
                places.append((industry, region))
                batch.append({"uscc": _uscc(i), "name": f"苏州测试企业{i}有限公司", "entity_type": "company",
                              "industry_code": industry, "region_code": region, "status": "active",
                              "updated_at": now})
            conn.execute(t["entity"].insert(), batch)
        version = conn.execute(t["model_version"].insert().values(
            model_name="entity_risk", version=1, status="ready", features=[], params={}, train_from=date(2025, 1, 1),
            train_to=date(2026, 1, 1), validation_cutoff=date(2026, 6, 1),
            label_window_days=90, label_counts={}, data_fingerprint="bench", metrics={}, thresholds={},
            training_summary={}, trained_by_name="bench", created_at=now).returning(t["model_version"].c.id)
        ).scalar_one()
        conn.execute(t["model_alias"].insert().values(model_name="entity_risk", alias="champion", version_id=version,
                                                      set_at=now, set_by_name="bench"))
        run = conn.execute(t["scoring_run"].insert().values(
            version_id=version, role="champion", as_of=date(2026, 11, 30), status="succeeded", entities=entities,
            level_counts={}, drift={}, timings={}, started_at=now, finished_at=now).returning(t["scoring_run"].c.id)
        ).scalar_one()
        scores: list[float] = []
        for start in range(0, entities, chunk):
            drawn = [rng.betavariate(1, 12) for _ in range(start, min(entities, start + chunk))]
            scores += drawn
            conn.execute(t["risk_score"].insert(), [
                {"run_id": run, "entity_id": start + i + 1, "score": score, "level": None,
                 "rules_matched": [], "contributions": []} for i, score in enumerate(drawn)])
        # as the engine does when it stores a run (ml.runs._store): the dashboard's histogram and mean with the run
        conn.execute(t["scoring_run"].update().where(t["scoring_run"].c.id == run)
                     .values(score_summary=summarise(scores)))
        weights = [w for _, w in STATUSES]
        names = [s for s, _ in STATUSES]
        picked = rng.sample(range(1, entities + 1), warnings)
        first_day = datetime(2025, 1, 1, 2, tzinfo=UTC)
        rows = []
        for n, entity_id in enumerate(picked, start=1):
            status = rng.choices(names, weights)[0]
            dispatched = first_day + timedelta(minutes=rng.randrange(0, 700 * 24 * 60))
            received = dispatched + timedelta(hours=rng.randrange(1, 48)) if status != "issued" else None
            closed = dispatched + timedelta(days=rng.randrange(1, 40)) if status == "closed" else None
            rows.append({"code": f"YJ-BENCH-{n:06d}", "entity_id": entity_id, "level": rng.choice(LEVELS),
                         "source": rng.choice(("model", "model", "model", "rule", "clue", "manual")),
                         "reasons": [], "explanation": {}, "department_id": rng.choice(dept_ids), "status": status,
                         "dispatched_at": dispatched, "receipt_due_at": dispatched + timedelta(days=1),
                         "disposal_due_at": dispatched + timedelta(days=rng.choice((3, 7, 15, 30))),
                         "received_at": received, "closed_at": closed, "created_by_name": "bench",
                         "created_at": dispatched, "updated_at": dispatched, "row_version": 1,
                         # what issue and the disposal steps record (migration 0015)
                         "region_code": places[entity_id - 1][1], "industry_code": places[entity_id - 1][0],
                         "industry_section": sections[places[entity_id - 1][0]],
                         "receipt_seconds": (received - dispatched).total_seconds() if received else None,
                         "closure_seconds": (closed - dispatched).total_seconds() if closed else None})
        for start in range(0, len(rows), chunk):
            conn.execute(t["risk_warning"].insert(), rows[start:start + chunk])
        ids = [(r[0], r[1], r[2]) for r in conn.execute(sa.select(
            t["risk_warning"].c.id, t["risk_warning"].c.department_id, t["risk_warning"].c.status))]
        events, feedback, extensions = [], [], []
        for wid, dept, status in ids:
            events.append({"warning_id": wid, "kind": "issue", "actor_name": "bench", "department_id": dept,
                           "at": now, "comment": "", "payload": {}})
            if rng.random() < 0.1:
                events.append({"warning_id": wid, "kind": rng.choice(("urge", "return_request", "return_reject")),
                               "actor_name": "bench", "department_id": dept, "at": now, "comment": "", "payload": {}})
            if status in ("closed", "feedback_submitted"):
                feedback.append({"warning_id": wid, "department_id": dept, "part": "main", "round": 1,
                                 "measures": [], "outcome": rng.choice(("confirmed", "partly", "false_alarm")),
                                 "description": "", "satisfaction": rng.randint(2, 5), "satisfaction_comment": "",
                                 "submitted_by_name": "bench", "submitted_at": now})
            if rng.random() < 0.05:
                extensions.append({"warning_id": wid, "department_id": dept, "previous_due_at": now,
                                   "requested_due_at": now + timedelta(days=7), "reason": "bench",
                                   "status": rng.choice(("approved", "rejected")), "requested_by_name": "bench",
                                   "requested_at": now, "decision_comment": ""})
        for table, data in (("warning_event", events), ("warning_feedback", feedback),
                            ("warning_extension", extensions)):
            for start in range(0, len(data), chunk):
                conn.execute(t[table].insert(), data[start:start + chunk])
        conn.execute(t["risk_clue"].insert(), [
            {"entity_id": rng.randrange(1, entities + 1), "uscc": "", "entity_name": "", "source": rng.choice(
                ("department", "hotline_12345", "hotline_12315", "data_centre", "manual")), "category": "食品安全",
             "description": "", "received_on": date(2025, 1, 1) + timedelta(days=rng.randrange(0, 700)),
             "attachments": [], "status": rng.choice(("pending", "warned", "duplicate", "dismissed")),
             "judgement_reason": "", "created_by_name": "bench", "created_at": now, "updated_at": now}
            for _ in range(warnings // 2)])
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    engine.dispose()


ANALYST = Actor(user_id=None, username="system", roles=frozenset({"analyst"}))


def _server_ticks(s) -> tuple[int, int]:
    """(backend pid, its user + system CPU clock ticks so far) of the session's PostgreSQL connection, read from
    /proc (the server runs on this machine); (0, 0) on SQLite, whose queries run in this process."""
    if s.get_bind().dialect.name != "postgresql":
        return 0, 0
    pid = int(s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a server on another machine: no server CPU figure
        return pid, 0
    return pid, int(fields[11]) + int(fields[12])  # utime, stime


def timed(db: Database, fn, repeat: int) -> tuple[float, float, float, float]:
    """p50, p95 and slowest wall time, and the CPU time a call costs (ms): this process's CPU time (on SQLite the
    whole query runs here) plus, on PostgreSQL, the server backend's (mean over the calls: /proc counts in clock
    ticks; parallel workers' CPU is not counted, and reading the backend's pid adds one tiny statement per call).
    CPU time is the chart's cost without the wait for a core on a loaded machine."""
    samples, cpu = [], []
    server = 0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        with db.unit_of_work() as s:
            pid, before = _server_ticks(s)
            fn(s)
            if pid:
                server += _server_ticks(s)[1] - before
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    server_ms = server * 1000 / os.sysconf("SC_CLK_TCK") / repeat
    return (statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)], samples[-1],
            statistics.median(cpu) + server_ms)


def measure(url: str, repeat: int) -> list[tuple[str, float, float, float, float]]:
    db = Database(url)
    out = []
    for period in ("2026H1", "2025"):
        def f(s, period=period):
            return service.make_filter(s, ANALYST, period=period)

        for group in service.GROUP_BY:
            out.append((f"{period} warnings by {group}", *timed(
                db, lambda s, group=group, f=f: service.warning_groups(s, ANALYST, f(s), group), repeat)))
        out.append((f"{period} trend by month", *timed(
            db, lambda s, f=f: service.warning_trend(s, ANALYST, f(s), "month"), repeat)))
        out.append((f"{period} clue volume", *timed(db, lambda s, f=f: service.clue_volume(s, ANALYST, f(s)),
                                                    repeat)))
        out.append((f"{period} disposal ranking", *timed(
            db, lambda s, f=f: service.disposal_ranking(s, ANALYST, f(s)), repeat)))
        out.append((f"{period} model figures", *timed(
            db, lambda s, f=f: service.model_statistics(s, ANALYST, f(s)), repeat)))
    out.append(("2026H1 whole dashboard (one call)", *timed(
        db, lambda s: service.dashboard(s, ANALYST, period="2026H1"), max(3, repeat // 3))))
    out.append(("2026H1 performance goals", *timed(
        db, lambda s: goal_service.performance_goals(s, ANALYST, "2026H1"), max(3, repeat // 3))))
    db.dispose()
    return out


def _report(url: str, repeat: int) -> None:
    """The table of one city: p50, p95 and the slowest call (the first, cold one, for the model figures), the
    client's CPU time, and the machine's load average before and after (figures taken under load are not
    quiet-machine figures)."""
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'query':44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu ms':>8}  target p95 ≤ 200 ms")
    for name, p50, p95, slowest, cpu in measure(url, repeat):
        flag = "" if p95 <= 200 or "whole" in name or "goals" in name else "  ABOVE TARGET"
        print(f"{name:44} {p50:8.1f} {p95:8.1f} {slowest:8.1f} {cpu:8.1f}{flag}")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--warnings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--city-url", help="measure an existing database (built by an earlier --keep run)")
    parser.add_argument("--keep", action="store_true", help="keep the built database and print its URL")
    args = parser.parse_args()
    if args.city_url:
        _report(args.city_url, args.repeat)
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory(prefix="regwatch-bench-stats-") as tmp:
        for backend in backends:
            url = create_database(backend, Path(tempfile.mkdtemp(prefix="regwatch-stats-")) if args.keep
                                  else Path(tmp), "stats")
            try:
                upgrade_to_head(url)
                t0 = time.perf_counter()
                build(url, args.entities, args.warnings)
                print(f"\n== {backend}: {args.entities:,} entities, {args.warnings:,} warnings "
                      f"(built in {time.perf_counter() - t0:.0f} s) ==")
                _report(url, args.repeat)
            finally:
                if args.keep:
                    print(f"kept: {url}")
                else:
                    drop_database(url)


if __name__ == "__main__":
    main()
