"""Explanations (解释): each score's top feature contributions from XGBoost's own `pred_contribs`.

Bulk runs use the approximate contributions (Saabas, ~7× a prediction); one entity on demand gets exact
TreeSHAP (~900× a prediction, nothing for one row).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xgboost as xgb

from ml.features import feature

__all__ = ["TOP_CONTRIBUTIONS", "top_contributions"]

TOP_CONTRIBUTIONS = 5


def top_contributions(booster: xgb.Booster, x: np.ndarray, names: Sequence[str], *, approx: bool = True,
                      top: int = TOP_CONTRIBUTIONS) -> list[list[list]]:
    """For each row of `x`: up to `top` [feature, value, contribution] with the largest |contribution|
    (log-odds), biggest first; features contributing nothing are left out."""
    if len(x) == 0:
        return []
    contribs = booster.predict(xgb.DMatrix(x, feature_names=list(names), missing=np.nan),
                               pred_contribs=True, approx_contribs=approx)[:, :-1]  # last column: bias
    k = min(top, contribs.shape[1])
    order = np.argsort(-np.abs(contribs), axis=1, kind="stable")[:, :k]
    rows = np.arange(len(x))[:, None]
    top_c = np.round(contribs[rows, order].astype(np.float64), 4).tolist()
    top_v = x[rows, order].astype(np.float64)
    vocab = [feature(n).vocabulary for n in names]
    out: list[list[list]] = []
    for r, (idx_row, c_row, v_row) in enumerate(zip(order.tolist(), top_c, top_v.tolist(), strict=True)):
        items = []
        for j, c, v in zip(idx_row, c_row, v_row, strict=True):
            if c == 0.0:
                continue
            if v != v:  # NaN: missing
                shown: object = None
            elif vocab[j]:
                shown = vocab[j][int(v) - 1] if int(v) > 0 else ""
            else:
                shown = round(v, 4)
            items.append([names[j], shown, c])
        out.append(items)
        del r
    return out
