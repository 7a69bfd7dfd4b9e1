"""Effectiveness evaluation (监管效能评价): indicator sets (versioned, validated, audited) and evaluation runs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.analysis.behaviour import analyse_behaviour, require_analysis_read
from domain.analysis.periods import Period, parse_period
from domain.audit.service import record_audit
from domain.errors import FieldError, InvalidInput, NotFound
from domain.evaluation.defaults import DEFAULT_GRADE_BANDS, DEFAULT_INDICATORS, DEFAULT_SET, METRICS
from domain.evaluation.models import EvaluationResult, EvaluationRun, Indicator, IndicatorSet
from domain.evaluation.scoring import rank_with_ties, score_department
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import require, scope_to_department
from domain.types import local_today

__all__ = [
    "IndicatorSetView",
    "ResultView",
    "RunView",
    "compare_periods",
    "ensure_default_set",
    "get_indicator_set",
    "get_run",
    "latest_run",
    "list_indicator_sets",
    "list_runs",
    "run_evaluation",
    "save_indicator_set",
    "validate_indicator_set",
]

DIRECTIONS = {"higher": "越高越好", "lower": "越低越好"}
RULES = {"linear": "线性（下限至目标值之间按比例得分）", "bands": "分段（达到某档即得该档比例）"}


@dataclass
class IndicatorSetView:
    set: IndicatorSet
    indicators: list[Indicator]

    @property
    def total_weight(self) -> float:
        return sum(i.weight for i in self.indicators)


@dataclass
class ResultView:
    result: EvaluationResult
    department_code: str
    department_name: str

    @property
    def change(self) -> float | None:
        r = self.result
        if r.total is None or r.previous_total is None:
            return None
        return round(r.total - r.previous_total, 2)


@dataclass
class RunView:
    run: EvaluationRun
    indicator_set: IndicatorSetView
    results: list[ResultView]


# ---- indicator sets ------------------------------------------------------------------------------------------

def _views(session: Session, sets: list[IndicatorSet]) -> list[IndicatorSetView]:
    ids = [s.id for s in sets]
    by_set: dict[int, list[Indicator]] = {i: [] for i in ids if i is not None}
    if ids:
        for ind in session.exec(select(Indicator).where(col(Indicator.set_id).in_(ids))  # type: ignore[attr-defined]
                                .order_by(col(Indicator.set_id), col(Indicator.position))):
            by_set[ind.set_id].append(ind)
    return [IndicatorSetView(s, by_set.get(s.id or 0, [])) for s in sets]


def ensure_default_set(session: Session) -> IndicatorSet:
    """The shipped default set (seeded by migration 0011); recreated if someone emptied the table."""
    row = session.exec(select(IndicatorSet).where(col(IndicatorSet.code) == DEFAULT_SET["code"],
                                                  col(IndicatorSet.is_current))).first()
    if row is not None:
        return row
    row = IndicatorSet(code=DEFAULT_SET["code"], version=1, name=DEFAULT_SET["name"],
                       description=DEFAULT_SET["description"], grade_bands=DEFAULT_GRADE_BANDS)
    session.add(row)
    session.flush()
    assert row.id is not None  # flushed: the database has given it its id
    for n, spec in enumerate(DEFAULT_INDICATORS):
        session.add(Indicator(set_id=row.id, position=n, metric=spec["metric"], weight=float(spec["weight"]),
                              target=spec["target"], floor=spec["floor"], direction=spec["direction"],
                              rule=spec["rule"], bands=spec.get("bands", [])))
    session.flush()
    return row


def list_indicator_sets(session: Session, actor: Actor, *, include_history: bool = False) -> list[IndicatorSetView]:
    require_analysis_read(actor)
    stmt = select(IndicatorSet).order_by(col(IndicatorSet.code), col(IndicatorSet.version).desc())  # type: ignore[attr-defined]
    if not include_history:
        stmt = stmt.where(col(IndicatorSet.is_current))
    return _views(session, list(session.exec(stmt)))


def get_indicator_set(session: Session, actor: Actor, set_id: int) -> IndicatorSetView:
    require_analysis_read(actor)
    row = session.get(IndicatorSet, set_id)
    if row is None:
        raise NotFound(f"指标体系 {set_id} 不存在", field="id")
    return _views(session, [row])[0]


def _number(raw: Any, where: str, label: str, errors: list[FieldError]) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors.append(FieldError(where, "not_a_number", f"{label}必须是数字，收到“{raw}”"))
        return None
    if math.isnan(value) or math.isinf(value):
        errors.append(FieldError(where, "not_a_number", f"{label}必须是有限的数字，收到“{raw}”"))
        return None
    return value


def validate_indicator_set(indicators: list[dict[str, Any]], grade_bands: list[dict[str, Any]]
                           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Check and normalise a set's indicators and grade bands; every problem at once, in Chinese, with its field."""
    errors: list[FieldError] = []
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    if not indicators:
        errors.append(FieldError("indicators", "required", "指标体系至少需要一项指标"))
    for n, raw in enumerate(indicators):
        at = f"indicators[{n}]"
        metric = str(raw.get("metric") or "").strip()
        label = f"第 {n + 1} 项指标"
        if metric not in METRICS:
            errors.append(FieldError(f"{at}.metric", "unknown_metric",
                                     f"{label}的度量“{metric}”未登记，可选：{'、'.join(METRICS)}"))
        elif metric in seen:
            errors.append(FieldError(f"{at}.metric", "duplicate", f"{label}的度量“{METRICS[metric][0]}”重复出现"))
        else:
            label = f"{label}（{METRICS[metric][0]}）"
        seen.add(metric)
        weight = _number(raw.get("weight"), f"{at}.weight", f"{label}的权重", errors)
        target = _number(raw.get("target"), f"{at}.target", f"{label}的目标值", errors)
        floor = _number(raw.get("floor"), f"{at}.floor", f"{label}的下限值", errors)
        direction = str(raw.get("direction") or "higher")
        rule = str(raw.get("rule") or "linear")
        if weight is not None and weight <= 0:
            errors.append(FieldError(f"{at}.weight", "out_of_range", f"{label}的权重必须大于 0，收到 {weight:g}"))
        if direction not in DIRECTIONS:
            errors.append(FieldError(f"{at}.direction", "bad_direction",
                                     f"{label}的方向“{direction}”无效，可选 higher（越高越好）或 lower（越低越好）"))
        if rule not in RULES:
            errors.append(FieldError(f"{at}.rule", "bad_rule",
                                     f"{label}的计分规则“{rule}”无效，可选 linear（线性）或 bands（分段）"))
        unit = METRICS[metric][1] if metric in METRICS else "ratio"
        for name, value in (("target", target), ("floor", floor)):
            if value is not None and unit == "ratio" and not 0 <= value <= 1:
                errors.append(FieldError(f"{at}.{name}", "out_of_range",
                                         f"{label}的{'目标值' if name == 'target' else '下限值'}是比率，须在 0–1 之间，"
                                         f"收到 {value:g}"))
        if target is not None and floor is not None and direction in DIRECTIONS:
            if direction == "higher" and not target > floor:
                errors.append(FieldError(f"{at}.target", "target_not_above_floor",
                                         f"{label}越高越好，目标值 {target:g} 必须大于下限值 {floor:g}"))
            if direction == "lower" and not target < floor:
                errors.append(FieldError(f"{at}.target", "target_not_below_floor",
                                         f"{label}越低越好，目标值 {target:g} 必须小于下限值 {floor:g}"))
        bands: list[dict[str, float]] = []
        if rule == "bands":
            raw_bands = raw.get("bands") or []
            if not raw_bands:
                errors.append(FieldError(f"{at}.bands", "required", f"{label}采用分段计分，至少需要一个分段"))
            for b, band in enumerate(raw_bands):
                bound = _number(band.get("bound"), f"{at}.bands[{b}].bound", f"{label}第 {b + 1} 段的界值", errors)
                percent = _number(band.get("percent"), f"{at}.bands[{b}].percent", f"{label}第 {b + 1} 段的得分比例",
                                  errors)
                if percent is not None and not 0 <= percent <= 100:
                    errors.append(FieldError(f"{at}.bands[{b}].percent", "out_of_range",
                                             f"{label}第 {b + 1} 段的得分比例须在 0–100 之间，收到 {percent:g}"))
                if bound is not None and percent is not None:
                    bands.append({"bound": bound, "percent": percent})
        clean.append({"metric": metric, "weight": weight, "target": target, "floor": floor, "direction": direction,
                      "rule": rule, "bands": bands})
    weights = [c["weight"] for c in clean if c["weight"] is not None]
    if indicators and len(weights) == len(clean) and abs(sum(weights) - 100) > 1e-6:
        errors.append(FieldError("indicators", "weights_not_100",
                                 f"各项指标权重之和须为 100，当前为 {sum(weights):g}"))
    bands_clean: list[dict[str, Any]] = []
    if not grade_bands:
        errors.append(FieldError("grade_bands", "required", "至少需要一个等级（如 优秀/良好/合格/不合格）"))
    for n, band in enumerate(grade_bands):
        name = str(band.get("grade") or "").strip()
        low = _number(band.get("min"), f"grade_bands[{n}].min", f"等级“{name or n + 1}”的最低分", errors)
        if not name:
            errors.append(FieldError(f"grade_bands[{n}].grade", "required", f"第 {n + 1} 个等级缺少名称"))
        if low is not None and not 0 <= low <= 100:
            errors.append(FieldError(f"grade_bands[{n}].min", "out_of_range",
                                     f"等级“{name}”的最低分须在 0–100 之间，收到 {low:g}"))
        if low is not None:
            bands_clean.append({"grade": name, "min": low})
    mins = [b["min"] for b in bands_clean]
    if bands_clean and len(set(mins)) != len(mins):
        errors.append(FieldError("grade_bands", "duplicate", "各等级的最低分不能相同"))
    if bands_clean and min(mins) != 0:
        errors.append(FieldError("grade_bands", "no_zero_band", "最低一档等级的最低分须为 0，使每个总分都有等级"))
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)
    return clean, sorted(bands_clean, key=lambda b: -b["min"])


