"""Scoring (评分): whole matrices through `inplace_predict` in chunks → level from thresholds → rules may
raise it → top contributions for entities at blue or above → one risk_score row per entity, bulk-inserted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
import xgboost as xgb

from domain.risk.levels import LEVEL_RANK, LEVELS, level_of_rank
from ml.bulk import gc_paused
from ml.calibration import apply_calibration
from ml.explain import top_contributions
from ml.features import FeatureMatrix
from ml.rules import CompiledRule, match_rule

__all__ = [
    "CHUNK_ROWS",
    "LEVEL_RANK",
    "RuleSpec",
    "ScoredPopulation",
    "insert_scores",
    "level_of",
    "level_ranks",
    "predict",
    "score_population",
]

CHUNK_ROWS = 262_144
_RANK_LEVEL: tuple[str | None, ...] = tuple(level_of_rank(r) for r in range(len(LEVELS) + 1))


def level_of(rank: int) -> str | None:
    return level_of_rank(rank)


@dataclass(frozen=True)
class RuleSpec:
    code: str
    min_level: str
    compiled: CompiledRule


def predict(booster: xgb.Booster, x: np.ndarray, *, chunk: int = CHUNK_ROWS) -> np.ndarray:
    """Probabilities for every row, predicted in chunks of whole-matrix slices (no DMatrix copies)."""
    out = np.empty(len(x), dtype=np.float32)
    for start in range(0, len(x), chunk):
        out[start:start + chunk] = booster.inplace_predict(x[start:start + chunk])
    return out


def level_ranks(scores: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    """Level rank per score from a version's thresholds (level → minimum score)."""
    ranks = np.zeros(len(scores), dtype=np.int8)
    for level in reversed(LEVELS):  # blue first, red last, so the highest level reached wins
        if level in thresholds:
            ranks[scores >= thresholds[level]] = LEVEL_RANK[level]
    return ranks


@dataclass
class ScoredPopulation:
    entity_ids: np.ndarray
    scores: np.ndarray
    model_ranks: np.ndarray
    ranks: np.ndarray
    matched: dict[int, list[str]] = field(default_factory=dict)  # row -> rule codes
    contributions: dict[int, list[list]] = field(default_factory=dict)  # row -> [[feature, value, contribution]]
    timings: dict[str, float] = field(default_factory=dict)

    def level_counts(self) -> dict[str, int]:
        counts = np.bincount(self.ranks, minlength=5)
        return {level: int(counts[LEVEL_RANK[level]]) for level in LEVELS} | {"none": int(counts[0])}


def score_population(booster: xgb.Booster, features: Sequence[str], thresholds: dict[str, float],
                     matrix: FeatureMatrix, rules: Sequence[RuleSpec] = (), *, explain: bool = True,
                     approx: bool = True, calibration: dict[str, Any] | None = None) -> ScoredPopulation:
    """Score (calibrated probabilities when the version has a calibration), grade, apply rules and explain a
    whole population. Contributions stay in the booster's raw log-odds: calibration is monotone, so they
    explain the ranking the levels come from."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    x = matrix.select(features)
    timings["select"] = time.perf_counter() - t
    t = time.perf_counter()
    scores = apply_calibration(calibration, predict(booster, x))
    timings["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    model_ranks = level_ranks(scores, thresholds)
    ranks = model_ranks.copy()
    matched: dict[int, list[str]] = {}
    with gc_paused():
        for rule in rules:
            mask = match_rule(rule.compiled, matrix)
            ranks = np.where(mask, np.maximum(ranks, LEVEL_RANK[rule.min_level]), ranks).astype(np.int8)
            for row in np.flatnonzero(mask).tolist():
                matched.setdefault(row, []).append(rule.code)
    timings["rules"] = time.perf_counter() - t
    contributions: dict[int, list[list]] = {}
    if explain:
        t = time.perf_counter()
        rows = np.flatnonzero(ranks > 0)
        with gc_paused():
            for start in range(0, len(rows), CHUNK_ROWS):
                part = rows[start:start + CHUNK_ROWS]
                contributions.update(zip(part.tolist(), top_contributions(booster, x[part], features,
                                                                          approx=approx), strict=True))
        timings["explain"] = time.perf_counter() - t
    return ScoredPopulation(matrix.entity_ids, scores, model_ranks, ranks, matched, contributions, timings)


def insert_scores(conn: sa.Connection, run_id: int, pop: ScoredPopulation) -> None:
    """One risk_score row per entity: PostgreSQL COPY, SQLite executemany; rows built without the ORM."""
    with gc_paused():
        _insert_scores(conn, run_id, pop)


_to_json = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per row as json.dumps(...) makes


def _insert_scores(conn: sa.Connection, run_id: int, pop: ScoredPopulation) -> None:
    ids = pop.entity_ids.tolist()
    scores = pop.scores.astype(np.float64).round(6).tolist()
    model_levels = [_RANK_LEVEL[r] for r in pop.model_ranks.tolist()]
    levels = [_RANK_LEVEL[r] for r in pop.ranks.tolist()]
    matched = {row: json.dumps(codes) for row, codes in pop.matched.items()}
    contribs = {row: _to_json(items) for row, items in pop.contributions.items()}
    rows = ((run_id, ids[i], scores[i], model_levels[i], levels[i], matched.get(i), contribs.get(i))
            for i in range(len(ids)))
    raw: Any = conn.connection.driver_connection  # the driver's own connection (psycopg or sqlite3)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(
                "COPY risk_score (run_id, entity_id, score, model_level, level, rules_matched, contributions) "
                "FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cur = raw.cursor()
        try:
            cur.executemany(
                "INSERT INTO risk_score (run_id, entity_id, score, model_level, level, rules_matched, contributions) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        finally:
            cur.close()
