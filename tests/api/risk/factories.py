"""Test data for model management: versions with real metrics from a small XGBoost fit, aliases, runs, scores.

Rows are inserted directly: the engine writes them in production, and these tests only read and act on them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
from sqlmodel import Session, select

from domain.identity.actor import Actor
from domain.risk.models import ModelAlias, ModelAliasHistory, ModelVersion, RiskRule, RiskScore, ScoringRun
from domain.supervision.models import Entity
from domain.supervision.uscc import make_uscc_from_int
from domain.types import utcnow

__all__ = [
    "ANALYST",
    "FEATURES",
    "HANDLER",
    "VIEWER",
    "add_alias",
    "add_entity",
    "add_rule",
    "add_run",
    "add_score",
    "add_user",
    "add_version",
    "run_queued_job",
    "small_city",
    "trained_metrics",
]

# Signed-in actors need a user id; no foreign key is written from these in the reading paths.
ANALYST = Actor(user_id=9001, username="analyst-li", roles=frozenset({"analyst"}))
VIEWER = Actor(user_id=9002, username="viewer-wang", roles=frozenset({"viewer"}))
HANDLER = Actor(user_id=9003, username="handler-zhao", roles=frozenset({"handler"}), department_id=1)

FEATURES = ["inspections_365d", "failed_inspections_365d", "penalties_365d", "complaints_90d",
            "days_since_last_inspection", "abnormal_operation"]


@cache
def trained_metrics(seed: int = 7) -> tuple[dict[str, Any], bytes]:
    """Metrics in the engine's shape from a real XGBoost fit on random data, and its UBJSON artifact."""
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression

    from ml.training import evaluate_predictions

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, len(FEATURES)))
    y = (x[:, 0] + 0.8 * x[:, 1] + rng.normal(scale=1.0, size=600) > 0.8).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": seed},
                        xgb.DMatrix(x[:400], label=y[:400], feature_names=FEATURES), num_boost_round=20)
    p = booster.inplace_predict(x[400:])
    base = LogisticRegression().fit(x[:400], y[:400]).predict_proba(x[400:])[:, 1]
    gain = booster.get_score(importance_type="gain")
    held = y[400:]
    follow_up = np.zeros(len(held), dtype=bool)
    follow_up[np.flatnonzero(held)[:10]] = True  # ten positives stand for follow-ups of cases on record
    metrics = evaluate_predictions(held, p, seed=seed)  # the engine's own shape
    baseline = evaluate_predictions(held, base, curves=False, bootstrap=0)
    metrics.update(
        {f"baseline_{k}": baseline[k] for k in ("roc_auc", "pr_auc", "brier_score", "mean_predicted", "ece")},
        baseline_precision_at_k=baseline["precision_at_k"],
        new_events=evaluate_predictions(held[~follow_up], p[~follow_up], curves=False, seed=seed),
        baseline_new_events=evaluate_predictions(held[~follow_up], base[~follow_up], curves=False, bootstrap=0),
        follow_up_positives=10, calibration_before=metrics["calibration"], ece_before=metrics["ece"],
        mean_predicted_before=metrics["mean_predicted"], calibration_method="platt", best_iteration=20, n_train=400,
        importance=sorted(({"feature": k, "gain": float(v)} for k, v in gain.items()), key=lambda r: -r["gain"]))
    return metrics, bytes(booster.save_raw(raw_format="ubj"))


def add_version(session: Session, version: int, *, roc_auc: float | None = None, features: list[str] | None = None,
                thresholds: dict[str, float] | None = None, model_name: str = "entity_risk") -> ModelVersion:
    metrics, artifact = trained_metrics()
    metrics = dict(metrics)
    if roc_auc is not None:
        metrics["roc_auc"] = roc_auc
    row = ModelVersion(
        model_name=model_name, version=version, features=features or FEATURES,
        params={"max_depth": 3, "eta": 0.3, "seed": 7}, train_from=date(2025, 1, 31), train_to=date(2025, 10, 31),
        validation_cutoff=date(2025, 12, 31), label_counts={"history": {"positive": 120, "negative": 480}},
        data_fingerprint=f"sha256:{version:04d}" + "ab" * 8, metrics=metrics,
        thresholds=thresholds or {"red": 0.8, "orange": 0.6, "yellow": 0.4, "blue": 0.2},
        training_summary={}, artifact=artifact, trained_by_name="analyst-li")
    session.add(row)
    session.flush()
    return row