def save_indicator_set(session: Session, actor: Actor, *, code: str, name: str, indicators: list[dict[str, Any]],
                       grade_bands: list[dict[str, Any]] | None = None, description: str = "") -> IndicatorSetView:
    """Save a new version of the set `code` (the first version if new); earlier versions stay for their runs."""
    require(actor, "evaluations.manage")
    code, name = (code or "").strip(), (name or "").strip()
    errors = []
    if not code or len(code) > 32 or not code.replace("-", "").replace("_", "").isalnum():
        errors.append(FieldError("code", "bad_code", f"指标体系编码“{code}”无效：须为 1–32 位字母、数字、- 或 _"))
    if not name or len(name) > 100:
        errors.append(FieldError("name", "required", "指标体系名称必填，且不超过 100 字"))
    try:
        bands_in = grade_bands if grade_bands is not None else DEFAULT_GRADE_BANDS
        clean, bands = validate_indicator_set(indicators, bands_in)
    except InvalidInput as exc:
        errors.extend(exc.errors)
        clean, bands = [], []
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)
    previous = session.exec(select(IndicatorSet).where(col(IndicatorSet.code) == code,
                                                       col(IndicatorSet.is_current))).first()
    version = 1
    before: dict[str, Any] = {}
    if previous is not None:
        before = {"name": previous.name, "indicators": [_spec(i) for i in _views(session, [previous])[0].indicators],
                  "grade_bands": previous.grade_bands}
        previous.is_current = False
        version = previous.version + 1
        session.flush()
    row = IndicatorSet(code=code, version=version, name=name, description=description[:1000], grade_bands=bands,
                       created_by_name=actor.username)
    session.add(row)
    session.flush()
    assert row.id is not None  # flushed: the database has given it its id
    for n, spec in enumerate(clean):
        session.add(Indicator(set_id=row.id, position=n, **spec))
    session.flush()
    record_audit(session, actor, "indicator_set.save", "indicator_set", row.id, {
        "code": code, "version": version, "before": before,
        "after": {"name": name, "indicators": clean, "grade_bands": bands}})
    return _views(session, [row])[0]


