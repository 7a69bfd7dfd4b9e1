"""Scoring benchmark: the demo city, then features + scoring end to end, beside raw `Booster.inplace_predict`.

    python -m bench.score [--entities 1000000] [--backend sqlite|postgresql|both] [--train-entities 50000]

Per backend, in its own process on a fresh database (so peak RSS is its own): build the demo city of
`--entities` through `regwatch demo`'s path; train a model on a separate `--train-entities` demo city (the
same generator and seed family) and store it as the champion; enable one rule; then time `score_all` — the
whole production path: features (set-based SQL) → chunked `inplace_predict` → levels → rules → approximate
contributions for entities at blue or above → bulk insert of one risk_score row per entity; then, as the score job
does after its commit, the automatic issue of warnings from that run (`issue_after_scoring`, its own unit of work,
at `REGWATCH_WARNING_AUTO_MIN_LEVEL`, yellow by default) — timed as its own phase, and the 60 s target is checked
against scoring + issue together. The city's warnings are deleted before every run (not timed), so every
measured issue is a first night: every entity at yellow or above gets a warning. The raw baseline
is one `inplace_predict` call on the same matrix in the same process (the median of three such calls). Prints a
Markdown table (for the README).

    python -m bench.score --city-url sqlite:////tmp/bench1m.db --backend sqlite --repeat 3

`--city-url` reuses a city built once (it is built there if it holds no entities yet, and never dropped):
the first run trains and promotes the champion, later runs reuse it. Each run first deletes the risk_score rows
of earlier runs (not timed), so every run inserts into the same table. `--repeat N` runs N measurements, each in
its own process, and adds the best and median rows; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import create_database, drop_database

END = date(2026, 6, 30)
TARGET_S = 60  # README: scoring 1,000,000 entities, the automatic issue included
SEED = 2026


def _city(url: str, entities: int) -> float:
    from domain.db import Database
    from domain.demo.service import build_demo_city
    from domain.identity.actor import SYSTEM
    from domain.schema_version import upgrade_to_head

    upgrade_to_head(url)
    db = Database(url)
    t = time.perf_counter()
    build_demo_city(db, SYSTEM, entities=entities, seed=SEED, end_date=END)
    _routing(db)
    if db.backend == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")  # autovacuum, soon
    db.dispose()
    return time.perf_counter() - t


def _routing(db: Any) -> None:
    """What `regwatch setup` configures: the demo city's routing rules and a default department."""
    from sqlmodel import select

    from domain.demo.routing import ensure_demo_routing
    from domain.identity.actor import SYSTEM
    from domain.identity.models import Department
    from domain.warnings.models import RoutingRule
    from domain.warnings.routing import RoutingRuleInput, save_routing_rule

    with db.unit_of_work() as session:
        ensure_demo_routing(session, SYSTEM)
        if session.exec(select(RoutingRule).where(RoutingRule.kind == "default")).first() is None:
            dept = session.exec(select(Department).where(Department.active == True)  # noqa: E712
                                .order_by(Department.level, Department.id)).first()
            save_routing_rule(session, SYSTEM, RoutingRuleInput(kind="default", department_code=dept.code))


WARNING_TABLES = ("outbox_event", "warning_event", "risk_warning", "warning_code_sequence")


def _reset_warnings(db: Any) -> None:
    """Earlier runs' warnings, events, outbox rows and code numbers out of the way (not timed)."""
    with db.engine.begin() as conn:
        for table in WARNING_TABLES:
            conn.exec_driver_sql(f"DELETE FROM {table}")


def _entity_count(url: str) -> int:
    from domain.schema_version import upgrade_to_head

    upgrade_to_head(url)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM entity").scalar_one())
    finally:
        engine.dispose()


def _train(tmp: Path, train_entities: int) -> tuple[dict, float]:
    """A model trained on its own demo city: the ModelVersion columns and the training seconds."""
    from domain.db import Database
    from domain.identity.actor import SYSTEM
    from domain.risk.models import ModelVersion
    from ml.model_training import train_model

    train_url = create_database("sqlite", tmp, "train")
    _city(train_url, train_entities)
    tdb = Database(train_url)
    t = time.perf_counter()
    with tdb.unit_of_work() as s:
        trained = train_model(s, SYSTEM)
        columns = {c.name: getattr(trained, c.name) for c in ModelVersion.__table__.columns if c.name != "id"}
    tdb.dispose()
    return columns, time.perf_counter() - t


