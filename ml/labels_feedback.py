"""Feedback labels (处置反馈标签): the outcome a department reported on a warning, once the analyst accepted it
(the warning closed), is the entity's label for the window the feedback fell in — risk confirmed or partly
confirmed is 1, a false alarm is 0 — over the historical outcome. Registered in `ml.labels._FEEDBACK_SOURCES`;
the version's label counts then show how many labels came from each source."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from domain.disposal.models import WarningFeedback
from domain.types import LOCAL_TZ
from domain.warnings.models import Warning

__all__ = ["POSITIVE_OUTCOMES", "feedback_labels"]

POSITIVE_OUTCOMES = ("confirmed", "partly")


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=LOCAL_TZ)


def feedback_labels(conn: sa.Connection, params: dict[str, Any], entity_ids: np.ndarray, y: np.ndarray,
                    source: np.ndarray) -> None:
    """Overwrite y (and mark source "feedback") for entities with accepted feedback in (cut-off, until]; the last
    feedback in the window wins. One query, ordered, so no per-entity round trips."""
    if not len(entity_ids):
        return
    f, w = WarningFeedback.__table__, Warning.__table__  # type: ignore[attr-defined]
    rows = conn.execute(
        sa.select(w.c.entity_id, f.c.outcome)
        .select_from(f.join(w, w.c.id == f.c.warning_id))
        .where(f.c.part == "main", w.c.status == "closed", f.c.outcome.is_not(None),
               f.c.submitted_at >= _end_of(params["cutoff"]), f.c.submitted_at < _end_of(params["until"]))
        .order_by(f.c.submitted_at, f.c.id)).all()
    if not rows:
        return
    last: dict[int, int] = {}
    for entity_id, outcome in rows:
        last[int(entity_id)] = 1 if outcome in POSITIVE_OUTCOMES else 0
    ids = np.fromiter(last.keys(), dtype=np.int64, count=len(last))
    values = np.fromiter(last.values(), dtype=np.int8, count=len(last))
    pos = np.searchsorted(entity_ids, ids)
    ok = (pos < len(entity_ids)) & (entity_ids[np.clip(pos, 0, len(entity_ids) - 1)] == ids)
    y[pos[ok]] = values[ok]
    source[pos[ok]] = "feedback"