def _spec(ind: Indicator) -> dict[str, Any]:
    return {"metric": ind.metric, "weight": ind.weight, "target": ind.target, "floor": ind.floor,
            "direction": ind.direction, "rule": ind.rule, "bands": ind.bands}


# ---- runs ----------------------------------------------------------------------------------------------------

def run_evaluation(session: Session, actor: Actor, period: str | Period, *, set_id: int | None = None,
                   as_of: date | None = None) -> RunView:
    """Apply an indicator set (default: the current default set) to a period, for every department with data."""
    require(actor, "evaluations.manage")
    period = parse_period(period)
    if set_id is None:
        indicator_set = ensure_default_set(session)
    else:
        found = session.get(IndicatorSet, set_id)
        if found is None:
            raise NotFound(f"指标体系 {set_id} 不存在", field="set_id")
        indicator_set = found
    view = _views(session, [indicator_set])[0]
    analysis = analyse_behaviour(session, actor, period, as_of=as_of or local_today())
    previous = _previous_run(session, period, indicator_set.code)
    previous_results = {} if previous is None else {r.department_id: r for r in session.exec(
        select(EvaluationResult).where(col(EvaluationResult.run_id) == previous.id))}
    run = EvaluationRun(set_id=indicator_set.id or 0, period=period.code, period_start=period.start,
                        period_end=period.end, as_of=analysis.as_of, department_count=len(analysis.departments),
                        previous_run_id=previous.id if previous else None, created_by_id=actor.user_id,
                        created_by_name=actor.username)
    session.add(run)
    session.flush()
    scored = {d.department_id: (d, score_department(view.indicators, d.metrics(), indicator_set.grade_bands))
              for d in analysis.departments}
    ranks = rank_with_ties({dept: s.total for dept, (_, s) in scored.items()})
    for dept_id, (d, s) in scored.items():
        before = previous_results.get(dept_id)
        values = d.metrics()
        session.add(EvaluationResult(
            run_id=run.id or 0, department_id=dept_id,
            metric_values={i.metric: values.get(i.metric) for i in view.indicators},
            scores={**s.scores, "_missing": s.missing}, total=s.total, rank=ranks.get(dept_id), grade=s.grade,
            previous_total=before.total if before else None, previous_rank=before.rank if before else None))
    session.flush()
    record_audit(session, actor, "evaluation.run", "evaluation_run", run.id, {
        "period": period.code, "indicator_set": f"{indicator_set.code} v{indicator_set.version}",
        "departments": len(scored)})
    return get_run(session, actor, run.id or 0)


