"""Training (模型训练): time-split training sets, XGBoost with early stopping, metrics, a logistic baseline.

Split by time, never at random: the model learns from earlier cut-offs and is judged on a later,
held-out cut-off. Each training cut-off's label window ends on or before the held-out cut-off, so no
outcome the held-out window measures is seen in training. Early stopping watches a fixed fifth of the
entities (id mod 5 = 0) across the training cut-offs, never the held-out window.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
import xgboost as xgb
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from domain.risk.models import LEVELS
from ml.artifacts import booster_to_bytes
from ml.drift import distribution
from ml.features import compute_features, model_features
from ml.labels import compute_labels

__all__ = [
    "DEFAULT_LEVEL_SHARES",
    "DEFAULT_PARAMS",
    "Progress",
    "TrainedModel",
    "TrainingPlan",
    "default_plan",
    "evaluate_predictions",
    "latest_data_date",
    "train",
]

Progress = Callable[[int, int | None, str], None]

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "tree_method": "hist",
    "max_depth": 4,
    "eta": 0.03,
    "subsample": 0.8,
    "colsample_bytree": 0.6,
    "min_child_weight": 20,
    "lambda": 1.0,
    "nthread": 2,
}
# Default level thresholds put these shares of the held-out window at or above each level.
DEFAULT_LEVEL_SHARES = {"red": 0.02, "orange": 0.05, "yellow": 0.10, "blue": 0.20}


@dataclass(frozen=True)
class TrainingPlan:
    """What to train on: cut-offs (ascending), the held-out cut-off, the label window, XGBoost settings."""

    cutoffs: tuple[date, ...]
    validation_cutoff: date
    label_window_days: int = 90
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    num_boost_round: int = 600
    early_stopping_rounds: int = 50
    seed: int = 42

    def check(self) -> list[tuple[str, str]]:
        """Problems as (field, message); empty when the plan is sound."""
        problems: list[tuple[str, str]] = []
        if not self.cutoffs:
            problems.append(("cutoffs", "at least one training cut-off is needed"))
        if self.label_window_days < 1:
            problems.append(("labelWindowDays", "the label window must be at least one day"))
        window = timedelta(days=self.label_window_days)
        late = [c for c in self.cutoffs if c + window > self.validation_cutoff]
        if late:
            problems.append(("cutoffs", f"training cut-off {late[0]} plus the {self.label_window_days}-day label "
                             f"window reaches past the held-out cut-off {self.validation_cutoff}"))
        if self.num_boost_round < 1:
            problems.append(("numBoostRound", "at least one boosting round is needed"))
        return problems


def _data_date(conn: sa.Connection, fn: str) -> date | None:
    row = conn.execute(sa.text(
        f"SELECT {fn}(d) FROM (SELECT {fn}(started_on) AS d FROM supervision_action "
        f"UNION ALL SELECT {fn}(received_on) AS d FROM complaint) AS dates")).scalar()
    if row is None:
        return None
    return row if isinstance(row, date) else date.fromisoformat(str(row)[:10])


def latest_data_date(conn: sa.Connection) -> date | None:
    """The newest supervision action or complaint date: the data's own "today"."""
    return _data_date(conn, "MAX")


