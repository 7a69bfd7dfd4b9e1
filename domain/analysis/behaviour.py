"""监管行为分析 (再监管): per department and period, how completely, carefully and promptly it supervises.

Every figure comes from a few grouped SQL statements over the whole period (no row-by-row Python): item coverage,
trace completeness (全留痕), timeliness, random-inspection (双随机) share and problem-finding rate, penalties
without follow-up, data coverage with the excluded records' reasons, and the warning disposal figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.util import AliasedClass
from sqlmodel import Session, col

from domain.analysis.disposal import DisposalFigures, disposal_by_department
from domain.analysis.periods import Period, parse_period
from domain.analysis.rules import (
    COMPLAINT_RESPONSE_DAYS,
    FOLLOW_UP_DAYS,
    REQUIRED_FIELDS,
    TEXT_FIELDS,
    TIMELINESS_LIMIT_DAYS,
)
from domain.errors import Forbidden, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import can, has_city_wide_scope, require_signed_in, scope_to_department
from domain.supervision.models import Complaint, SupervisionAction, SupervisionItem
from domain.types import local_today

__all__ = [
    "BehaviourAnalysis",
    "CityFigures",
    "DepartmentBehaviour",
    "analyse_behaviour",
    "days_between",
    "due_for_timeliness",
    "plus_days",
    "present",
    "require_analysis_read",
    "scoped_departments",
    "trace_complete",
    "used_condition",
]

A = SupervisionAction


def require_analysis_read(actor: Actor) -> None:
    """Evaluators and analysts read every department; a department handler reads their own department's; whoever
    reads the statistics dashboard (the system administrator too) reads the analysis in their scope, as the
    navigation promises (a menu entry that answers 403 is a dead end)."""
    require_signed_in(actor)
    own_department = can(actor, "warnings.handle") and not has_city_wide_scope(actor)
    if not (can(actor, "evaluations.read") or can(actor, "statistics.read") or own_department):
        raise Forbidden("没有权限：需要 evaluations.read 权限 (permission evaluations.read required)", code="forbidden")


# ---- portable SQL pieces -------------------------------------------------------------------------------------

def days_between(session: Session, later: Any, earlier: Any) -> Any:
    """Whole days from `earlier` to `later` (dates)."""
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.julianday(later) - sa.func.julianday(earlier)
    return later - earlier


def plus_days(session: Session, day: Any, days: int) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.date(day, f"+{int(days)} days")
    return day + sa.literal(int(days))


def present(column: Any, name: str) -> Any:
    if name in TEXT_FIELDS:
        return sa.and_(column.is_not(None), sa.func.trim(column) != "")
    return column.is_not(None)


def trace_complete(alias: Any = A) -> Any:
    """True when the action carries every required field of its kind."""
    return sa.or_(*[sa.and_(alias.kind == kind, *[present(getattr(alias, f), f) for f in fields])
                    for kind, fields in REQUIRED_FIELDS.items()])


def used_condition(alias: Any = A) -> Any:
    """An action the analysis uses: linked to a catalogue item, dates in order (see rules.EXCLUSION_REASONS)."""
    return sa.and_(alias.item_id.is_not(None), sa.or_(alias.decided_on.is_(None), alias.decided_on >= alias.started_on))


def _n(cond: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _ratio(num: int | float, den: int | float) -> float | None:
    return num / den if den else None


# ---- results -------------------------------------------------------------------------------------------------

@dataclass
class DepartmentBehaviour:
    department_id: int
    code: str
    name: str
    level: str
    items: int = 0
    items_covered: int = 0
    collected: int = 0
    actions: int = 0  # used
    trace_complete: int = 0
    inspections: int = 0  # those whose timeliness can be judged: decided, or past the time limit undecided
    inspections_all: int = 0  # every inspection used (random share, problem rate)
    inspections_timely: int = 0
    inspection_days_sum: float = 0.0
    inspections_decided: int = 0
    penalties: int = 0
    penalties_timely: int = 0
    penalty_days_sum: float = 0.0
    penalties_decided: int = 0
    random_inspections: int = 0
    trigger_known: int = 0
    inspections_with_result: int = 0
    problems: int = 0
    random_with_result: int = 0
    random_problems: int = 0
    penalties_due_follow_up: int = 0
    penalties_without_follow_up: int = 0
    disposal: DisposalFigures | None = None

    @property
    def excluded(self) -> int:
        return self.collected - self.actions

    @property
    def items_never_exercised(self) -> int:
        return self.items - self.items_covered

    @property
    def actions_missing_trace(self) -> int:
        return self.actions - self.trace_complete

    def metrics(self) -> dict[str, float | None]:
        """The metric values evaluation indicators refer to (ratios 0–1, days), None where there is no data."""
        d = self.disposal
        return {
            "item_coverage": _ratio(self.items_covered, self.items),
            "trace_completeness": _ratio(self.trace_complete, self.actions),
            "inspection_timeliness": _ratio(self.inspections_timely, self.inspections),
            "penalty_timeliness": _ratio(self.penalties_timely, self.penalties),
            "inspection_avg_days": _ratio(self.inspection_days_sum, self.inspections_decided),
            "penalty_avg_days": _ratio(self.penalty_days_sum, self.penalties_decided),
            "random_share": _ratio(self.random_inspections, self.inspections_all),
            "problem_rate": _ratio(self.problems, self.inspections_with_result),
            "random_problem_rate": _ratio(self.random_problems, self.random_with_result),
            "follow_up_rate": _ratio(self.penalties_due_follow_up - self.penalties_without_follow_up,
                                     self.penalties_due_follow_up),
            "data_coverage": _ratio(self.actions, self.collected),
            "warning_disposal_rate": d.disposal_rate if d else None,
            "warning_overdue_rate": d.overdue_rate if d else None,
            "satisfaction_rate": d.satisfaction_rate if d else None,
        }

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "disposal"}
        data["disposal"] = None if self.disposal is None else {
            **asdict(self.disposal), "satisfaction_avg": self.disposal.satisfaction_avg}
        data.update(excluded=self.excluded, items_never_exercised=self.items_never_exercised,
                    actions_missing_trace=self.actions_missing_trace, metrics=self.metrics())
        return data


@dataclass
class CityFigures:
    complaints: int = 0
    complaints_responded: int = 0
    complaints_timely: int = 0
    complaint_days_sum: float = 0.0

    @property
    def complaint_timeliness(self) -> float | None:
        return _ratio(self.complaints_timely, self.complaints)

    @property
    def complaint_avg_days(self) -> float | None:
        return _ratio(self.complaint_days_sum, self.complaints_responded)


@dataclass
class BehaviourAnalysis:
    period: Period
    as_of: date
    departments: list[DepartmentBehaviour]
    city: CityFigures = field(default_factory=CityFigures)
    disposal_available: bool = False
    trigger_available: bool = True

    def department(self, code: str) -> DepartmentBehaviour | None:
        return next((d for d in self.departments if d.code == code), None)

    @property
    def collected(self) -> int:
        return sum(d.collected for d in self.departments)

    @property
    def used(self) -> int:
        return sum(d.actions for d in self.departments)

    @property
    def data_coverage(self) -> float | None:
        return _ratio(self.used, self.collected)

    @property
    def city_level_coverage(self) -> float | None:
        """Share of the city-level (市级) departments' collected actions the analysis covers."""
        city = [d for d in self.departments if d.level == "city"]
        return _ratio(sum(d.actions for d in city), sum(d.collected for d in city))

    def totals(self) -> DepartmentBehaviour:
        """The period over every department in scope, as one row."""
        total = DepartmentBehaviour(department_id=0, code="", name="合计", level="")
        disposal = [d.disposal for d in self.departments if d.disposal is not None]
        for d in self.departments:
            for name in ("items", "items_covered", "collected", "actions", "trace_complete", "inspections",
                         "inspections_all",
                         "inspections_timely", "inspection_days_sum", "inspections_decided", "penalties",
                         "penalties_timely", "penalty_days_sum", "penalties_decided", "random_inspections",
                         "trigger_known", "inspections_with_result", "problems", "random_with_result",
                         "random_problems", "penalties_due_follow_up", "penalties_without_follow_up"):
                setattr(total, name, getattr(total, name) + getattr(d, name))
        if self.disposal_available:
            total.disposal = DisposalFigures()
            for fig in disposal:
                for name in ("warnings", "disposed", "overdue", "rated", "satisfied", "satisfaction_sum"):
                    setattr(total.disposal, name, getattr(total.disposal, name) + getattr(fig, name))
        return total


