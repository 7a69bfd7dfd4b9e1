"""Training labels (标签): what happened to each entity in the window after a cut-off.

Two sources, feedback first: (1) warning feedback outcomes (risk confirmed / false alarm) where they
exist; (2) the historical outcome — a penalty or a failed inspection decided (or, without a decision
date, started) in (cut-off, cut-off + window] — so a first model trains before any feedback exists.
Feedback labels come from `ml/labels_feedback.py` (closed warnings' accepted feedback), registered in
`_FEEDBACK_SOURCES`.

A positive is a **follow-up** (后续处置, a consequence already on record) when its window holds no failed
inspection, only penalties, and the entity had an inspection failed or ordered to rectify within
`FOLLOW_UP_DAYS` before its last penalty in the window, on or before the cut-off: the penalty closes a case
the cut-off already knew about. The other positives are **new events** (新发事件); metrics report both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

__all__ = ["FOLLOW_UP_DAYS", "Labels", "compute_labels"]

# A penalty up to this many days after a failed / rectify-ordered inspection is taken as that case's follow-up.
FOLLOW_UP_DAYS = 120


@dataclass
class Labels:
    """y[i] is entity_ids[i]'s outcome (1 risk, 0 none); source[i] says where it came from."""

    y: np.ndarray  # int8
    source: np.ndarray  # object: "historical" / "feedback"
    follow_up: np.ndarray | None = None  # bool: positive only through a follow-up of a case open at the cut-off
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def compute_labels(conn: sa.Connection, cutoff: date, window_days: int, entity_ids: np.ndarray) -> Labels:
    """Labels for `entity_ids` (ascending) at `cutoff`, in one grouped query per source."""
    n = len(entity_ids)
    y = np.zeros(n, dtype=np.int8)
    source = np.full(n, "historical", dtype=object)
    params = {"cutoff": cutoff, "until": cutoff + timedelta(days=window_days),
              "since": cutoff - timedelta(days=FOLLOW_UP_DAYS)}
    decided = "COALESCE(decided_on, started_on)"
    if conn.dialect.name == "postgresql":
        gap = f"(MAX(CASE WHEN kind = 'penalty' THEN {decided} END) - MAX(CASE WHEN kind = 'inspection' " \
              f"AND {decided} <= :cutoff THEN {decided} END))"
    else:
        gap = f"CAST(julianday(MAX(CASE WHEN kind = 'penalty' THEN {decided} END)) - julianday(MAX(CASE WHEN " \
              f"kind = 'inspection' AND {decided} <= :cutoff THEN {decided} END)) AS INTEGER)"
    # One grouped pass over the window's outcomes and the follow-up horizon before the cut-off.
    rows = conn.execute(sa.text(f"""
        SELECT entity_id,
          MAX(CASE WHEN kind = 'inspection' AND result = 'fail' AND {decided} > :cutoff THEN 1 ELSE 0 END),
          {gap}
        FROM supervision_action
        WHERE ((kind = 'penalty' AND {decided} > :cutoff) OR kind = 'inspection' AND (
                 (result = 'fail' AND {decided} > :cutoff)
                 OR (result IN ('fail', 'rectify') AND {decided} > :since AND {decided} <= :cutoff)))
          AND {decided} <= :until
        GROUP BY entity_id
        HAVING MAX(CASE WHEN {decided} > :cutoff THEN 1 ELSE 0 END) = 1"""), params).all()
    follow_up = np.zeros(n, dtype=bool)
    if rows and n:
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        new_fail = np.array([bool(r[1]) for r in rows])
        gaps = np.array([np.nan if r[2] is None else float(r[2]) for r in rows])
        followed = ~new_fail & (gaps <= FOLLOW_UP_DAYS)
        hit = np.isin(entity_ids, ids, assume_unique=True)
        y[hit] = 1
        pos = np.searchsorted(entity_ids, ids)
        ok = (pos < n) & (entity_ids[np.clip(pos, 0, n - 1)] == ids)
        follow_up[pos[ok]] = followed[ok]
    for feedback in _FEEDBACK_SOURCES:
        feedback(conn, params, entity_ids, y, source)
    counts: dict[str, dict[str, int]] = {}
    for name in ("historical", "feedback"):
        mask = source == name
        if mask.any():
            counts[name] = {"positive": int(y[mask].sum()), "negative": int((y[mask] == 0).sum())}
    follow_up &= (y == 1) & (source == "historical")
    return Labels(y=y, source=source, counts=counts, follow_up=follow_up)


# fn(conn, params, entity_ids, y, source): overwrite y and set source="feedback" where feedback exists.
_FEEDBACK_SOURCES: list[Callable[..., None]] = []

from ml.labels_feedback import feedback_labels  # noqa: E402  (warning feedback outcomes, issue 14)

_FEEDBACK_SOURCES.append(feedback_labels)