def default_plan(conn: sa.Connection, *, label_window_days: int = 90, n_cutoffs: int = 4, seed: int = 42,
                 as_of: date | None = None) -> TrainingPlan:
    """The held-out cut-off is one label window before the data's latest date; the last training cut-off one
    more window before that; earlier ones step back 90 days, or less (not under 30) when the history is short,
    so that the earliest cut-off still has a year of history behind it where possible."""
    latest = as_of or latest_data_date(conn) or date.today()
    earliest = _data_date(conn, "MIN") or latest
    validation = latest - timedelta(days=label_window_days)
    last_train = validation - timedelta(days=label_window_days)
    room = (last_train - earliest).days - 365
    step = 90 if n_cutoffs < 2 else max(30, min(90, room // (n_cutoffs - 1)))
    cutoffs = tuple(sorted(last_train - timedelta(days=step * k) for k in range(n_cutoffs)))
    return TrainingPlan(cutoffs=cutoffs, validation_cutoff=validation, label_window_days=label_window_days, seed=seed)


@dataclass
class TrainedModel:
    booster: xgb.Booster
    artifact: bytes
    features: list[str]
    params: dict[str, Any]
    plan: TrainingPlan
    metrics: dict[str, Any]
    thresholds: dict[str, float]
    label_counts: dict[str, Any]
    fingerprint: str
    training_summary: dict[str, Any]


def _rows(conn: sa.Connection, cutoff: date, plan: TrainingPlan, names: list[str]):
    matrix = compute_features(conn, cutoff)
    labels = compute_labels(conn, cutoff, plan.label_window_days, matrix.entity_ids)
    return matrix.entity_ids, matrix.select(names), labels


def _merge_counts(total: dict[str, Any], counts: dict[str, dict[str, int]]) -> None:
    for source, by_class in counts.items():
        slot = total.setdefault(source, {"positive": 0, "negative": 0})
        for k, v in by_class.items():
            slot[k] += v


def train(conn: sa.Connection, plan: TrainingPlan, *, progress: Progress | None = None,
          features: list[str] | None = None) -> TrainedModel:
    """Build the time-split data, fit XGBoost and the baseline, measure both on the held-out cut-off."""
    report = progress or (lambda done, total, message: None)
    names = features or model_features()
    steps = len(plan.cutoffs) + 1 + plan.num_boost_round + 2
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    xs, ys, ids_all = [], [], []
    label_counts: dict[str, Any] = {"train": {}, "validation": {}}
    for i, cutoff in enumerate(plan.cutoffs):
        report(i, steps, f"features and labels as of {cutoff}")
        ids, x, labels = _rows(conn, cutoff, plan, names)
        xs.append(x)
        ys.append(labels.y)
        ids_all.append(ids)
        _merge_counts(label_counts["train"], labels.counts)
    report(len(plan.cutoffs), steps, f"held-out features and labels as of {plan.validation_cutoff}")
    _, x_val, val_labels = _rows(conn, plan.validation_cutoff, plan, names)
    y_val = val_labels.y
    _merge_counts(label_counts["validation"], val_labels.counts)
    x_train = np.concatenate(xs) if xs else np.zeros((0, len(names)), np.float32)
    y_train = np.concatenate(ys) if ys else np.zeros(0, np.int8)
    entity_train = np.concatenate(ids_all) if ids_all else np.zeros(0, np.int64)
    timings["data"] = time.perf_counter() - t0
    _require_both_classes(y_train, "training")
    _require_both_classes(y_val, "held-out")

    fingerprint = hashlib.sha256()
    for part in (x_train, y_train, x_val, y_val):
        fingerprint.update(np.ascontiguousarray(part).tobytes())
    fingerprint.update(repr((plan.cutoffs, plan.validation_cutoff, plan.label_window_days, names)).encode())

    stop_mask = entity_train % 5 == 0
    params = {**plan.params, "seed": plan.seed}
    dtrain = xgb.DMatrix(x_train[~stop_mask], label=y_train[~stop_mask], feature_names=names, missing=np.nan)
    dstop = xgb.DMatrix(x_train[stop_mask], label=y_train[stop_mask], feature_names=names, missing=np.nan)
    base = len(plan.cutoffs) + 1

    class _Report(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log) -> bool:
            report(base + epoch + 1, steps, f"boosting round {epoch + 1}")
            return False

    t = time.perf_counter()
    booster = xgb.train(params, dtrain, num_boost_round=plan.num_boost_round, evals=[(dstop, "early_stop")],
                        early_stopping_rounds=plan.early_stopping_rounds, verbose_eval=False,
                        callbacks=[_Report()])
    # Keep only the rounds up to the best one, so scoring and contributions use exactly the chosen model.
    best = int(booster.best_iteration) + 1
    booster = booster[:best]
    timings["fit"] = time.perf_counter() - t

    report(base + plan.num_boost_round, steps, "measuring on the held-out window")
    p_val = booster.inplace_predict(x_val)
    p_train = booster.inplace_predict(x_train)
    metrics = evaluate_predictions(y_val, p_val)
    metrics["best_iteration"] = best
    metrics["n_train"] = len(y_train)
    metrics["train_positive_rate"] = float(y_train.mean()) if len(y_train) else 0.0
    gain = booster.get_score(importance_type="gain")
    total_gain = sum(gain.values()) or 1.0
    metrics["importance"] = sorted(({"feature": n, "gain": float(gain.get(n, 0.0)),
                                     "share": float(gain.get(n, 0.0) / total_gain)} for n in names),
                                   key=lambda r: -r["gain"])

    report(base + plan.num_boost_round + 1, steps, "logistic-regression baseline")
    t = time.perf_counter()
    baseline = make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                             StandardScaler(), LogisticRegression(max_iter=500))
    baseline.fit(x_train, y_train)
    p_base = baseline.predict_proba(x_val)[:, 1]
    base_metrics = evaluate_predictions(y_val, p_base, curves=False)
    for key in ("roc_auc", "pr_auc", "brier_score"):
        metrics[f"baseline_{key}"] = base_metrics[key]
    metrics["baseline_precision_at_k"] = base_metrics["precision_at_k"]
    timings["baseline"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    metrics["timings"] = {k: round(v, 3) for k, v in timings.items()}

    top = [r["feature"] for r in metrics["importance"][:5] if r["gain"] > 0]
    summary = {
        "as_of": plan.cutoffs[-1].isoformat(),
        "rows": len(y_train),
        "score": distribution(p_train),
        "features": {n: distribution(x_train[:, names.index(n)]) for n in top},
        "means": {n: _mean(x_train[:, j]) for j, n in enumerate(names)},
    }
    report(steps, steps, "done")
    return TrainedModel(
        booster=booster, artifact=booster_to_bytes(booster), features=names,
        params={**params, "num_boost_round": plan.num_boost_round,
                "early_stopping_rounds": plan.early_stopping_rounds},
        plan=plan, metrics=metrics, thresholds=default_thresholds(p_val), label_counts=label_counts,
        fingerprint=fingerprint.hexdigest(), training_summary=summary)


def _mean(values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if len(finite) else None


def _require_both_classes(y: np.ndarray, what: str) -> None:
    from domain.errors import InvalidInput

    if len(y) == 0:
        raise InvalidInput(f"the {what} data is empty: no entities existed at its cut-offs", field="cutoffs",
                           code="no_data")
    if y.min() == y.max():
        raise InvalidInput(f"the {what} labels are all {int(y[0])}: a model needs both outcomes; "
                           "choose other cut-offs or load more supervision data", field="cutoffs",
                           code="one_class")


def default_thresholds(scores: np.ndarray) -> dict[str, float]:
    """Level thresholds (level → minimum score) that put DEFAULT_LEVEL_SHARES of `scores` at each level."""
    out: dict[str, float] = {}
    previous = 1.0
    for level in LEVELS:
        value = float(np.quantile(scores, 1 - DEFAULT_LEVEL_SHARES[level])) if len(scores) else 0.5
        value = round(min(value, previous - 1e-4), 4)
        out[level] = max(value, 1e-4 * (len(LEVELS) - LEVELS.index(level)))
        previous = out[level]
    return out


def _thin(xs: np.ndarray, ys: np.ndarray, points: int = 200) -> tuple[list[float], list[float]]:
    if len(xs) > points:
        idx = np.unique(np.linspace(0, len(xs) - 1, points).round().astype(int))
        xs, ys = xs[idx], ys[idx]
    return [round(float(v), 5) for v in xs], [round(float(v), 5) for v in ys]


def evaluate_predictions(y: np.ndarray, p: np.ndarray, *, curves: bool = True) -> dict[str, Any]:
    """ROC-AUC, PR-AUC, Brier, precision/recall at the top k, calibration table (and curves)."""
    y = np.asarray(y).astype(np.int8)
    p = np.asarray(p, dtype=np.float64)
    positives = int(y.sum())
    out: dict[str, Any] = {
        "n_validation": len(y),
        "validation_positives": positives,
        "positive_rate": float(y.mean()) if len(y) else 0.0,
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier_score": float(brier_score_loss(y, p)),
    }
    order = np.argsort(-p, kind="stable")
    ranked = y[order]
    at_k = []
    for share in (0.01, 0.05, 0.10, 0.20):
        k = max(1, round(len(y) * share))
        hits = int(ranked[:k].sum())
        at_k.append({"share": share, "k": k, "precision": hits / k, "recall": hits / positives if positives else 0.0})
    out["precision_at_k"] = at_k
    bins = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
    which = np.clip(np.searchsorted(bins, p, side="right") - 1, 0, max(len(bins) - 2, 0))
    table = []
    for b in range(max(len(bins) - 1, 1)):
        mask = which == b
        if mask.any():
            table.append({"low": float(bins[b]), "high": float(bins[min(b + 1, len(bins) - 1)]),
                          "count": int(mask.sum()), "mean_predicted": float(p[mask].mean()),
                          "observed_rate": float(y[mask].mean())})
    out["calibration"] = table
    if curves:
        fpr, tpr, _ = roc_curve(y, p)
        out["roc_curve"] = dict(zip(("fpr", "tpr"), _thin(fpr, tpr), strict=True))
        precision, recall, _ = precision_recall_curve(y, p)
        out["pr_curve"] = dict(zip(("recall", "precision"), _thin(recall[::-1], precision[::-1]), strict=True))
    return out
