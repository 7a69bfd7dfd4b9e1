"""A model version's held-out metrics (模型指标), read in the one shape training writes (`ml.training`).

`metrics` JSON keys: roc_auc, roc_auc_ci [low, high], pr_auc, brier_score, positive_rate, mean_predicted,
mean_predicted_before, ece, ece_before, calibration / calibration_before ([{low, high, count, mean_predicted,
observed_rate}]), lift ([{decile, count, positives, rate, lift, cumulative_recall}]), precision_at_k
([{share, k, precision, recall}]), top_1000 {k, positives}, new_events {the same figures with follow-up positives
left out}, follow_up_positives, baseline_* (the fair baseline), baseline_new_events, roc_curve {fpr, tpr},
pr_curve {recall, precision}, importance ([{feature, gain, share}]), calibration_method, best_iteration, n_train.
Versions trained before calibration lack some keys: those read as None or empty, never as an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CalibrationBin",
    "CurvePoint",
    "EventMetrics",
    "FeatureImportance",
    "LiftRow",
    "MetricAtK",
    "ModelMetrics",
]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _rows(raw: Any) -> list[Mapping[str, Any]]:
    return [r for r in raw if isinstance(r, Mapping)] if isinstance(raw, list) else []


@dataclass(frozen=True)
class CurvePoint:
    x: float
    y: float


@dataclass(frozen=True)
class CalibrationBin:
    lower: float | None
    upper: float | None
    mean_predicted: float | None
    observed_rate: float | None
    count: int | None


@dataclass(frozen=True)
class FeatureImportance:
    feature: str
    importance: float  # gain
    share: float | None = None  # of the total gain


@dataclass(frozen=True)
class MetricAtK:
    k: int
    share: float | None
    precision: float | None
    recall: float | None


@dataclass(frozen=True)
class LiftRow:
    """One decile of the score, highest first (十分位提升度)."""

    decile: int
    count: int
    positives: int
    rate: float | None
    lift: float | None
    cumulative_recall: float | None


def _curve(raw: Any, x_key: str, y_key: str) -> list[CurvePoint]:
    if not isinstance(raw, Mapping):
        return []
    xs, ys = raw.get(x_key), raw.get(y_key)
    if not isinstance(xs, list) or not isinstance(ys, list):
        return []
    return [CurvePoint(float(x), float(y)) for x, y in zip(xs, ys, strict=False)
            if _num(x) is not None and _num(y) is not None]


def _calibration(raw: Any) -> list[CalibrationBin]:
    return [CalibrationBin(_num(r.get("low")), _num(r.get("high")), _num(r.get("mean_predicted")),
                           _num(r.get("observed_rate")), _int(r.get("count"))) for r in _rows(raw)]


def _at_k(raw: Any) -> list[MetricAtK]:
    return [MetricAtK(int(r["k"]), _num(r.get("share")), _num(r.get("precision")), _num(r.get("recall")))
            for r in _rows(raw) if _int(r.get("k")) is not None]


def _lift(raw: Any) -> list[LiftRow]:
    return [LiftRow(int(r["decile"]), _int(r.get("count")) or 0, _int(r.get("positives")) or 0, _num(r.get("rate")),
                    _num(r.get("lift")), _num(r.get("cumulative_recall")))
            for r in _rows(raw) if _int(r.get("decile")) is not None]


def _interval(raw: Any) -> tuple[float, float] | None:
    if isinstance(raw, list | tuple) and len(raw) == 2:
        low, high = _num(raw[0]), _num(raw[1])
        if low is not None and high is not None:
            return (low, high)
    return None


@dataclass(frozen=True)
class EventMetrics:
    """Headline figures on one set of held-out entities (all of them, or new events only)."""

    n: int | None = None
    positives: int | None = None
    positive_rate: float | None = None
    mean_predicted: float | None = None
    roc_auc: float | None = None
    roc_auc_ci: tuple[float, float] | None = None
    pr_auc: float | None = None
    brier_score: float | None = None
    at_k: list[MetricAtK] = field(default_factory=list)
    lift: list[LiftRow] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: Any) -> EventMetrics:
        m = raw if isinstance(raw, Mapping) else {}
        return cls(n=_int(m.get("n_validation", m.get("n"))), positives=_int(m.get("validation_positives",
                                                                                   m.get("positives"))),
                   positive_rate=_num(m.get("positive_rate")), mean_predicted=_num(m.get("mean_predicted")),
                   roc_auc=_num(m.get("roc_auc")), roc_auc_ci=_interval(m.get("roc_auc_ci")),
                   pr_auc=_num(m.get("pr_auc")), brier_score=_num(m.get("brier_score")),
                   at_k=_at_k(m.get("precision_at_k")), lift=_lift(m.get("lift")))

    @property
    def mean_gap(self) -> float | None:
        """Mean predicted relative to the observed rate, −1…: +0.05 = predicts 5% more than happened."""
        if self.mean_predicted is None or not self.positive_rate:
            return None
        return self.mean_predicted / self.positive_rate - 1


@dataclass(frozen=True)
class ModelMetrics:
    """A version's held-out metrics: the model's, on all entities and on new events only, and the fair
    baseline's beside them."""

    overall: EventMetrics = field(default_factory=EventMetrics)
    new_events: EventMetrics = field(default_factory=EventMetrics)
    baseline: EventMetrics = field(default_factory=EventMetrics)
    baseline_new_events: EventMetrics = field(default_factory=EventMetrics)
    follow_up_positives: int | None = None
    ece: float | None = None
    ece_before: float | None = None
    mean_predicted_before: float | None = None
    calibration_method: str | None = None
    calibration: list[CalibrationBin] = field(default_factory=list)
    calibration_before: list[CalibrationBin] = field(default_factory=list)
    top_1000: tuple[int, int] | None = None  # (k, positives among the k highest scored)
    roc_curve: list[CurvePoint] = field(default_factory=list)
    pr_curve: list[CurvePoint] = field(default_factory=list)
    importance: list[FeatureImportance] = field(default_factory=list)
    best_iteration: int | None = None
    n_train: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> ModelMetrics:
        m = dict(raw or {})
        baseline = {"roc_auc": m.get("baseline_roc_auc"), "pr_auc": m.get("baseline_pr_auc"),
                    "brier_score": m.get("baseline_brier_score"), "mean_predicted": m.get("baseline_mean_predicted"),
                    "positive_rate": m.get("positive_rate"), "n_validation": m.get("n_validation"),
                    "validation_positives": m.get("validation_positives"),
                    "precision_at_k": m.get("baseline_precision_at_k")}
        top = m.get("top_1000") if isinstance(m.get("top_1000"), Mapping) else None
        importance = [FeatureImportance(str(r["feature"]), float(_num(r.get("gain")) or 0.0), _num(r.get("share")))
                      for r in _rows(m.get("importance")) if r.get("feature")]
        return cls(
            overall=EventMetrics.parse(m), new_events=EventMetrics.parse(m.get("new_events")),
            baseline=EventMetrics.parse(baseline), baseline_new_events=EventMetrics.parse(m.get("baseline_new_events")),
            follow_up_positives=_int(m.get("follow_up_positives")), ece=_num(m.get("ece")),
            ece_before=_num(m.get("ece_before")), mean_predicted_before=_num(m.get("mean_predicted_before")),
            calibration_method=m.get("calibration_method") if isinstance(m.get("calibration_method"), str) else None,
            calibration=_calibration(m.get("calibration")),
            calibration_before=_calibration(m.get("calibration_before")),
            top_1000=(int(top["k"]), int(top["positives"])) if top and "k" in top and "positives" in top else None,
            roc_curve=_curve(m.get("roc_curve"), "fpr", "tpr"),
            pr_curve=_curve(m.get("pr_curve"), "recall", "precision"),
            importance=sorted(importance, key=lambda f: -f.importance),
            best_iteration=_int(m.get("best_iteration")), n_train=_int(m.get("n_train")), raw=m)

    # The figures most pages show, by their usual names.
    @property
    def roc_auc(self) -> float | None:
        return self.overall.roc_auc

    @property
    def pr_auc(self) -> float | None:
        return self.overall.pr_auc

    @property
    def brier_score(self) -> float | None:
        return self.overall.brier_score

    @property
    def positive_rate(self) -> float | None:
        return self.overall.positive_rate

    @property
    def baseline_roc_auc(self) -> float | None:
        return self.baseline.roc_auc

    @property
    def baseline_pr_auc(self) -> float | None:
        return self.baseline.pr_auc

    @property
    def at_k(self) -> list[MetricAtK]:
        return self.overall.at_k
