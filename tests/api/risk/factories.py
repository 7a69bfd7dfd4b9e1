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
from starlette.types import ASGIApp, Receive, Scope, Send

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
    "ActAs",
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


class ActAs:
    """Wraps the ASGI app so every request acts as `actor` (the sign-in feature decides this in production)."""

    def __init__(self, app: ASGIApp, actor: Actor) -> None:
        self.app = app
        self.actor = actor

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["actor"] = self.actor
        await self.app(scope, receive, send)


@cache
def trained_metrics(seed: int = 7) -> tuple[dict[str, Any], bytes]:
    """Metrics in the engine's shape from a real XGBoost fit on random data, and its UBJSON artifact."""
    import xgboost as xgb
    from sklearn.calibration import calibration_curve
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, len(FEATURES)))
    y = (x[:, 0] + 0.8 * x[:, 1] + rng.normal(scale=1.0, size=600) > 0.8).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": seed},
                        xgb.DMatrix(x[:400], label=y[:400], feature_names=FEATURES), num_boost_round=20)
    p = booster.inplace_predict(x[400:])
    base = LogisticRegression().fit(x[:400], y[:400]).predict_proba(x[400:])[:, 1]
    fpr, tpr, _ = roc_curve(y[400:], p)
    prec, rec, _ = precision_recall_curve(y[400:], p)
    observed, predicted = calibration_curve(y[400:], p, n_bins=5)
    gain = booster.get_score(importance_type="gain")
    metrics = {  # the engine's shape (ml.training.evaluate_predictions)
        "roc_auc": float(roc_auc_score(y[400:], p)),
        "pr_auc": float(average_precision_score(y[400:], p)),
        "brier_score": float(brier_score_loss(y[400:], p)),
        "positive_rate": float(y[400:].mean()),
        "baseline_roc_auc": float(roc_auc_score(y[400:], base)),
        "baseline_pr_auc": float(average_precision_score(y[400:], base)),
        "precision_at_k": [{"share": 0.05, "k": 50, "precision": 0.62, "recall": 0.41},
                           {"share": 0.1, "k": 100, "precision": 0.48, "recall": 0.63}],
        "roc_curve": {"fpr": fpr.tolist(), "tpr": tpr.tolist()},
        "pr_curve": {"recall": rec[::-1].tolist(), "precision": prec[::-1].tolist()},
        "calibration": [{"low": i / 5, "high": (i + 1) / 5, "mean_predicted": float(a), "observed_rate": float(b),
                         "count": 40} for i, (a, b) in enumerate(zip(predicted, observed, strict=True))],
        "importance": sorted(({"feature": k, "gain": float(v)} for k, v in gain.items()), key=lambda r: -r["gain"]),
    }
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
