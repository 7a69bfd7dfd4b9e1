"""Indicator scoring rules: at floor, at target, beyond, between, missing data; grades; ties."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.evaluation.defaults import DEFAULT_GRADE_BANDS
from domain.evaluation.scoring import grade_of, rank_with_ties, score_department, score_indicator


@dataclass
class Ind:
    metric: str = "m"
    weight: float = 20
    target: float = 1.0
    floor: float = 0.5
    direction: str = "higher"
    rule: str = "linear"
    bands: list[Any] = field(default_factory=list)


@pytest.mark.parametrize(("value", "points"), [(0.5, 0), (0.4, 0), (1.0, 20), (1.2, 20), (0.75, 10), (0.6, 4)])
def test_linear_higher(value, points):
    assert score_indicator(Ind(), value) == pytest.approx(points)


@pytest.mark.parametrize(("value", "points"), [(0.3, 0), (0.5, 0), (0.05, 5), (0.0, 5), (0.175, 2.5)])
def test_linear_lower(value, points):
    assert score_indicator(Ind(weight=5, target=0.05, floor=0.3, direction="lower"), value) == pytest.approx(points)


def test_missing_value_is_not_scored():
    assert score_indicator(Ind(), None) is None


def test_bands():
    ind = Ind(weight=10, rule="bands", bands=[{"bound": 0.5, "percent": 70}, {"bound": 0.7, "percent": 100},
                                              {"bound": 0.3, "percent": 40}])
    assert [score_indicator(ind, v) for v in (0.9, 0.7, 0.69, 0.5, 0.3, 0.29)] == [10, 10, 7, 7, 4, 0]
    lower = Ind(weight=10, rule="bands", direction="lower", bands=[{"bound": 0.1, "percent": 100},
                                                                   {"bound": 0.2, "percent": 50}])
    assert [score_indicator(lower, v) for v in (0.05, 0.1, 0.15, 0.2, 0.21)] == [10, 10, 5, 5, 0]


def test_total_rescales_over_indicators_with_data():
    inds = [Ind("a", 50), Ind("b", 30), Ind("c", 20)]
    s = score_department(inds, {"a": 1.0, "b": 0.75, "c": None}, DEFAULT_GRADE_BANDS)
    assert s.scores == {"a": 50, "b": 15, "c": None}
    assert s.total == pytest.approx(65 / 80 * 100, abs=0.005) and s.missing == ["c"] and s.grade == "良好"
    nothing = score_department(inds, {}, DEFAULT_GRADE_BANDS)
    assert nothing.total is None and nothing.grade == "无法评定"


@pytest.mark.parametrize(("total", "grade"), [(100, "优秀"), (90, "优秀"), (89.99, "良好"), (75, "良好"),
                                              (60, "合格"), (59.99, "不合格"), (0, "不合格")])
def test_grades(total, grade):
    assert grade_of(total, DEFAULT_GRADE_BANDS) == grade


def test_ties_share_a_rank_and_the_next_skips():
    assert rank_with_ties({"a": 90.0, "b": 85.004, "c": 85.0, "d": 70.0, "e": None}) == {
        "a": 1, "b": 2, "c": 2, "d": 4, "e": None}
