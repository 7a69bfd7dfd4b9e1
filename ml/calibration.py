"""Calibration (概率校准): turn the booster's raw scores into probabilities that match observed rates.

Fitted on a held-out slice of the *training* cut-offs (the early-stopping fifth of the entities, id mod 5 = 0,
at the most recent training cut-offs: `TrainingPlan.calibration_cutoffs`), never on the validation window,
so the held-out figures stay honest. The mapping is stored with the version as plain JSON and applied to
every score the version writes (scoring runs, on-demand scores, backtests).

Two methods: Platt scaling (a logistic fit on the raw log-odds, `platt`: strictly monotone, so rankings and
ROC-AUC are unchanged) and isotonic regression (`isotonic`: a step function interpolated linearly between
its knots, so it may tie a few scores). Training uses Platt by default; see the README's model report.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["CALIBRATION_METHODS", "apply_calibration", "fit_calibration"]

CALIBRATION_METHODS = ("platt", "isotonic")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def fit_calibration(raw: np.ndarray, y: np.ndarray, method: str = "platt") -> dict[str, Any]:
    """The calibration mapping fitted on (raw score, outcome) pairs, as JSON-ready data."""
    y = np.asarray(y).astype(np.float64)
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000)
        lr.fit(_logit(raw).reshape(-1, 1), y)
        return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0]), "n": len(y)}
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(np.asarray(raw, dtype=np.float64), y)
        return {"method": "isotonic", "x": [round(float(v), 7) for v in iso.X_thresholds_],
                "y": [round(float(v), 7) for v in iso.y_thresholds_], "n": len(y)}
    raise ValueError(f"unknown calibration method {method!r}; use one of {CALIBRATION_METHODS}")


def apply_calibration(spec: dict[str, Any] | None, raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities (float32) for raw scores; without a mapping (versions before calibration) the raw
    scores as they are. Vectorised: a million scores cost a few milliseconds."""
    raw = np.asarray(raw)
    if not spec:
        return raw.astype(np.float32, copy=False)
    if spec.get("method") == "platt":
        z = float(spec["a"]) * _logit(raw) + float(spec["b"])
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
    if spec.get("method") == "isotonic":
        return np.interp(raw.astype(np.float64), spec["x"], spec["y"]).astype(np.float32)
    raise ValueError(f"unknown calibration method {spec.get('method')!r}")
