"""Features and labels computed straight from generated columns (numpy), to check the risk is learnable."""

from __future__ import annotations

import numpy as np

from domain.demo.generator import NO_DAY, DemoChunk

__all__ = ["features_and_labels"]


def _count(entity: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(entity[mask], minlength=n)


def features_and_labels(chunk: DemoChunk, cutoff: int, horizon: int = 180) -> tuple[np.ndarray, np.ndarray]:
    """Features as of day ``cutoff`` (only data before it) and the label over the ``horizon`` days after."""
    e, a, c, r = chunk.entities, chunk.actions, chunk.complaints, chunk.credit
    n = len(e)
    cols = []
    for window in (90, 365):
        since = cutoff - window
        for kind in range(4):
            cols.append(_count(a.entity, (a.kind == kind) & (a.started_day >= since) & (a.started_day < cutoff), n))
        cols.append(_count(a.entity, (a.result == 1) & (a.started_day >= since) & (a.started_day < cutoff), n))
    for window in (30, 90, 365):
        cols.append(_count(c.entity, (c.received_day >= cutoff - window) & (c.received_day < cutoff), n))
    last = np.full(n, -10_000)
    insp = (a.kind == 0) & (a.started_day < cutoff)
    np.maximum.at(last, a.entity[insp], a.started_day[insp])
    cols.append(np.minimum(cutoff - last, 3650))
    listed = (r.listed_day < cutoff) & ((r.removed_day == NO_DAY) | (r.removed_day >= cutoff))
    for kind in range(3):
        cols.append(_count(r.entity, listed & (r.kind == kind), n))
    cols.append(cutoff - e.founded_day)
    cols.append(np.log10(e.capital))
    cols.append(e.entity_type)
    cols.append(e.division)
    cols.append(e.region)
    x = np.column_stack(cols).astype(float)
    alive = (e.founded_day < cutoff) & (e.closed_day > cutoff)
    in_window = lambda day: (day >= cutoff) & (day < cutoff + horizon)  # noqa: E731
    hit = ((a.kind == 1) & in_window(np.where(a.decided_day == NO_DAY, a.started_day, a.decided_day))) | (
        (a.result == 1) & in_window(a.started_day))
    y = (_count(a.entity, hit, n) > 0).astype(int)
    return x[alive], y[alive]
