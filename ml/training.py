"""Training (模型训练): time-split training sets, XGBoost with early stopping, metrics, a logistic baseline.

Split by time, never at random: the model learns from earlier cut-offs and is judged on a later,
held-out cut-off. Each training cut-off's label window ends on or before the held-out cut-off, so no
outcome the held-out window measures is seen in training. Early stopping watches a fixed fifth of the
entities (id mod 5 = 0) across the training cut-offs, never the held-out window.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from domain.risk.models import LEVELS
from ml.artifacts import booster_to_bytes
from ml.calibration import apply_calibration, fit_calibration
from ml.drift import distribution
from ml.features import compute_features, feature, model_features
from ml.labels import compute_labels

__all__ = [
    "DEFAULT_LEVEL_SHARES",
    "DEFAULT_PARAMS",
    "Progress",
    "TrainedModel",
    "TrainingPlan",
    "default_plan",
    "evaluate_predictions",
    "fair_baseline",
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
    calibration: str = "platt"  # ml.calibration.CALIBRATION_METHODS
    # Calibrate on the held-out fifth of the last N training cut-offs (0: all): the recent ones carry the history
    # length and base rate closest to what scoring sees (README, model report).
    calibration_cutoffs: int = 4

    def check(self) -> list[tuple[str, str]]:
        """Problems as (snake_case field, Chinese message); empty when the plan is sound."""
        problems: list[tuple[str, str]] = []
        if not self.cutoffs:
            problems.append(("cutoffs", "至少需要一个训练截止日"))
        if self.label_window_days < 1:
            problems.append(("label_window_days", "标签窗口至少为 1 天"))
        window = timedelta(days=self.label_window_days)
        late = [c for c in self.cutoffs if c + window > self.validation_cutoff]
        if late:
            problems.append(("cutoffs", f"训练截止日 {late[0]} 加上 {self.label_window_days} 天标签窗口，"
                             f"超过了验证截止日 {self.validation_cutoff}：训练会看到验证期的结果"))
        if self.num_boost_round < 1:
            problems.append(("num_boost_round", "至少需要一轮梯度提升"))
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


def default_plan(conn: sa.Connection, *, label_window_days: int | None = None, n_cutoffs: int | None = None,
                 seed: int | None = None, as_of: date | None = None, step_days: int | None = None) -> TrainingPlan:
    """The held-out cut-off is one label window before the data's latest date; the last training cut-off one
    more window before that; earlier ones step back `step_days`. Unset arguments take the training action's
    defaults (`ml.model_training.TRAIN_DEFAULTS`: 15 cut-offs 28 days apart, a 90-day window, seed 42); with
    `step_days=0` the step is 90 days, or less (not under 30) when the history is short."""
    from ml.model_training import TRAIN_DEFAULTS as d

    label_window_days = d.label_window_days if label_window_days is None else label_window_days
    n_cutoffs = d.n_cutoffs if n_cutoffs is None else n_cutoffs
    seed = d.seed if seed is None else seed
    step_days = d.step_days if step_days is None else step_days
    latest = as_of or latest_data_date(conn) or date.today()
    earliest = _data_date(conn, "MIN") or latest
    validation = latest - timedelta(days=label_window_days)
    last_train = validation - timedelta(days=label_window_days)
    room = (last_train - earliest).days - 365
    step = step_days or (90 if n_cutoffs < 2 else max(30, min(90, room // (n_cutoffs - 1))))
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
    calibration: dict[str, Any] = field(default_factory=dict)


def _rows(conn: sa.Connection, cutoff: date, plan: TrainingPlan, names: list[str]):
    matrix = compute_features(conn, cutoff)
    labels = compute_labels(conn, cutoff, plan.label_window_days, matrix.entity_ids)
    return matrix.entity_ids, matrix.select(names), labels


def _merge_counts(total: dict[str, Any], counts: dict[str, dict[str, int]]) -> None:
    for source, by_class in counts.items():
        slot = total.setdefault(source, {"positive": 0, "negative": 0})
        for k, v in by_class.items():
            slot[k] += v


def fair_baseline(names: list[str]) -> Pipeline:
    """The baseline the model must beat (公平基线): logistic regression on log-transformed counts and amounts,
    one-hot categories, flags as they are; missing values imputed (median) with an indicator; all scaled."""
    cats = [i for i, n in enumerate(names) if feature(n).is_category]
    flags = [i for i, n in enumerate(names) if feature(n).cel_type == "bool"]
    numeric = [i for i in range(len(names)) if i not in set(cats) | set(flags)]
    log = FunctionTransformer(_log1p_nonneg, feature_names_out="one-to-one")
    transform = ColumnTransformer([
        ("numeric", make_pipeline(log, SimpleImputer(strategy="median", add_indicator=True,
                                                     keep_empty_features=True), StandardScaler()), numeric),
        ("category", make_pipeline(SimpleImputer(strategy="constant", fill_value=0, keep_empty_features=True),
                                   OneHotEncoder(handle_unknown="ignore", min_frequency=20)), cats),
        ("flag", SimpleImputer(strategy="constant", fill_value=0, keep_empty_features=True), flags),
    ])
    return make_pipeline(transform, LogisticRegression(max_iter=1000))


def _log1p_nonneg(x: np.ndarray) -> np.ndarray:
    """log(1 + x) for counts, amounts, days and ratios (never negative); NaN stays missing."""
    return np.log1p(np.maximum(np.asarray(x, dtype=np.float64), 0.0))


def train(conn: sa.Connection, plan: TrainingPlan, *, progress: Progress | None = None,
          features: list[str] | None = None) -> TrainedModel:
    """Build the time-split data, fit XGBoost, calibrate it, fit the fair baseline, measure both on the
    held-out cut-off (headline and new events only)."""
    report = progress or (lambda done, total, message: None)
    names = features or model_features()
    steps = len(plan.cutoffs) + 1 + plan.num_boost_round + 3
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    xs, ys, ids_all = [], [], []
    label_counts: dict[str, Any] = {"train": {}, "validation": {}}
    for i, cutoff in enumerate(plan.cutoffs):
        report(i, steps, f"计算截止日 {cutoff} 的特征与标签（训练集 {i + 1}/{len(plan.cutoffs)}）")
        ids, x, labels = _rows(conn, cutoff, plan, names)
        xs.append(x)
        ys.append(labels.y)
        ids_all.append(ids)
        _merge_counts(label_counts["train"], labels.counts)
    report(len(plan.cutoffs), steps, f"计算验证截止日 {plan.validation_cutoff} 的特征与标签")
    _, x_val, val_labels = _rows(conn, plan.validation_cutoff, plan, names)
    y_val = val_labels.y
    _merge_counts(label_counts["validation"], val_labels.counts)
    follow_up = val_labels.follow_up if val_labels.follow_up is not None else np.zeros(len(y_val), bool)
    label_counts["validation_follow_up"] = int(follow_up.sum())
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

    # The held-out fifth of the training entities: early stopping, then calibration. Never the validation window.
    stop_mask = entity_train % 5 == 0
    params = {**plan.params, "seed": plan.seed}
    dtrain = xgb.DMatrix(x_train[~stop_mask], label=y_train[~stop_mask], feature_names=names, missing=np.nan)
    dstop = xgb.DMatrix(x_train[stop_mask], label=y_train[stop_mask], feature_names=names, missing=np.nan)
    base = len(plan.cutoffs) + 1

    class _Report(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log) -> bool:
            report(base + epoch + 1, steps, f"梯度提升第 {epoch + 1} 轮（至多 {plan.num_boost_round} 轮，"
                                            f"连续 {plan.early_stopping_rounds} 轮无改进即停止）")
            return False

    t = time.perf_counter()
    booster = xgb.train(params, dtrain, num_boost_round=plan.num_boost_round, evals=[(dstop, "early_stop")],
                        early_stopping_rounds=plan.early_stopping_rounds, verbose_eval=False,
                        callbacks=[_Report()])
    # Keep only the rounds up to the best one, so scoring and contributions use exactly the chosen model.
    best = int(booster.best_iteration) + 1
    booster = booster[:best]
    timings["fit"] = time.perf_counter() - t

    report(base + plan.num_boost_round, steps, "在训练期留出的五分之一主体上校准概率")
    t = time.perf_counter()
    raw_train = booster.inplace_predict(x_train)
    calib_mask = stop_mask.copy()
    if plan.calibration_cutoffs:
        recent = np.concatenate([np.full(len(y), i >= len(ys) - plan.calibration_cutoffs) for i, y in enumerate(ys)])
        calib_mask &= recent
    calibration = fit_calibration(raw_train[calib_mask], y_train[calib_mask], plan.calibration)
    p_train = apply_calibration(calibration, raw_train)
    timings["calibrate"] = time.perf_counter() - t

    report(base + plan.num_boost_round + 1, steps, "在验证窗口上评估模型")
    raw_val = booster.inplace_predict(x_val)
    p_val = apply_calibration(calibration, raw_val)
    metrics = evaluate_predictions(y_val, p_val, seed=plan.seed)
    metrics["calibration_before"] = _calibration_table(y_val, raw_val)
    metrics["ece_before"] = _ece(metrics["calibration_before"], len(y_val))
    metrics["mean_predicted_before"] = float(np.mean(raw_val))
    metrics["calibration_method"] = calibration["method"]
    metrics["calibration_by_cutoff"] = _by_cutoff(plan, ys, stop_mask, raw_train, p_train)
    metrics["new_events"] = _new_events(y_val, p_val, follow_up)
    metrics["follow_up_positives"] = int(follow_up.sum())
    metrics["best_iteration"] = best
    metrics["n_train"] = len(y_train)
    metrics["n_calibration"] = int(calib_mask.sum())
    metrics["train_positive_rate"] = float(y_train.mean()) if len(y_train) else 0.0
    gain = cast("dict[str, float]", booster.get_score(importance_type="gain"))  # one number per feature
    total_gain = sum(gain.values()) or 1.0
    metrics["importance"] = sorted(({"feature": n, "gain": float(gain.get(n, 0.0)),
                                     "share": float(gain.get(n, 0.0) / total_gain)} for n in names),
                                   key=lambda r: -r["gain"])

    report(base + plan.num_boost_round + 2, steps, "拟合公平基线（逻辑回归）")
    t = time.perf_counter()
    baseline = fair_baseline(names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # one-hot categories unseen in training
        baseline.fit(x_train, y_train)
        p_base = baseline.predict_proba(x_val)[:, 1]
    base_metrics = evaluate_predictions(y_val, p_base, curves=False, bootstrap=0)
    for key in ("roc_auc", "pr_auc", "brier_score", "mean_predicted", "ece"):
        metrics[f"baseline_{key}"] = base_metrics[key]
    metrics["baseline_precision_at_k"] = base_metrics["precision_at_k"]
    metrics["baseline_new_events"] = _new_events(y_val, p_base, follow_up, bootstrap=0)
    metrics["baseline_kind"] = "fair_logistic"
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
    report(steps, steps, "训练完成")
    return TrainedModel(
        booster=booster, artifact=booster_to_bytes(booster), features=names,
        params={**params, "num_boost_round": plan.num_boost_round,
                "early_stopping_rounds": plan.early_stopping_rounds},
        plan=plan, metrics=metrics, thresholds=default_thresholds(p_val), label_counts=label_counts,
        fingerprint=fingerprint.hexdigest(), training_summary=summary, calibration=calibration)


def _by_cutoff(plan: TrainingPlan, ys: list[np.ndarray], held_out: np.ndarray, raw: np.ndarray,
               calibrated: np.ndarray) -> list[dict[str, Any]]:
    """Per training cut-off, on the held-out fifth: entities, observed rate, mean raw and calibrated score."""
    rows, start = [], 0
    for cutoff, y in zip(plan.cutoffs, ys, strict=True):
        sl = slice(start, start + len(y))
        mask = held_out[sl]
        start += len(y)
        if mask.any():
            rows.append({"cutoff": cutoff.isoformat(), "count": int(mask.sum()), "observed_rate": float(y[mask].mean()),
                         "mean_raw": float(raw[sl][mask].mean()), "mean_predicted": float(calibrated[sl][mask].mean())})
    return rows


def _new_events(y: np.ndarray, p: np.ndarray, follow_up: np.ndarray, *, bootstrap: int = 200) -> dict[str, Any]:
    """The headline figures with follow-up positives left out: how well the model finds what is not yet on record."""
    keep = ~follow_up
    y_new, p_new = y[keep], p[keep]
    if len(y_new) == 0 or y_new.min() == y_new.max():
        return {"n": len(y_new), "positives": int(y_new.sum()) if len(y_new) else 0}
    m = evaluate_predictions(y_new, p_new, curves=False, bootstrap=bootstrap)
    return {k: m[k] for k in ("n_validation", "validation_positives", "positive_rate", "roc_auc", "roc_auc_ci",
                              "pr_auc", "brier_score", "mean_predicted", "precision_at_k", "lift") if k in m}


def _mean(values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if len(finite) else None


def _require_both_classes(y: np.ndarray, what: str) -> None:
    from domain.errors import InvalidInput

    name = {"training": "训练集", "held-out": "验证集"}.get(what, what)
    if len(y) == 0:
        raise InvalidInput(f"{name}为空：截止日时还没有任何监管对象", field="cutoffs", code="no_data")
    if y.min() == y.max():
        outcome = "都有" if int(y[0]) else "都没有"
        raise InvalidInput(f"{name}的主体在标签窗口内{outcome}处罚或检查不合格：模型需要两种结果；"
                           "请换截止日或导入更多监管数据", field="cutoffs", code="one_class")


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


def _calibration_table(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Equal-count bins (deciles of the score): range, count, mean predicted, observed rate."""
    y = np.asarray(y).astype(np.int8)
    p = np.asarray(p, dtype=np.float64)
    bins = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
    which = np.clip(np.searchsorted(bins, p, side="right") - 1, 0, max(len(bins) - 2, 0))
    table = []
    for b in range(max(len(bins) - 1, 1)):
        mask = which == b
        if mask.any():
            table.append({"low": float(bins[b]), "high": float(bins[min(b + 1, len(bins) - 1)]),
                          "count": int(mask.sum()), "mean_predicted": float(p[mask].mean()),
                          "observed_rate": float(y[mask].mean())})
    return table