# ---- the analysis --------------------------------------------------------------------------------------------

def scoped_departments(session: Session, actor: Actor, department_code: str | None = None) -> list[Department]:
    stmt = scope_to_department(sa.select(Department), actor, col(Department.id)).order_by(col(Department.code))
    if department_code:
        stmt = stmt.where(col(Department.code) == department_code)
    rows = list(session.scalars(stmt))
    if department_code and not rows:
        raise NotFound(f"部门“{department_code}”不存在或不在您的查看范围内", field="department_code", code="not_found")
    return rows


def analyse_behaviour(session: Session, actor: Actor, period: str | Period, department_code: str | None = None,
                      *, as_of: date | None = None, include_idle: bool = False) -> BehaviourAnalysis:
    """The behaviour analysis of every department in the actor's scope (or one), for one period.

    Departments with neither catalogue items nor actions in the period are left out unless `include_idle`.
    `as_of` (default today) decides which penalties' follow-up windows have closed.
    """
    require_analysis_read(actor)
    period = parse_period(period)
    as_of = as_of or local_today()
    departments = scoped_departments(session, actor, department_code)
    ids = [d.id for d in departments if d.id is not None]
    rows = {d.id: DepartmentBehaviour(department_id=d.id, code=d.code, name=d.name, level=d.level)
            for d in departments if d.id is not None}
    if not ids:
        return BehaviourAnalysis(period=period, as_of=as_of, departments=[])
    in_period = [col(A.started_on) >= period.start, col(A.started_on) < period.end, col(A.department_id).in_(ids)]
    used = used_condition()
    # timeliness counts an undecided action only once its time limit has run out by `as_of`
    insp = sa.and_(used, col(A.kind) == "inspection", due_for_timeliness(session, "inspection", as_of))
    pen = sa.and_(used, col(A.kind) == "penalty", due_for_timeliness(session, "penalty", as_of))
    insp_all = sa.and_(used, col(A.kind) == "inspection")
    span = days_between(session, col(A.decided_on), col(A.started_on))
    has_result = sa.and_(insp_all, col(A.result).is_not(None), sa.func.trim(col(A.result)) != "")
    problem = col(A.result).in_(("fail", "rectify"))
    random = col(A.trigger) == "random"
    stmt = sa.select(
        col(A.department_id), sa.func.count(), _n(used), _n(sa.and_(used, trace_complete())),
        _n(insp), _n(sa.and_(insp, col(A.decided_on).is_not(None), span <= TIMELINESS_LIMIT_DAYS["inspection"])),
        sa.func.coalesce(sa.func.sum(sa.case((sa.and_(insp, col(A.decided_on).is_not(None)), span), else_=0)), 0),
        _n(sa.and_(insp, col(A.decided_on).is_not(None))),
        _n(pen), _n(sa.and_(pen, col(A.decided_on).is_not(None), span <= TIMELINESS_LIMIT_DAYS["penalty"])),
        sa.func.coalesce(sa.func.sum(sa.case((sa.and_(pen, col(A.decided_on).is_not(None)), span), else_=0)), 0),
        _n(sa.and_(pen, col(A.decided_on).is_not(None))),
        _n(sa.and_(insp_all, random)), _n(sa.and_(insp_all, col(A.trigger).is_not(None))), _n(insp_all),
        _n(has_result), _n(sa.and_(has_result, problem)),
        _n(sa.and_(has_result, random)), _n(sa.and_(has_result, random, problem)),
    ).where(*in_period).group_by(col(A.department_id))
    for r in session.execute(stmt):
        row = rows[r[0]]
        (row.collected, row.actions, row.trace_complete, row.inspections, row.inspections_timely,
         days_i, row.inspections_decided, row.penalties, row.penalties_timely, days_p, row.penalties_decided,
         row.random_inspections, row.trigger_known, row.inspections_all, row.inspections_with_result, row.problems,
         row.random_with_result, row.random_problems) = (int(v) if i not in (5, 9) else v for i, v in enumerate(r[1:]))
        row.inspection_days_sum, row.penalty_days_sum = float(days_i or 0), float(days_p or 0)

    item = SupervisionItem
    exercised = sa.exists().where(col(A.item_id) == item.id, col(A.department_id) == item.department_id,
                                  col(A.started_on) >= period.start, col(A.started_on) < period.end)
    for dept, count, covered in session.execute(
            sa.select(col(item.department_id), sa.func.count(), _n(exercised))
            .where(col(item.active), col(item.department_id).in_(ids)).group_by(col(item.department_id))):
        rows[dept].items, rows[dept].items_covered = int(count), int(covered)

    for dept, due, missing in session.execute(_follow_up_stmt(session, period, as_of, ids)):
        rows[dept].penalties_due_follow_up, rows[dept].penalties_without_follow_up = int(due), int(missing)

    disposal = disposal_by_department(session, period, ids)
    if disposal is not None:
        for dept_id, row in rows.items():
            row.disposal = disposal.get(dept_id, DisposalFigures())

    city = CityFigures()
    if department_code is None and can(actor, "evaluations.read"):  # complaints carry no department: city-wide only
        c = Complaint
        cspan = days_between(session, col(c.responded_on), col(c.received_on))
        responded = sa.and_(col(c.responded_on).is_not(None), col(c.responded_on) >= c.received_on)
        total, answered, timely, days_sum = session.execute(sa.select(
            sa.func.count(), _n(responded), _n(sa.and_(responded, cspan <= COMPLAINT_RESPONSE_DAYS)),
            sa.func.coalesce(sa.func.sum(sa.case((responded, cspan), else_=0)), 0),
        ).where(col(c.received_on) >= period.start, col(c.received_on) < period.end)).one()
        city = CityFigures(int(total), int(answered), int(timely), float(days_sum or 0))

    kept = [r for r in rows.values() if include_idle or department_code or r.items or r.collected]
    return BehaviourAnalysis(period=period, as_of=as_of, departments=sorted(kept, key=lambda r: r.code), city=city,
                             disposal_available=disposal is not None)


def due_for_timeliness(session: Session, kind: str, as_of: date, alias: Any = A) -> Any:
    """Decided, or undecided with its time limit (rules.TIMELINESS_LIMIT_DAYS) already past on `as_of`."""
    return sa.or_(alias.decided_on.is_not(None),
                  plus_days(session, alias.started_on, TIMELINESS_LIMIT_DAYS[kind]) < as_of)


def _follow_up_stmt(session: Session, period: Period, as_of: date, ids: list[int]) -> Any:
    """Penalties decided in the period whose follow-up window has closed, and those with no inspection in it."""
    p, f = AliasedClass(A), AliasedClass(A)
    window_end = plus_days(session, p.decided_on, FOLLOW_UP_DAYS)
    followed = sa.exists().where(f.entity_id == p.entity_id, f.department_id == p.department_id,
                                 f.kind == "inspection", f.started_on > p.decided_on, f.started_on <= window_end)
    return (sa.select(p.department_id, sa.func.count(), _n(~followed))
            .where(p.started_on >= period.start, p.started_on < period.end, p.department_id.in_(ids),
                   p.kind == "penalty", used_condition(p), p.decided_on.is_not(None), window_end <= as_of)
            .group_by(p.department_id))
