"""The feature registry (特征) and set-based feature computation per entity as of a cut-off date.

One registry serves training, scoring, rules and explanations. `compute_features` runs a few grouped
SQL queries over all entities (SQLite and PostgreSQL alike) and scatters their results into one numpy
matrix; nothing is computed per entity in Python. Only records dated on or before the cut-off count,
so a later record never changes an earlier cut-off's features.

Adding a source (risk clues, warnings and their feedback once those tables exist) means: mark its
features `available=True` and add one grouped query to `_EXTRA_SOURCES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

from domain.reference import load_industries
from ml.bulk import gc_paused

__all__ = [
    "ENTITY_TYPES",
    "FEATURES",
    "FEATURE_NAMES",
    "INDUSTRY_DIVISIONS",
    "INDUSTRY_SECTIONS",
    "REGION_CODES",
    "TYPE_LABELS",
    "Feature",
    "FeatureMatrix",
    "compute_features",
    "feature",
    "model_features",
]

# A feature's type as a person reads it (rule editor, try-out, errors); the CEL name may follow in brackets.
TYPE_LABELS = {"int": "整数", "double": "小数", "bool": "是/否", "string": "文字"}
INDUSTRY_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRST")  # GB/T 4754-2017 sections; code 0 = unknown
# Suzhou and its districts/cities (the industrial park as 320571); code 0 = elsewhere / unknown.
ENTITY_TYPES = ("enterprise", "individual", "cooperative")  # 企业, 个体工商户, 农民专业合作社; code 0 = other
INDUSTRY_DIVISIONS = tuple(sorted(r["code"] for r in load_industries() if r["level"] == "division"))
REGION_CODES = ("320500", "320505", "320506", "320507", "320508", "320509", "320571",
                "320581", "320582", "320583", "320585")


@dataclass(frozen=True)
class Feature:
    """One registered feature: what it is called, what it means, its type, how it is computed."""

    name: str
    label_zh: str
    label_en: str
    cel_type: str  # int / double / bool / string — the type a rule sees
    computation: str  # how it is computed, in a line
    available: bool = True  # False until its source table exists (always 0 meanwhile)
    vocabulary: tuple[str, ...] = ()  # category features: matrix code k (1-based) is vocabulary[k-1]
    missing_in_rules: float | int | None = None  # what a rule sees where the model sees a missing value

    @property
    def is_category(self) -> bool:
        return bool(self.vocabulary)


FEATURES: tuple[Feature, ...] = (
    Feature("inspections_90d", "近90天检查次数", "Inspections in the last 90 days", "int",
            "count of inspections started in (cut-off − 90 d, cut-off]"),
    Feature("inspections_365d", "近365天检查次数", "Inspections in the last 365 days", "int",
            "count of inspections started in (cut-off − 365 d, cut-off]"),
    Feature("failed_inspections_90d", "近90天检查不合格次数", "Failed inspections in the last 90 days", "int",
            "inspections with result fail, decided (or started) in (cut-off − 90 d, cut-off]"),
    Feature("failed_inspections_365d", "近365天检查不合格次数", "Failed inspections in the last 365 days", "int",
            "inspections with result fail, decided (or started) in (cut-off − 365 d, cut-off]"),
    Feature("rectify_inspections_365d", "近365天责令整改次数", "Inspections ordering rectification, last 365 days",
            "int", "inspections with result rectify, decided (or started) in (cut-off − 365 d, cut-off]"),
    Feature("coercions_365d", "近365天行政强制次数", "Coercive measures in the last 365 days", "int",
            "coercive measures started in (cut-off − 365 d, cut-off]"),
    Feature("penalties_90d", "近90天行政处罚次数", "Penalties in the last 90 days", "int",
            "penalties decided (or started) in (cut-off − 90 d, cut-off]"),
    Feature("penalties_365d", "近365天行政处罚次数", "Penalties in the last 365 days", "int",
            "penalties decided (or started) in (cut-off − 365 d, cut-off]"),
    Feature("penalty_amount_90d", "近90天罚没金额（元）", "Penalty amount in the last 90 days (yuan)", "double",
            "sum of penalty amounts decided (or started) in (cut-off − 90 d, cut-off]"),
    Feature("penalty_amount_365d", "近365天罚没金额（元）", "Penalty amount in the last 365 days (yuan)", "double",
            "sum of penalty amounts decided (or started) in (cut-off − 365 d, cut-off]"),
    Feature("complaints_30d", "近30天投诉举报数", "Complaints in the last 30 days", "int",
            "complaints received in (cut-off − 30 d, cut-off]"),
    Feature("complaints_90d", "近90天投诉举报数", "Complaints in the last 90 days", "int",
            "complaints received in (cut-off − 90 d, cut-off]"),
    Feature("complaints_365d", "近365天投诉举报数", "Complaints in the last 365 days", "int",
            "complaints received in (cut-off − 365 d, cut-off]"),
    Feature("inspections_730d", "近两年检查次数", "Inspections in the last 730 days", "int",
            "count of inspections started in (cut-off − 730 d, cut-off]"),
    Feature("failed_inspections_730d", "近两年检查不合格次数", "Failed inspections in the last 730 days", "int",
            "inspections with result fail, decided (or started) in (cut-off − 730 d, cut-off]"),
    Feature("penalties_730d", "近两年行政处罚次数", "Penalties in the last 730 days", "int",
            "penalties decided (or started) in (cut-off − 730 d, cut-off]"),
    Feature("complaints_730d", "近两年投诉举报数", "Complaints in the last 730 days", "int",
            "complaints received in (cut-off − 730 d, cut-off]"),
    Feature("days_since_last_inspection", "距上次检查天数", "Days since the last inspection", "int",
            "cut-off minus the latest inspection start on or before it; missing (rules see −1) if never inspected",
            missing_in_rules=-1),
    Feature("abnormal_operation", "列入经营异常名录", "On the abnormal-operation list", "bool",
            "listed on or before the cut-off and not removed by it"),
    Feature("serious_violation", "列入严重违法失信名单", "On the serious-violation list", "bool",
            "listed on or before the cut-off and not removed by it"),
    Feature("entity_age_years", "成立年限（年）", "Entity age (years)", "double",
            "(cut-off − founding date) / 365.25; missing (rules see −1) if unknown", missing_in_rules=-1.0),
    Feature("registered_capital", "注册资本（万元）", "Registered capital (10k yuan)", "double",
            "registered capital in 万元; missing (rules see −1) if unknown", missing_in_rules=-1.0),
    Feature("industry_section", "行业门类", "Industry section (GB/T 4754)", "string",
            "section letter of the entity's industry code; \"\" if unknown", vocabulary=INDUSTRY_SECTIONS),
    Feature("industry_division", "行业大类", "Industry division (GB/T 4754)", "string",
            "two-digit division of the entity's industry code; \"\" if unknown", vocabulary=INDUSTRY_DIVISIONS),
    Feature("entity_type", "主体类型", "Entity type", "string",
            "enterprise / individual / cooperative; \"\" for any other", vocabulary=ENTITY_TYPES),
    Feature("region_code", "行政区划", "Region (GB/T 2260)", "string",
            "the entity's Suzhou region code; \"\" if elsewhere or unknown", vocabulary=REGION_CODES),
    # Issue 12: recency, short windows, lifetime counts, ratios, rates per observed year, history length.
    Feature("days_since_last_failed_inspection", "距上次检查不合格天数", "Days since the last failed inspection",
            "int", "cut-off minus the latest failed inspection decided (or started) on or before it; missing "
            "(rules see −1) if none", missing_in_rules=-1),
    Feature("days_since_last_penalty", "距上次行政处罚天数", "Days since the last penalty", "int",
            "cut-off minus the latest penalty decided (or started) on or before it; missing (rules see −1) if none",
            missing_in_rules=-1),
    Feature("days_since_last_complaint", "距上次投诉举报天数", "Days since the last complaint", "int",
            "cut-off minus the latest complaint received on or before it; missing (rules see −1) if none",
            missing_in_rules=-1),
    Feature("failed_inspections_15d", "近15天检查不合格次数", "Failed inspections in the last 15 days", "int",
            "inspections with result fail, decided (or started) in (cut-off − 15 d, cut-off]"),
    Feature("failed_inspections_30d", "近30天检查不合格次数", "Failed inspections in the last 30 days", "int",
            "inspections with result fail, decided (or started) in (cut-off − 30 d, cut-off]"),
    Feature("failed_inspections_60d", "近60天检查不合格次数", "Failed inspections in the last 60 days", "int",
            "inspections with result fail, decided (or started) in (cut-off − 60 d, cut-off]"),
    Feature("rectify_inspections_30d", "近30天责令整改次数", "Inspections ordering rectification, last 30 days",
            "int", "inspections with result rectify, decided (or started) in (cut-off − 30 d, cut-off]"),
    Feature("rectify_inspections_90d", "近90天责令整改次数", "Inspections ordering rectification, last 90 days",
            "int", "inspections with result rectify, decided (or started) in (cut-off − 90 d, cut-off]"),
    Feature("inspections_total", "累计检查次数", "Inspections, all recorded history", "int",
            "inspections started on or before the cut-off"),
    Feature("failed_inspections_total", "累计检查不合格次数", "Failed inspections, all recorded history", "int",
            "inspections with result fail, decided (or started) on or before the cut-off"),
    Feature("rectify_inspections_total", "累计责令整改次数", "Rectification orders, all recorded history", "int",
            "inspections with result rectify, decided (or started) on or before the cut-off"),
    Feature("penalties_total", "累计行政处罚次数", "Penalties, all recorded history", "int",
            "penalties decided (or started) on or before the cut-off"),
    Feature("complaints_total", "累计投诉举报数", "Complaints, all recorded history", "int",
            "complaints received on or before the cut-off"),
    Feature("failed_inspection_ratio", "检查不合格率（累计）", "Share of inspections failed, all history", "double",
            "failed_inspections_total / inspections_total; missing (rules see −1) if never inspected",
            missing_in_rules=-1.0),
    Feature("failed_inspection_ratio_365d", "近365天检查不合格率", "Share of inspections failed, last 365 days",
            "double", "failed_inspections_365d / inspections_365d; missing (rules see −1) if none in the year",
            missing_in_rules=-1.0),
    Feature("history_days", "可观察历史天数", "Days of history observed", "int",
            "cut-off minus the later of the earliest record on or before it (any entity) and the founding date: "
            "how much history the counts above could see"),
    Feature("inspections_per_year", "年均检查次数", "Inspections per observed year", "double",
            "inspections_total / (history_days / 365.25), history floored at 30 days"),
    Feature("failed_inspections_per_year", "年均检查不合格次数", "Failed inspections per observed year", "double",
            "failed_inspections_total / (history_days / 365.25), history floored at 30 days"),
    Feature("penalties_per_year", "年均行政处罚次数", "Penalties per observed year", "double",
            "penalties_total / (history_days / 365.25), history floored at 30 days"),
    Feature("complaints_per_year", "年均投诉举报数", "Complaints per observed year", "double",
            "complaints_total / (history_days / 365.25), history floored at 30 days"),
    Feature("commendations", "累计表彰次数", "Commendations on record", "int",
            "commendation (表彰) credit records listed on or before the cut-off"),
    Feature("ever_listed", "曾列入经营异常或严重违法名单", "Ever on the abnormal-operation or serious-violation list",
            "bool", "listed on either list on or before the cut-off, removed since or not"),
    Feature("registered_at_cutoff", "截止日仍在册", "Still registered at the cut-off", "bool",
            "no deregistration or revocation (注销/吊销) dated on or before the cut-off"),
    Feature("open_clues", "未办结线索数", "Open risk clues", "int",
            "clues about the entity still open at the cut-off (0 until clue intake exists)", available=False),
    Feature("prior_warnings", "既往预警次数", "Earlier warnings", "int",
            "warnings issued before the cut-off (0 until warnings exist)", available=False),
    Feature("confirmed_warnings", "既往预警确认风险次数", "Earlier warnings confirmed", "int",
            "earlier warnings whose feedback confirmed the risk (0 until feedback exists)", available=False),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
_INDEX = {f.name: i for i, f in enumerate(FEATURES)}


def feature(name: str) -> Feature:
    """The registered feature called `name` (KeyError if none)."""
    return FEATURES[_INDEX[name]]


def model_features() -> list[str]:
    """The features a newly trained model uses: every registered feature whose source exists."""
    return [f.name for f in FEATURES if f.available]


@dataclass
class FeatureMatrix:
    """Features of many entities as of one date: row i is entity_ids[i] (ascending), column j is names[j]."""

    as_of: date
    entity_ids: np.ndarray  # int64, ascending
    values: np.ndarray  # float32, shape (n, len(names)); NaN = missing
    names: tuple[str, ...] = FEATURE_NAMES
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.entity_ids)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

    def select(self, names: Sequence[str]) -> np.ndarray:
        """The columns `names` in that order (a model's feature list), C-contiguous for XGBoost."""
        idx = [self.names.index(n) for n in names]
        return np.ascontiguousarray(self.values[:, idx])

    def rows(self, mask: np.ndarray) -> FeatureMatrix:
        return FeatureMatrix(self.as_of, self.entity_ids[mask], self.values[mask], self.names)

    def display_value(self, name: str, raw: float) -> float | int | bool | str | None:
        """A matrix value as people (and rules) read it: category letters, flags, whole counts."""
        f = feature(name)
        if f.is_category:
            k = 0 if np.isnan(raw) else int(raw)
            return f.vocabulary[k - 1] if k > 0 else ""
        if np.isnan(raw):
            return None
        if f.cel_type == "bool":
            return bool(raw)
        if f.cel_type == "int":
            return int(raw)
        return round(float(raw), 4)


def _days_between(dialect: str, later: str, earlier: str) -> str:
    """SQL for whole days from `earlier` to `later` (both date expressions) on this dialect."""
    if dialect == "postgresql":
        return f"(CAST({later} AS DATE) - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _decided(dialect: str) -> str:
    return "COALESCE(decided_on, started_on)"


_PARAM = re.compile(r"(?<![:\w]):(\w+)")
_FETCH_ROWS = 65_536  # rows per fetchmany: a chunk of tuples lives only until it is in numpy


def _chunks(conn: sa.Connection, sql: str, params: dict) -> Iterator[Sequence[tuple]]:
    """Result rows in chunks of plain tuples straight from the driver's cursor, in the connection's transaction.

    SQLAlchemy `Row` objects are fine for a page, not for a million rows: building them, and above all
    turning them into numpy (numpy walks each Row as a generic sequence), cost about ten times the query.
    Chunks keep memory flat and keep the garbage collector from re-walking a million live tuples.
    `:name` parameters become the driver's style; dates go to SQLite as ISO strings.
    """
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            cur.execute(_PARAM.sub(r"%(\1)s", sql), params)
        else:
            cur.execute(sql, {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()})
        while rows := cur.fetchmany(_FETCH_ROWS):
            yield rows
    finally:
        cur.close()


def _fetch(conn: sa.Connection, sql: str, params: dict) -> np.ndarray:
    """A numeric result as one float64 array (NULL → NaN)."""
    parts = [np.array(rows, dtype=np.float64) for rows in _chunks(conn, sql, params)]
    return np.concatenate(parts) if parts else np.empty((0, 1), dtype=np.float64)


@contextmanager
def _jit_off(conn: sa.Connection) -> Iterator[None]:
    """PostgreSQL: no JIT for the feature queries (compiling their many aggregates costs more than it saves;
    about 0.5 s at a million entities). Restored afterwards; a no-op on SQLite."""
    if conn.dialect.name != "postgresql":
        yield
        return
    # Through SQLAlchemy, not a raw cursor: this also runs on the async engine's adapted connection (run_sync).
    before = conn.exec_driver_sql("SELECT current_setting('jit')").scalar()
    conn.exec_driver_sql("SELECT set_config('jit', 'off', true)")
    yield
    # Local to the transaction anyway; after an error the transaction is aborted and ends with the setting.
    conn.execute(sa.text("SELECT set_config('jit', :before, true)"), {"before": before})


def _scatter(values: np.ndarray, entity_ids: np.ndarray, agg: np.ndarray, columns: Sequence[str]) -> None:
    """Place grouped rows (entity_id, c1, c2, ...) into the matrix columns; absent entities keep their 0."""
    if len(agg) == 0 or len(entity_ids) == 0:
        return
    ids = agg[:, 0].astype(np.int64)
    pos = np.searchsorted(entity_ids, ids)
    pos = np.clip(pos, 0, len(entity_ids) - 1)
    hit = entity_ids[pos] == ids
    for j, name in enumerate(columns, start=1):
        values[pos[hit], _INDEX[name]] = agg[hit, j]


def _category_codes(raw: Sequence[str | None], mapping: Callable[[str], int],
                    cache: dict[str | None, int]) -> np.ndarray:
    """Map string codes to vocabulary codes: `mapping` runs once per distinct value (kept in `cache`), then a
    dict lookup per row (a few hundred distinct values; cheaper than sorting a million strings)."""
    for value in set(raw).difference(cache):
        cache[value] = mapping(value or "")
    return np.fromiter(map(cache.__getitem__, raw), dtype=np.float32, count=len(raw))


def _industry_section(code: str) -> int:
    if not code:
        return 0
    letter = code[0].upper() if code[0].isalpha() else _division_section().get(code[:2], "")
    return INDUSTRY_SECTIONS.index(letter) + 1 if letter in INDUSTRY_SECTIONS else 0


_division_cache: dict[str, str] = {}


def _division_section() -> dict[str, str]:
    if not _division_cache:
        _division_cache.update({row["code"]: row["parent_code"] or "" for row in load_industries()
                                if row["level"] == "division"})
    return _division_cache


def _industry_division(code: str) -> int:
    digits = code[-2:] if len(code) >= 2 and code[-2:].isdigit() else ""
    return INDUSTRY_DIVISIONS.index(digits) + 1 if digits in INDUSTRY_DIVISIONS else 0


def _entity_type(code: str) -> int:
    return ENTITY_TYPES.index(code) + 1 if code in ENTITY_TYPES else 0


def _region(code: str) -> int:
    return REGION_CODES.index(code) + 1 if code in REGION_CODES else 0


def compute_features(conn: sa.Connection, as_of: date, *, entity_ids: Sequence[int] | None = None) -> FeatureMatrix:
    """Every registered feature for every entity existing at `as_of` (or only `entity_ids`), set-based.

    Entities founded after `as_of` are left out: they did not exist at that cut-off.
    """
    with _jit_off(conn), gc_paused():
        return _compute(conn, as_of, entity_ids)


def _compute(conn: sa.Connection, as_of: date, entity_ids: Sequence[int] | None) -> FeatureMatrix:
    import time

    dialect = conn.dialect.name
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    params = {
        "as_of": as_of,
        "d15": as_of - timedelta(days=15),
        "d30": as_of - timedelta(days=30),
        "d60": as_of - timedelta(days=60),
        "d90": as_of - timedelta(days=90),
        "d365": as_of - timedelta(days=365),
        "d730": as_of - timedelta(days=730),
    }
    only = ""
    if entity_ids is not None:
        ids = sorted({int(i) for i in entity_ids})
        if not ids:
            return FeatureMatrix(as_of, np.zeros(0, np.int64), np.zeros((0, len(FEATURES)), np.float32))
        only = f" AND entity_id IN ({', '.join(str(i) for i in ids)})"  # ints only: safe to inline

    entity_filter = only.replace("entity_id", "id")
    age = _days_between(dialect, ":as_of", "founded_on")
    ids_parts: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    categories = (("industry_section", 1, _industry_section), ("industry_division", 1, _industry_division),
                  ("region_code", 2, _region), ("entity_type", 5, _entity_type))
    caches: dict[str, dict[str | None, int]] = {name: {} for name, _, _ in categories}
    for rows in _chunks(conn, f"SELECT id, industry_code, region_code, CAST(registered_capital AS DOUBLE PRECISION), "
                        f"{age}, entity_type, "
                        "CASE WHEN deregistered_on IS NULL OR deregistered_on > :as_of THEN 1 ELSE 0 END FROM entity "
                        f"WHERE (founded_on IS NULL OR founded_on <= :as_of){entity_filter} ORDER BY id", params):
        cols = list(zip(*rows, strict=True))
        part = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
        part[:, _INDEX["registered_capital"]] = np.array(cols[3], dtype=np.float64)
        part[:, _INDEX["entity_age_years"]] = np.array(cols[4], dtype=np.float64) / 365.25
        part[:, _INDEX["registered_at_cutoff"]] = np.array(cols[6], dtype=np.float64)
        for name, j, mapping in categories:
            part[:, _INDEX[name]] = _category_codes(cols[j], mapping, caches[name])
        ids_parts.append(np.array(cols[0], dtype=np.int64))
        parts.append(part)
    timings["entities_sql"] = time.perf_counter() - t0
    if not parts:
        return FeatureMatrix(as_of, np.zeros(0, np.int64), np.zeros((0, len(FEATURES)), np.float32),
                             timings=timings)
    ent_ids = np.concatenate(ids_parts)
    values = np.concatenate(parts) if len(parts) > 1 else parts[0]
    del parts, ids_parts
    timings["entities"] = time.perf_counter() - t0

    decided = _decided(dialect)
    t = time.perf_counter()
    fail = f"kind = 'inspection' AND result = 'fail' AND {decided} <= :as_of"
    rectify = f"kind = 'inspection' AND result = 'rectify' AND {decided} <= :as_of"
    penalty = f"kind = 'penalty' AND {decided} <= :as_of"
    since = _days_between  # days from the latest such record to the cut-off
    actions = _fetch(conn, f"""
        SELECT entity_id,
          SUM(CASE WHEN kind = 'inspection' AND started_on > :d90 THEN 1 ELSE 0 END),
          SUM(CASE WHEN kind = 'inspection' AND started_on > :d365 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {fail} AND {decided} > :d90 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {fail} AND {decided} > :d365 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {rectify} AND {decided} > :d365 THEN 1 ELSE 0 END),
          SUM(CASE WHEN kind = 'coercion' AND started_on > :d365 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {penalty} AND {decided} > :d90 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {penalty} AND {decided} > :d365 THEN 1 ELSE 0 END),
          CAST(SUM(CASE WHEN {penalty} AND {decided} > :d90
              THEN COALESCE(penalty_amount, 0) ELSE 0 END) AS DOUBLE PRECISION),
          CAST(SUM(CASE WHEN {penalty} AND {decided} > :d365
              THEN COALESCE(penalty_amount, 0) ELSE 0 END) AS DOUBLE PRECISION),
          {since(dialect, ":as_of", "MAX(CASE WHEN kind = 'inspection' THEN started_on END)")},
          SUM(CASE WHEN kind = 'inspection' AND started_on > :d730 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {fail} AND {decided} > :d730 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {penalty} AND {decided} > :d730 THEN 1 ELSE 0 END),
          SUM(CASE WHEN kind = 'inspection' THEN 1 ELSE 0 END),
          {since(dialect, ":as_of", "MIN(started_on)")}
        FROM supervision_action
        WHERE started_on <= :as_of{only}
        GROUP BY entity_id""", params)
    for name in ("days_since_last_inspection", "days_since_last_failed_inspection", "days_since_last_penalty",
                 "days_since_last_complaint"):
        values[:, _INDEX[name]] = np.nan
    _scatter(values, ent_ids, actions, (
        "inspections_90d", "inspections_365d", "failed_inspections_90d", "failed_inspections_365d",
        "rectify_inspections_365d", "coercions_365d", "penalties_90d", "penalties_365d", "penalty_amount_90d",
        "penalty_amount_365d", "days_since_last_inspection", "inspections_730d", "failed_inspections_730d",
        "penalties_730d", "inspections_total"))
    # Failures, rectification orders and penalties only (a quarter of the rows): their recency, short windows and
    # lifetime counts, in a second pass so the CASEs run on those rows alone.
    outcomes = _fetch(conn, f"""
        SELECT entity_id,
          {since(dialect, ":as_of", f"MAX(CASE WHEN {fail} THEN {decided} END)")},
          {since(dialect, ":as_of", f"MAX(CASE WHEN {penalty} THEN {decided} END)")},
          SUM(CASE WHEN {fail} AND {decided} > :d15 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {fail} AND {decided} > :d30 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {fail} AND {decided} > :d60 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {rectify} AND {decided} > :d30 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {rectify} AND {decided} > :d90 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {fail} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {rectify} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {penalty} THEN 1 ELSE 0 END)
        FROM supervision_action
        WHERE started_on <= :as_of AND (kind = 'penalty' OR result IN ('fail', 'rectify')){only}
        GROUP BY entity_id""", params)
    _scatter(values, ent_ids, outcomes, (
        "days_since_last_failed_inspection", "days_since_last_penalty", "failed_inspections_15d",
        "failed_inspections_30d", "failed_inspections_60d", "rectify_inspections_30d", "rectify_inspections_90d",
        "failed_inspections_total", "rectify_inspections_total", "penalties_total"))
    del outcomes
    # The earliest record of any entity (not only those scored) bounds the history every count could see.
    oldest = [float(np.nanmax(actions[:, -1]))] if len(actions) and entity_ids is None else []
    del actions
    timings["actions"] = time.perf_counter() - t

    t = time.perf_counter()
    complaints = _fetch(conn, f"""
        SELECT entity_id,
          SUM(CASE WHEN received_on > :d30 THEN 1 ELSE 0 END),
          SUM(CASE WHEN received_on > :d90 THEN 1 ELSE 0 END),
          SUM(CASE WHEN received_on > :d365 THEN 1 ELSE 0 END),
          SUM(CASE WHEN received_on > :d730 THEN 1 ELSE 0 END),
          COUNT(*),
          {since(dialect, ":as_of", "MAX(received_on)")},
          {since(dialect, ":as_of", "MIN(received_on)")}
        FROM complaint
        WHERE received_on <= :as_of{only}
        GROUP BY entity_id""", params)
    _scatter(values, ent_ids, complaints, ("complaints_30d", "complaints_90d", "complaints_365d", "complaints_730d",
                                           "complaints_total", "days_since_last_complaint"))
    if entity_ids is None:
        oldest += [float(np.nanmax(complaints[:, -1]))] if len(complaints) else []
    else:
        oldest = _oldest_record(conn, dialect, params)
    del complaints
    timings["complaints"] = time.perf_counter() - t

    t = time.perf_counter()
    credit = _fetch(conn, f"""
        SELECT entity_id,
          MAX(CASE WHEN kind = 'abnormal_operation' AND (removed_on IS NULL OR removed_on > :as_of) THEN 1 ELSE 0 END),
          MAX(CASE WHEN kind = 'serious_violation' AND (removed_on IS NULL OR removed_on > :as_of) THEN 1 ELSE 0 END),
          SUM(CASE WHEN kind = 'commendation' THEN 1 ELSE 0 END),
          MAX(CASE WHEN kind IN ('abnormal_operation', 'serious_violation') THEN 1 ELSE 0 END)
        FROM credit_record
        WHERE listed_on <= :as_of{only}
        GROUP BY entity_id""", params)
    _scatter(values, ent_ids, credit, ("abnormal_operation", "serious_violation", "commendations", "ever_listed"))
    timings["credit"] = time.perf_counter() - t

    _derived(values, max(oldest) if oldest else 0.0)
    for source in _EXTRA_SOURCES:
        source(conn, params, only, values, ent_ids)
    timings["total"] = time.perf_counter() - t0
    return FeatureMatrix(as_of, ent_ids, values, timings=timings)


def _oldest_record(conn: sa.Connection, dialect: str, params: dict) -> list[float]:
    """Days from the earliest supervision action or complaint on or before the cut-off to the cut-off (for a
    subset of entities the whole-population figure still applies, so one entity scores as it would in a run)."""
    row = conn.execute(sa.text(
        f"SELECT {_days_between(dialect, ':as_of', 'MIN(started_on)')} FROM supervision_action "
        "WHERE started_on <= :as_of UNION ALL "
        f"SELECT {_days_between(dialect, ':as_of', 'MIN(received_on)')} FROM complaint WHERE received_on <= :as_of"),
        params).all()
    return [float(r[0]) for r in row if r[0] is not None]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(len(num), np.nan, dtype=np.float32)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _derived(values: np.ndarray, oldest_days: float) -> None:
    """Features computed from other columns: ratios, observed history and rates per observed year."""
    col = {name: values[:, _INDEX[name]] for name in (
        "inspections_total", "failed_inspections_total", "inspections_365d", "failed_inspections_365d",
        "penalties_total", "complaints_total", "entity_age_years")}
    values[:, _INDEX["failed_inspection_ratio"]] = _ratio(col["failed_inspections_total"], col["inspections_total"])
    values[:, _INDEX["failed_inspection_ratio_365d"]] = _ratio(col["failed_inspections_365d"], col["inspections_365d"])
    age_days = np.round(col["entity_age_years"].astype(np.float64) * 365.25)
    history = np.where(np.isnan(age_days), oldest_days, np.minimum(age_days, oldest_days))
    values[:, _INDEX["history_days"]] = history
    years = np.maximum(history, 30.0) / 365.25
    for count, rate in (("inspections_total", "inspections_per_year"),
                        ("failed_inspections_total", "failed_inspections_per_year"),
                        ("penalties_total", "penalties_per_year"), ("complaints_total", "complaints_per_year")):
        values[:, _INDEX[rate]] = col[count] / years


# Grouped queries for sources that do not exist yet (clues, warnings, feedback): each is
# fn(conn, params, only, values, entity_ids) and fills its columns with `_scatter`.
_EXTRA_SOURCES: list[Callable[..., None]] = []