def _ece(table: list[dict[str, Any]], n: int) -> float:
    """Expected calibration error: the count-weighted mean gap between predicted and observed, over the bins."""
    if not n:
        return 0.0
    return float(sum(r["count"] * abs(r["mean_predicted"] - r["observed_rate"]) for r in table) / n)


def _lift(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Per decile of the score, highest first: entities, positives, rate, lift over the overall rate, and the
    share of all positives found down to that decile."""
    order = np.argsort(-p, kind="stable")
    ranked = y[order]
    total, rate = int(y.sum()), float(y.mean()) if len(y) else 0.0
    rows, found = [], 0
    for d, part in enumerate(np.array_split(ranked, 10), start=1):
        hits = int(part.sum())
        found += hits
        r = hits / len(part) if len(part) else 0.0
        rows.append({"decile": d, "count": len(part), "positives": hits, "rate": r,
                     "lift": r / rate if rate else 0.0, "cumulative_recall": found / total if total else 0.0})
    return rows


def _auc_interval(y: np.ndarray, p: np.ndarray, rounds: int, seed: int) -> list[float] | None:
    """95% bootstrap interval (percentile, `rounds` resamples of the entities) for ROC-AUC."""
    if rounds <= 0:
        return None
    rng = np.random.default_rng(seed)
    n, aucs = len(y), []
    for _ in range(rounds):
        idx = rng.integers(0, n, n)
        ys = y[idx]
        if 0 < ys.sum() < n:
            aucs.append(roc_auc_score(ys, p[idx]))
    if not aucs:
        return None
    return [float(np.quantile(aucs, 0.025)), float(np.quantile(aucs, 0.975))]


def evaluate_predictions(y: np.ndarray, p: np.ndarray, *, curves: bool = True, bootstrap: int = 200,
                         seed: int = 42) -> dict[str, Any]:
    """ROC-AUC (with a bootstrap 95% interval), PR-AUC, Brier, mean predicted vs observed, calibration table and
    ECE, lift per decile, precision/recall at the top k (and curves)."""
    y = np.asarray(y).astype(np.int8)
    p = np.asarray(p, dtype=np.float64)
    positives = int(y.sum())
    out: dict[str, Any] = {
        "n_validation": len(y),
        "validation_positives": positives,
        "positive_rate": float(y.mean()) if len(y) else 0.0,
        "mean_predicted": float(p.mean()) if len(p) else 0.0,
        "roc_auc": float(roc_auc_score(y, p)),
        "roc_auc_ci": _auc_interval(y, p, bootstrap, seed),
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
    k = min(1000, len(y))
    out["top_1000"] = {"k": k, "positives": int(ranked[:k].sum())}
    out["calibration"] = _calibration_table(y, p)
    out["ece"] = _ece(out["calibration"], len(y))
    out["lift"] = _lift(y, p)
    if curves:
        fpr, tpr, _ = roc_curve(y, p)
        out["roc_curve"] = dict(zip(("fpr", "tpr"), _thin(fpr, tpr), strict=True))
        precision, recall, _ = precision_recall_curve(y, p)
        out["pr_curve"] = dict(zip(("recall", "precision"), _thin(recall[::-1], precision[::-1]), strict=True))
    return out