def one(backend: str, entities: int, train_entities: int, city_url: str | None = None) -> dict:
    """Everything for one backend, in this process."""
    import numpy as np

    from domain.db import Database
    from domain.identity.actor import SYSTEM
    from domain.risk.models import ModelVersion, RiskRule, RiskScore
    from domain.risk.versions import champion_version, promote_model_version
    from domain.warnings.auto_issue import issue_after_scoring
    from ml.artifacts import booster_from_bytes
    from ml.features import compute_features
    from ml.rule_actions import save_risk_rule
    from ml.runs import score_all

    tmp = Path(tempfile.mkdtemp(prefix="regwatch_bench_score_"))
    url = city_url or create_database(backend, tmp, "city")
    try:
        build_seconds = None
        if city_url is None or _entity_count(city_url) == 0:
            build_seconds = _city(url, entities)
        db = Database(url)
        with db.unit_of_work() as s:
            champion = champion_version(s, SYSTEM)
            train_seconds = None
            if champion is None:
                columns, train_seconds = _train(tmp, train_entities)
                champion = ModelVersion(**{**columns, "trained_by_id": None, "job_id": None})
                s.add(champion)
                s.flush()
                promote_model_version(s, SYSTEM, champion.id, reason="benchmark")
            artifact = s.execute(sa.select(ModelVersion.artifact).where(ModelVersion.id == champion.id)).scalar()
            columns = {"artifact": bytes(artifact), "features": list(champion.features),
                       "metrics": dict(champion.metrics)}
            if s.exec(sa.select(RiskRule.id).where(RiskRule.code == "repeat_failures")).first() is None:
                save_risk_rule(s, SYSTEM, code="repeat_failures", name="屡查不合格", min_level="orange",
                                       expression="failed_inspections_365d >= 2 && penalties_365d >= 1",
                                       enabled=True)
        _routing(db)  # a city built before the issue phase existed
        _reset_warnings(db)
        with db.engine.begin() as conn:  # earlier runs' rows out of the way (not timed)
            conn.execute(sa.delete(RiskScore))
        if db.backend == "postgresql":  # and their dirty pages written now, not by the checkpointer mid-run
            with db.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("VACUUM ANALYZE risk_score")
                for table in WARNING_TABLES:
                    conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
                conn.exec_driver_sql("CHECKPOINT")
        # Warm the booster once (thread pool, caches) so neither measurement pays the first call.
        booster_from_bytes(columns["artifact"]).inplace_predict(
            np.zeros((16, len(columns["features"])), dtype=np.float32))
        load_start = os.getloadavg()[0]
        t = time.perf_counter()
        with db.unit_of_work() as s:
            (run,) = score_all(s, SYSTEM, as_of=END)
            run_id, timings, levels = run.id, dict(run.timings), dict(run.level_counts)
        total = time.perf_counter() - t
        load_scored = os.getloadavg()[0]
        t = time.perf_counter()
        issue = issue_after_scoring(db, SYSTEM, [run_id])  # what the score job runs after its commit
        issue_seconds = time.perf_counter() - t
        with db.engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(RiskScore)
                                  .where(RiskScore.run_id == run_id)).scalar_one()
            matrix = compute_features(conn, END)
            booster = booster_from_bytes(columns["artifact"])
            x = matrix.select(columns["features"])
            raw_times = []
            for _ in range(3):  # the median of three, so one unlucky moment on a shared machine is not the baseline
                t = time.perf_counter()
                raw = booster.inplace_predict(x)
                raw_times.append(time.perf_counter() - t)
            raw_seconds = sorted(raw_times)[1]
        assert len(raw) == len(x) and np.isfinite(raw).all()
        db.dispose()
        n = int(run.entities)
        return {
            "backend": backend, "entities": n, "stored": int(stored), "build_s": build_seconds,
            "train_s": train_seconds, "roc_auc": columns["metrics"]["roc_auc"],
            "baseline_roc_auc": columns["metrics"]["baseline_roc_auc"], "total_s": total,
            "features_s": timings.get("features_total", 0.0), "predict_s": timings.get("predict", 0.0),
            "explain_s": timings.get("explain", 0.0), "rules_s": timings.get("rules", 0.0),
            "insert_s": timings.get("insert", 0.0), "raw_predict_s": raw_seconds,
            "explained": n - levels.get("none", 0), "timings": timings,
            "issue_s": issue_seconds, "night_s": total + issue_seconds,
            "issued": issue.issued if issue else None, "raised": issue.raised if issue else None,
            "unrouted": issue.unrouted if issue else None, "issue_steps": issue.steps if issue else {},
            "load": [load_start, load_scored, os.getloadavg()[0]],
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        if city_url is None:
            drop_database(url)


def _row(label: str, r: dict) -> str:
    ours, raw = r["entities"] / r["predict_s"], r["entities"] / r["raw_predict_s"]
    return (f"| {label} | {r['entities']:,} | {r['total_s']:.1f} s | {r['features_s']:.1f} s | "
            f"{ours:,.0f} vs raw {raw:,.0f} = **{ours / raw:.2f}** | {r['explain_s']:.1f} s "
            f"({r['explained']:,}) | {r['insert_s']:.1f} s | {r['issue_s']:.1f} s ({r['issued'] or 0:,}) | "
            f"**{r['night_s']:.1f} s** {'≤' if r['night_s'] <= TARGET_S else '>'} {TARGET_S} s | "
            f"{r['peak_mb']:,.0f} MB | {' / '.join(f'{x:.1f}' for x in r['load'])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--train-entities", type=int, default=50_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--city-url", help="reuse the city in this database (built there if empty)")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per backend, each its own process")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.entities, args.train_entities, args.city_url)))
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    if args.city_url and len(backends) > 1:
        parser.error("--city-url needs a single --backend")
    print("| backend | entities | end to end | features | predict (rows/s, ratio to raw) | explain (rows) | "
          "insert | issue (warnings) | scoring + issue | peak RSS | load start / scored / issued |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for backend in backends:
        results = []
        for i in range(args.repeat):
            cmd = [sys.executable, "-m", "bench.score", "--one", backend, "--entities", str(args.entities),
                   "--train-entities", str(args.train_entities)]
            if args.city_url:
                cmd += ["--city-url", args.city_url]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(r)
            print(_row(f"{backend} run {i + 1}" if args.repeat > 1 else backend, r), flush=True)
            print(f"<!-- {json.dumps(r)} -->", flush=True)
        if args.repeat > 1:
            by_total = sorted(results, key=lambda r: r["night_s"])
            print(_row(f"{backend} best", by_total[0]), flush=True)
            print(_row(f"{backend} median", by_total[len(by_total) // 2]), flush=True)


if __name__ == "__main__":
    main()