def _previous_run(session: Session, period: Period, set_code: str) -> EvaluationRun | None:
    return session.exec(
        select(EvaluationRun).join(IndicatorSet, col(IndicatorSet.id) == EvaluationRun.set_id)  # type: ignore[arg-type]
        .where(col(EvaluationRun.period) == period.previous().code, col(IndicatorSet.code) == set_code)
        .order_by(col(EvaluationRun.created_at).desc(), col(EvaluationRun.id).desc())).first()  # type: ignore[attr-defined]


def list_runs(session: Session, actor: Actor, period: str | None = None, *, limit: int = 50) -> list[EvaluationRun]:
    require_analysis_read(actor)
    stmt = select(EvaluationRun).order_by(col(EvaluationRun.created_at).desc(), col(EvaluationRun.id).desc())  # type: ignore[attr-defined]
    if period:
        stmt = stmt.where(col(EvaluationRun.period) == parse_period(period).code)
    return list(session.exec(stmt.limit(limit)))


def latest_run(session: Session, actor: Actor, period: str | Period) -> RunView | None:
    runs = list_runs(session, actor, parse_period(period).code, limit=1)
    return get_run(session, actor, runs[0].id or 0) if runs else None


def get_run(session: Session, actor: Actor, run_id: int) -> RunView:
    """A run with its results in rank order; a department handler sees only their department's row."""
    require_analysis_read(actor)
    run = session.get(EvaluationRun, run_id)
    if run is None:
        raise NotFound(f"评价 {run_id} 不存在", field="id")
    indicator_set = session.get(IndicatorSet, run.set_id)
    assert indicator_set is not None
    stmt = (sa.select(EvaluationResult, col(Department.code), col(Department.name))
            .join(Department, col(Department.id) == EvaluationResult.department_id)
            .where(col(EvaluationResult.run_id) == run_id))
    stmt = scope_to_department(stmt, actor, col(EvaluationResult.department_id))
    rows = [ResultView(r, code, name) for r, code, name in session.execute(stmt)]
    rows.sort(key=lambda v: (v.result.rank is None, v.result.rank or 0, v.department_code))
    return RunView(run=run, indicator_set=_views(session, [indicator_set])[0], results=rows)


@dataclass
class ComparisonRow:
    department_code: str
    department_name: str
    a: ResultView | None
    b: ResultView | None

    @property
    def delta(self) -> float | None:
        if self.a is None or self.b is None or self.a.result.total is None or self.b.result.total is None:
            return None
        return round(self.b.result.total - self.a.result.total, 2)


def compare_periods(session: Session, actor: Actor, period_a: str, period_b: str
                    ) -> tuple[RunView | None, RunView | None, list[ComparisonRow]]:
    """The latest run of each period side by side, department by department (b − a)."""
    a = latest_run(session, actor, parse_period(period_a, field="a"))
    b = latest_run(session, actor, parse_period(period_b, field="b"))
    by_code: dict[str, ComparisonRow] = {}
    for side, view in (("a", a), ("b", b)):
        for r in view.results if view else []:
            row = by_code.setdefault(r.department_code, ComparisonRow(r.department_code, r.department_name, None, None))
            setattr(row, side, r)
    rows = sorted(by_code.values(), key=lambda r: (r.b is None or r.b.result.rank is None,
                                                   (r.b.result.rank or 0) if r.b else 0, r.department_code))
    return a, b, rows