def add_alias(session: Session, version: ModelVersion, alias: str = "champion", *, by: str = "analyst-li",
              days_ago: int = 0) -> None:
    """Give `version` the alias, closing the previous holder's period (as the engine's promote does)."""
    when = utcnow() - timedelta(days=days_ago)
    current = session.get(ModelAlias, (version.model_name, alias))
    if current is not None:
        for h in session.exec(select(ModelAliasHistory).where(
                ModelAliasHistory.model_name == version.model_name, ModelAliasHistory.alias == alias,
                ModelAliasHistory.valid_to.is_(None))):
            h.valid_to = when
        current.version_id, current.set_at, current.set_by_name = version.id, when, by
    else:
        session.add(ModelAlias(model_name=version.model_name, alias=alias, version_id=version.id, set_at=when,
                               set_by_name=by))
    session.add(ModelAliasHistory(model_name=version.model_name, alias=alias, version_id=version.id,
                                  valid_from=when, set_by_name=by, action="promote"))
    session.flush()


def add_entity(session: Session, n: int, name: str | None = None) -> Entity:
    row = Entity(uscc=make_uscc_from_int("320505", n), name=name or f"苏州测试企业{n}有限公司",
                 entity_type="company", industry_code="C13", region_code="320505",
                 registered_capital=Decimal("100.00"), founded_on=date(2015, 3, 1))
    session.add(row)
    session.flush()
    return row


def add_run(session: Session, version: ModelVersion, *, role: str = "champion", as_of: date = date(2026, 1, 31),
            drift: dict[str, Any] | None = None, level_counts: dict[str, Any] | None = None) -> ScoringRun:
    row = ScoringRun(version_id=version.id, role=role, as_of=as_of, status="succeeded", entities=100,
                     level_counts=level_counts or {"red": 2, "orange": 5, "yellow": 13, "blue": 30},
                     drift=drift or {}, finished_at=utcnow())
    session.add(row)
    session.flush()
    return row


def add_score(session: Session, run: ScoringRun, entity: Entity, score: float, level: str | None) -> RiskScore:
    row = RiskScore(run_id=run.id, entity_id=entity.id, score=score, model_level=level, level=level,
                    rules_matched=[], contributions=[["complaints_90d", 3.0, 0.42], ["penalties_365d", 1.0, 0.21]])
    session.add(row)
    session.flush()
    return row


def add_rule(session: Session, code: str = "R001", expression: str = "penalties_365d >= 2", *,
             enabled: bool = True, min_level: str = "orange") -> RiskRule:
    row = RiskRule(code=code, name=f"规则{code}", expression=expression, min_level=min_level,
                   description="一年内两次及以上行政处罚", enabled=enabled)
    session.add(row)
    session.flush()
    return row


def add_user(session: Session, username: str, roles: list[str]) -> Actor:
    """A real user row (jobs and other foreign keys point at it) and the actor for it."""
    from domain.identity.models import User

    user = User(username=username, display_name=username, roles=roles)
    session.add(user)
    session.flush()
    return Actor(user_id=user.id, username=username, roles=frozenset(roles))


def small_city(db, n: int = 1500) -> None:
    """The engine's synthetic city (entities with penalties, inspections, complaints up to 2025-12-31)."""
    from tests.ml.synthetic import synthetic_city

    with db.engine.begin() as conn:
        synthetic_city(conn, n)


def run_queued_job(db, job_id: int):
    """Run one queued job to the end in this thread, as the app's job runner would."""
    from domain.jobs.runner import claim_job as _claim
    from domain.jobs.runner import run_job

    claimed = _claim(db, job_id)
    assert claimed is not None, f"job {job_id} was not queued"
    return run_job(db, claimed)
