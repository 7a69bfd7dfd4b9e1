"""Scoring: an indicator's points from a metric value, the weighted total, the grade, ranks with ties.

Pure functions over plain values, so the rules are tested exactly.
- linear: full weight at or beyond the target, nothing at or beyond the floor, a straight line between;
  direction "lower" mirrors it (the target is below the floor).
- bands: the first band the value reaches earns its percent of the weight ("higher": value >= bound, bands
  tried from the highest bound down; "lower": value <= bound, from the lowest up); none reached earns 0.
- missing data (no value): the indicator is not scored and the total is taken over the weights that were
  (rescaled to 100), with the missing indicators listed; no value at all gives no total and no grade.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["IndicatorLike", "Scored", "grade_of", "rank_with_ties", "score_department", "score_indicator"]

NO_GRADE = "无法评定"


class IndicatorLike(Protocol):
    metric: str
    weight: float
    target: float
    floor: float
    direction: str
    rule: str
    bands: list[Any]


def score_indicator(ind: IndicatorLike, value: float | None) -> float | None:
    """Points earned (0 … weight), or None when there is no value."""
    if value is None:
        return None
    weight = float(ind.weight)
    if ind.rule == "bands":
        bands = sorted(ind.bands or [], key=lambda b: float(b["bound"]), reverse=ind.direction != "lower")
        for band in bands:
            bound = float(band["bound"])
            if (value >= bound) if ind.direction != "lower" else (value <= bound):
                return round(weight * float(band["percent"]) / 100.0, 6)
        return 0.0
    target, floor = float(ind.target), float(ind.floor)
    if ind.direction == "lower":
        if value <= target:
            share = 1.0
        elif value >= floor:
            share = 0.0
        else:
            share = (floor - value) / (floor - target)
    else:
        if value >= target:
            share = 1.0
        elif value <= floor:
            share = 0.0
        else:
            share = (value - floor) / (target - floor)
    return round(weight * share, 6)


@dataclass
class Scored:
    scores: dict[str, float | None]
    total: float | None
    missing: list[str] = field(default_factory=list)
    grade: str = NO_GRADE


def grade_of(total: float | None, bands: Sequence[dict[str, Any]]) -> str:
    if total is None:
        return NO_GRADE
    for band in sorted(bands, key=lambda b: float(b["min"]), reverse=True):
        if total >= float(band["min"]) - 1e-9:
            return str(band["grade"])
    return str(bands[-1]["grade"]) if bands else NO_GRADE


def score_department(indicators: Iterable[IndicatorLike], values: dict[str, float | None],
                     grade_bands: Sequence[dict[str, Any]]) -> Scored:
    scores: dict[str, float | None] = {}
    earned = available = 0.0
    missing = []
    for ind in indicators:
        points = score_indicator(ind, values.get(ind.metric))
        scores[ind.metric] = points
        if points is None:
            missing.append(ind.metric)
        else:
            earned += points
            available += float(ind.weight)
    total = round(earned / available * 100.0, 2) if available else None
    return Scored(scores=scores, total=total, missing=missing, grade=grade_of(total, grade_bands))


def rank_with_ties(totals: dict[Any, float | None]) -> dict[Any, int | None]:
    """Standard competition ranking (1, 2, 2, 4) by total, highest first; equal to 0.01 ties; no total, no rank."""
    ordered = sorted(((round(t, 2), key) for key, t in totals.items() if t is not None), key=lambda p: -p[0])
    ranks: dict[Any, int | None] = {key: None for key, t in totals.items() if t is None}
    previous: float | None = None
    rank = 0
    for position, (total, key) in enumerate(ordered, start=1):
        if total != previous:
            rank, previous = position, total
        ranks[key] = rank
    return ranks
