"""Explanations (解释): each score's top feature contributions from XGBoost's own `pred_contribs`.

Bulk runs use the approximate contributions (Saabas, ~7× a prediction); one entity on demand gets exact
TreeSHAP (~900× a prediction, nothing for one row).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xgboost as xgb

from ml.bulk import gc_paused
from ml.features import feature

__all__ = ["TOP_CONTRIBUTIONS", "top_columns", "top_contributions", "top_items"]

TOP_CONTRIBUTIONS = 5


def top_contributions(booster: xgb.Booster, x: np.ndarray, names: Sequence[str], *, approx: bool = True,
                      top: int = TOP_CONTRIBUTIONS) -> list[list[list]]:
    """For each row of `x`: up to `top` [feature, value, contribution] with the largest |contribution|
    (log-odds), biggest first; features contributing nothing are left out."""
    if len(x) == 0:
        return []
    contribs = booster.predict(xgb.DMatrix(x, feature_names=list(names), missing=np.nan),
                               pred_contribs=True, approx_contribs=approx)[:, :-1]  # last column: bias
    with gc_paused():
        return top_items(contribs, x, names, top)


def top_columns(contribs: np.ndarray, k: int) -> np.ndarray:
    """Per row, the `k` columns with the largest |contribution|, biggest first, ties to the lower column —
    what a stable argsort of −|contribution| gives, by `k` argmax passes instead of sorting every row."""
    magnitude = np.abs(contribs).astype(np.float32)
    magnitude[np.isnan(magnitude)] = -0.5  # NaN sorts after every number, before the columns already taken
    rows = np.arange(len(contribs))
    order = np.empty((len(contribs), k), dtype=np.intp)
    for i in range(k):
        order[:, i] = best = magnitude.argmax(axis=1)
        magnitude[rows, best] = -1.0
    return order


def top_items(contribs: np.ndarray, x: np.ndarray, names: Sequence[str], top: int = TOP_CONTRIBUTIONS
              ) -> list[list[list]]:
    """[feature, value as people read it, contribution rounded to 4 places] for each row's top columns."""
    k = min(top, contribs.shape[1])
    order = top_columns(contribs, k)
    rows = np.arange(len(x))[:, None]
    top_c = np.round(contribs[rows, order].astype(np.float64), 4).tolist()
    top_v = x[rows, order].astype(np.float64).tolist()
    names = list(names)
    vocab = [feature(n).vocabulary for n in names]
    out: list[list[list]] = []
    for idx_row, c_row, v_row in zip(order.tolist(), top_c, top_v, strict=True):
        items = []
        for j, c, v in zip(idx_row, c_row, v_row, strict=True):
            if c == 0.0:
                continue
            if v != v:  # NaN: missing
                shown: object = None
            elif vocab[j]:
                shown = vocab[j][int(v) - 1] if int(v) > 0 else ""
            else:
                shown = v if v.is_integer() else round(v, 4)
            items.append([names[j], shown, c])
        out.append(items)
    return out
