"""Scoring runs (风险评分) and backtests (回测): score the population with the champion (and the challenger in
shadow), score one entity on demand, backtest a version over a past window.

One function per business action (sync `Session`, `Actor`): permission from the policy table, an audit row in
the same transaction, never a commit. Each does its reading and computing first and its writing last, so on
SQLite the write lock is held only for the final bulk inserts.

`after_scoring_committed` is the hook point for what must follow a committed scoring run (issuing warnings
from the new scores): the score job calls it once the run's transaction has committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.db import Database
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.risk.levels import LEVEL_RANK, LEVELS
from domain.risk.models import ModelVersion, RiskScore, ScoringRun
from domain.risk.queries import ensure_can_manage_models
from domain.risk.score_summary import summarise
from domain.risk.versions import alias_version, ensure_usable, version_row
from domain.supervision.models import Entity
from domain.types import local_today, utcnow
from ml.artifacts import booster_from_bytes
from ml.drift import psi
from ml.explain import top_contributions
from ml.features import FeatureMatrix, compute_features
from ml.labels import compute_labels
from ml.rule_actions import enabled_rules
from ml.scoring import RuleSpec, ScoredPopulation, insert_scores, score_population

__all__ = [
    "BACKTEST_WINDOW_BOUNDS",
    "AfterScoring",
    "BacktestCheck",
    "after_scoring",
    "after_scoring_committed",
    "backtest_model_version",
    "check_backtest",
    "forget_after_scoring",
    "score_all",
    "score_entity",
]

Progress = Callable[[int, int | None, str], None]
# fn(db, actor, run_ids): runs after the scoring transaction committed, in registration order.
AfterScoring = Callable[[Database, Actor, list[int]], object]  # what it returns is not used
_AFTER_SCORING: list[AfterScoring] = []
BACKTEST_WINDOW_BOUNDS = (1, 730)  # days of outcomes after a backtest date


def after_scoring(step: AfterScoring) -> AfterScoring:
    """Register `step(db, actor, run_ids)` to run after every committed scoring job (a decorator)."""
    if step not in _AFTER_SCORING:
        _AFTER_SCORING.append(step)
    return step


def forget_after_scoring(step: AfterScoring) -> None:
    """Unregister a step (tests that register one for themselves)."""
    if step in _AFTER_SCORING:
        _AFTER_SCORING.remove(step)


def after_scoring_committed(db: Database, actor: Actor, run_ids: list[int]) -> None:
    """Hook point: called by the score job once its scoring runs (`run_ids`, champion first) have committed.
    Whatever follows a scoring run set-based (issuing warnings from the new scores) is called from here."""
    for step in _AFTER_SCORING:
        step(db, actor, run_ids)


def _booster(session: Session, version: ModelVersion) -> Any:
    """The stored booster, read with its own statement: readers load versions with the artifact deferred."""
    import sqlalchemy as sa

    raw = session.execute(sa.select(col(ModelVersion.artifact)).where(col(ModelVersion.id) == version.id)).scalar()
    if not raw:
        raise Conflict(f"模型版本 v{version.version} 没有模型文件", field="version_id")
    return booster_from_bytes(bytes(raw))


@dataclass
class _Scored:
    version: ModelVersion
    role: str
    pop: ScoredPopulation
    drift: dict[str, Any]
    started: Any


def _score(session: Session, version: ModelVersion, role: str, matrix: FeatureMatrix, rules: list[RuleSpec], *,
           approx: bool = True) -> _Scored:
    """Predict (calibrated), grade, apply rules, explain and measure drift: reading and computing only."""
    started = utcnow()
    pop = score_population(_booster(session, version), version.features, version.thresholds, matrix,
                           rules, approx=approx, calibration=version.calibration)
    drift: dict[str, Any] = {}
    summary = version.training_summary or {}
    if summary.get("score") and len(pop.scores):
        drift["score"] = round(psi(summary["score"], pop.scores), 5)
        drift["features"] = {name: round(psi(ref, matrix.column(name)), 5)
                             for name, ref in (summary.get("features") or {}).items() if name in matrix.names}
    return _Scored(version, role, pop, drift, started)


def _store(session: Session, scored: _Scored, as_of: date, *, job_id: int | None,
           extra_timings: dict[str, float] | None = None) -> ScoringRun:
    """Write the run and its risk_score rows in bulk (the only writing step)."""
    t = time.perf_counter()
    pop = scored.pop
    assert scored.version.id is not None
    run = ScoringRun(version_id=scored.version.id, role=scored.role, as_of=as_of, status="succeeded",
                     entities=len(pop.scores), level_counts=pop.level_counts(), drift=scored.drift, job_id=job_id,
                     started_at=scored.started,
                     # the dashboard's histogram and mean, of the values as stored (insert_scores rounds to 6 places)
                     score_summary=summarise(np.asarray(pop.scores, dtype=np.float64).round(6)))
    session.add(run)
    session.flush()
    assert run.id is not None
    insert_scores(session.connection(), run.id, pop)
    timings = {**(extra_timings or {}), **pop.timings, "insert": time.perf_counter() - t}
    run.timings = {k: round(v, 3) for k, v in timings.items()}
    run.finished_at = utcnow()
    session.add(run)
    session.flush()
    return run


_ROLE_ZH = {"champion": "冠军模型", "challenger": "挑战者模型"}


def score_all(session: Session, actor: Actor, *, as_of: date | None = None, job_id: int | None = None,
              progress: Progress | None = None) -> list[ScoringRun]:
    """Score every entity with the champion (and the challenger in shadow, if any), one risk_score row per
    entity per run. Features are computed once and shared by both; everything is computed before anything
    is written, so the write lock is held only for the bulk inserts."""
    ensure_can_manage_models(actor)
    report = progress or (lambda done, total, message: None)
    champion = alias_version(session, "champion")
    if champion is None:
        raise Conflict("还没有冠军模型：请先训练一个模型版本（regwatch train）并启用为冠军模型", field="alias")
    challenger = alias_version(session, "challenger")
    as_of = as_of or local_today()
    rules = enabled_rules(session)
    steps = 3 if challenger is None else 4
    report(0, steps, f"计算截止 {as_of} 的特征")
    matrix = compute_features(session.connection(), as_of)
    feature_timings = {f"features_{k}": v for k, v in matrix.timings.items()}
    scored = []
    for i, (version, role) in enumerate([(champion, "champion"), (challenger, "challenger")], start=1):
        if version is not None:
            report(i, steps, f"用版本 v{version.version}（{_ROLE_ZH[role]}）为 {len(matrix)} 个主体评分")
            scored.append(_score(session, version, role, matrix, rules))
    report(steps - 1, steps, "保存评分结果")
    runs = [_store(session, s, as_of, job_id=job_id, extra_timings=feature_timings) for s in scored]
    record_audit(session, actor, "risk.score", "scoring_run", runs[0].id,
                 {"as_of": as_of.isoformat(), "entities": len(matrix),
                  "runs": {r.role: {"id": r.id, "version_id": r.version_id, "levels": r.level_counts} for r in runs}})
    return runs


def score_entity(session: Session, actor: Actor, entity_id: int, *, as_of: date | None = None) -> RiskScore:
    """Score one entity now with the champion, exact contributions, stored as its own on-demand run."""
    ensure_can_manage_models(actor)
    if session.get(Entity, entity_id) is None:
        raise NotFound(f"监管对象 {entity_id} 不存在", field="entity_id")
    champion = alias_version(session, "champion")
    if champion is None:
        raise Conflict("还没有冠军模型：请先训练并启用一个模型版本", field="alias")
    as_of = as_of or local_today()
    matrix = compute_features(session.connection(), as_of, entity_ids=[entity_id])
    if len(matrix) == 0:
        raise InvalidInput(f"监管对象 {entity_id} 成立于 {as_of} 之后，当日尚不存在", field="as_of",
                           code="not_yet_founded")
    run = _store(session, _score(session, champion, "on_demand", matrix, enabled_rules(session), approx=False),
                 as_of, job_id=None)
    score = session.exec(select(RiskScore).where(RiskScore.run_id == run.id)).one()
    if score.contributions is None:  # below blue: explain anyway, a single row costs nothing
        score.contributions = top_contributions(_booster(session, champion), matrix.select(champion.features),
                                                champion.features, approx=False)[0]
        session.add(score)
        session.flush()
    return score


@dataclass(frozen=True)
class BacktestCheck:
    """A backtest that can run: the version, the outcome window, the data's latest date, and whether the date's
    outcome window overlaps the outcomes the version was trained on (then its figures are optimistic)."""

    version: ModelVersion
    window_days: int
    latest: date
    in_training_window: bool


def in_training_window(version: ModelVersion, as_of: date, window_days: int) -> bool:
    """Whether (as_of, as_of + window] overlaps the outcome windows the version learnt from
    (train_from, train_to + label window]."""
    if version.train_from is None or version.train_to is None:
        return False
    trained_until = version.train_to + timedelta(days=version.label_window_days)
    return as_of < trained_until and as_of + timedelta(days=window_days) > version.train_from


def check_backtest(session: Session, actor: Actor, version_id: int, *, as_of: date,
                   window_days: int | None = None) -> BacktestCheck:
    """Refuse a backtest that cannot run (who, which version, window, date) before any work starts."""
    from ml.training import latest_data_date

    ensure_can_manage_models(actor)
    version = version_row(session, version_id)
    ensure_usable(session, version)
    window = version.label_window_days if window_days is None else window_days
    low, high = BACKTEST_WINDOW_BOUNDS
    if not low <= window <= high:
        raise InvalidInput(f"结果观察窗口须为 {low}–{high} 天，收到 {window}", field="window_days",
                           code="out_of_range")
    latest = latest_data_date(session.connection())
    if latest is None or as_of >= latest:
        raise InvalidInput(f"回测日期 {as_of} 须早于最新数据日期（{latest or '尚无数据'}）：其后的结果必须已经可知",
                           field="as_of", code="not_in_past")
    return BacktestCheck(version, window, latest, in_training_window(version, as_of, window))


def backtest_model_version(session: Session, actor: Actor, version_id: int, *, as_of: date,
                           window_days: int | None = None, job_id: int | None = None) -> ScoringRun:
    """回测: score a past date with this version (its thresholds and the enabled rules), then count per level
    how many entities had a confirmed outcome (penalty or failed inspection; later also warning feedback) in
    the window after it. Stored as a scoring run with role "backtest": `level_counts` is {level: entities} as
    for every run, and `backtest` holds the summary (window_days, window_complete, outcomes, roc_auc, pr_auc,
    in_training_window, levels: {level: {entities, outcomes, rate}}). No risk_score rows are written."""
    from ml.training import evaluate_predictions

    check = check_backtest(session, actor, version_id, as_of=as_of, window_days=window_days)
    version, window = check.version, check.window_days
    conn = session.connection()
    started = utcnow()
    matrix = compute_features(conn, as_of)
    pop = score_population(_booster(session, version), version.features, version.thresholds, matrix,
                           enabled_rules(session), explain=False, calibration=version.calibration)
    labels = compute_labels(conn, as_of, window, matrix.entity_ids)
    levels: dict[str, Any] = {}
    for level in (*LEVELS, None):
        mask = pop.ranks == LEVEL_RANK[level]
        n, hit = int(mask.sum()), int(labels.y[mask].sum())
        levels[level or "none"] = {"entities": n, "outcomes": hit, "rate": round(hit / n, 4) if n else None}
    summary: dict[str, Any] = {"window_days": window, "window_complete": (check.latest - as_of).days >= window,
                               "outcomes": int(labels.y.sum()), "in_training_window": check.in_training_window,
                               "levels": levels}
    if len(labels.y) and 0 < labels.y.sum() < len(labels.y):
        m = evaluate_predictions(labels.y, pop.scores, curves=False, bootstrap=0)
        summary.update(roc_auc=round(m["roc_auc"], 4), pr_auc=round(m["pr_auc"], 4),
                       mean_predicted=round(m["mean_predicted"], 5), positive_rate=round(m["positive_rate"], 5))
    assert version.id is not None
    run = ScoringRun(version_id=version.id, role="backtest", as_of=as_of, status="succeeded", entities=len(matrix),
                     level_counts=pop.level_counts(), backtest=summary,
                     timings={k: round(v, 3) for k, v in pop.timings.items()},
                     job_id=job_id, started_at=started, finished_at=utcnow())
    session.add(run)
    session.flush()
    record_audit(session, actor, "model.backtest", "model_version", version.id,
                 {"as_of": as_of.isoformat(), "window_days": window, "run_id": run.id,
                  "in_training_window": check.in_training_window})
    return run
