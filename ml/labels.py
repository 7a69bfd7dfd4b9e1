"""Training labels (标签): what happened to each entity in the window after a cut-off.

Two sources, feedback first: (1) warning feedback outcomes (risk confirmed / false alarm) where they
exist; (2) the historical outcome — a penalty or a failed inspection decided (or, without a decision
date, started) in (cut-off, cut-off + window] — so a first model trains before any feedback exists.
Feedback labels come from `ml/labels_feedback.py` (closed warnings' accepted feedback), registered in
`_FEEDBACK_SOURCES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

__all__ = ["Labels", "compute_labels"]


@dataclass
class Labels:
    """y[i] is entity_ids[i]'s outcome (1 risk, 0 none); source[i] says where it came from."""

    y: np.ndarray  # int8
    source: np.ndarray  # object: "historical" / "feedback"
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def compute_labels(conn: sa.Connection, cutoff: date, window_days: int, entity_ids: np.ndarray) -> Labels:
    """Labels for `entity_ids` (ascending) at `cutoff`, in one grouped query per source."""
    n = len(entity_ids)
    y = np.zeros(n, dtype=np.int8)
    source = np.full(n, "historical", dtype=object)
    params = {"cutoff": cutoff, "until": cutoff + timedelta(days=window_days)}
    rows = conn.execute(sa.text("""
        SELECT DISTINCT entity_id FROM supervision_action
        WHERE (kind = 'penalty' OR (kind = 'inspection' AND result = 'fail'))
          AND COALESCE(decided_on, started_on) > :cutoff
          AND COALESCE(decided_on, started_on) <= :until"""), params).all()
    if rows and n:
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        y[np.isin(entity_ids, ids, assume_unique=True)] = 1
    for feedback in _FEEDBACK_SOURCES:
        feedback(conn, params, entity_ids, y, source)
    counts: dict[str, dict[str, int]] = {}
    for name in ("historical", "feedback"):
        mask = source == name
        if mask.any():
            counts[name] = {"positive": int(y[mask].sum()), "negative": int((y[mask] == 0).sum())}
    return Labels(y=y, source=source, counts=counts)


# fn(conn, params, entity_ids, y, source): overwrite y and set source="feedback" where feedback exists.
_FEEDBACK_SOURCES: list[Callable[..., None]] = []

from ml.labels_feedback import feedback_labels  # noqa: E402  (warning feedback outcomes, issue 14)

_FEEDBACK_SOURCES.append(feedback_labels)
