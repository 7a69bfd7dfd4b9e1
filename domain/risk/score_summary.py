"""A scoring run's score summary: its mean score and how many scores fall in each of SCORE_BINS equal bins of
[0, 1] (a score of exactly 1.0 in the last bin). The engine writes it when it stores a run (`summarise`, from the
scores it holds); the statistics dashboard reads it from the run, or — for a run stored before migration 0019 —
counts it from risk_score (`summary_sql`). One binning rule for both."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, col

from domain.risk.models import RiskScore

__all__ = ["SCORE_BINS", "stored_summary", "summarise", "summary_sql"]

SCORE_BINS = 20


def summarise(scores: Iterable[float] | np.ndarray) -> dict[str, Any]:
    """{"mean", "bins"} of the scores as they are stored (the caller passes the rounded values it writes)."""
    values = np.asarray(scores if isinstance(scores, np.ndarray) else list(scores), dtype=np.float64)
    if values.size == 0:
        return {"mean": None, "bins": [0] * SCORE_BINS}
    index = np.clip(np.floor(values * SCORE_BINS).astype(np.int64), 0, SCORE_BINS - 1)
    return {"mean": float(values.mean()), "bins": [int(n) for n in np.bincount(index, minlength=SCORE_BINS)]}


def summary_sql(session: Session, run_id: int) -> dict[str, Any]:
    """The same summary counted from the run's risk_score rows (one grouped statement)."""
    bucket = sa.func.floor(col(RiskScore.score) * SCORE_BINS)
    counts = [0] * SCORE_BINS
    total, weighted = 0, 0.0
    for b, n, score_sum in session.execute(
            sa.select(bucket, sa.func.count(), sa.func.sum(col(RiskScore.score)))
            .where(col(RiskScore.run_id) == run_id).group_by(bucket)):
        if b is None:
            continue
        counts[min(max(int(b), 0), SCORE_BINS - 1)] += int(n)
        total, weighted = total + int(n), weighted + float(score_sum or 0)
    return {"mean": weighted / total if total else None, "bins": counts}


def stored_summary(value: Any) -> dict[str, Any] | None:
    """The run's stored summary when it is one of this shape, else None (then count it)."""
    if isinstance(value, dict) and isinstance(value.get("bins"), list) and len(value["bins"]) == SCORE_BINS:
        return value
    return None
