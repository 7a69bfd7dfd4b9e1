"""Dashboard figures (风险统计): warnings grouped by level/status/department/district/industry/source, a trend,
clue volume, disposal per department and the model's figures — each a few grouped SQL statements over the
warnings dispatched in a period, whatever their number.

Definitions (also shown under each chart):
- a warning counts in the period it was dispatched in (local dates, Asia/Shanghai); withdrawn (dismissed)
  warnings are counted apart and left out of the rates;
- disposed (已处置) = feedback submitted or closed; 处理率 = disposed / warnings;
- overdue (超期) = open and past its receipt or disposal deadline now, or closed after its disposal deadline;
- time to receipt / to closure: median from dispatch.
A handler sees their own department's figures; analysts, viewers and admins see the city.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Session, col

from domain.analysis.disposal import DisposalRates
from domain.analysis.periods import Period, parse_period
from domain.disposal.models import WarningExtension, WarningFeedback
from domain.errors import InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import has_city_wide_scope, require
from domain.reference.models import Industry, Region
from domain.risk.levels import LEVEL_LABELS
from domain.risk.models import ModelAlias, ModelVersion, ScoringRun
from domain.risk.score_summary import SCORE_BINS, stored_summary, summary_sql
from domain.supervision.models import Entity
from domain.types import LOCAL_TZ, table_of, utcnow
from domain.warnings.models import (
    CLUE_SOURCES,
    LEVELS,
    OPEN_STATUSES,
    WARNING_SOURCES,
    WARNING_STATUSES,
    RiskClue,
    Warning,
    WarningEvent,
)
from domain.warnings.overdue import DISPOSAL_OPEN
from domain.warnings.overdue import overdue_condition as overdue_now

__all__ = [
    "GROUP_BY",
    "INTERVALS",
    "Dashboard",
    "DepartmentDisposal",
    "FilterOptions",
    "Group",
    "StatsFilter",
    "TrendPoint",
    "clue_volume",
    "dashboard",
    "disposal_ranking",
    "filter_options",
    "make_filter",
    "model_statistics",
    "precision_by_level",
    "version_precision",
    "warning_groups",
    "warning_trend",
]

GROUP_BY = {"level": "预警等级", "status": "处置状态", "department": "责任部门", "district": "行政区划",
            "industry": "行业门类", "source": "预警来源"}
INTERVALS = {"week": "按周", "month": "按月"}
DISPOSED = ("feedback_submitted", "closed")
W = Warning.__table__.c  # type: ignore[attr-defined]
E = Entity.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StatsFilter:
    """What every figure is filtered by; `department_id` is already forced to the handler's own department."""

    period: Period
    department_id: int | None = None
    region_code: str | None = None  # a county/district code (GB/T 2260)
    industry: str | None = None  # a GB/T 4754 section letter or two-digit division

    def query(self) -> dict[str, str]:
        """The same filter as query parameters of the warnings list (drill-down) and the dashboard."""
        return {"period": self.period.code}


def make_filter(session: Session, actor: Actor, *, period: str | Period | None = None,
                department_code: str | None = None, region_code: str | None = None,
                industry: str | None = None) -> StatsFilter:
    """Validate the dashboard's filter and apply the caller's department scope."""
    require(actor, "statistics.read")
    p = parse_period(period or _default_period())
    department_id: int | None = None
    code = (department_code or "").strip()
    if code:
        department_id = session.execute(sa.select(col(Department.id)).where(col(Department.code) == code)).scalar()
        if department_id is None:
            raise InvalidInput(f"部门编码“{code}”不存在", field="department_code", code="unknown_department")
    if not has_city_wide_scope(actor):
        if actor.department_id is None:
            raise NotFound("账号未关联部门，没有可统计的数据")
        if department_id is not None and department_id != actor.department_id:
            raise NotFound(f"部门“{code}”不存在")
        department_id = actor.department_id
    region = (region_code or "").strip() or None
    if region and session.get(Region, region) is None:
        raise InvalidInput(f"行政区划代码“{region}”不存在", field="region_code", code="unknown_region")
    ind = (industry or "").strip().upper() or None
    if ind and session.get(Industry, ind) is None:
        raise InvalidInput(f"行业代码“{ind}”不存在（应为门类字母 A–T 或两位大类代码）", field="industry",
                           code="unknown_industry")
    return StatsFilter(period=p, department_id=department_id, region_code=region, industry=ind)


def _default_period() -> str:
    today = datetime.now(LOCAL_TZ).date()
    return f"{today.year}"


def _entity_industry_condition(industry: str) -> Any:
    """The entity's industry now (clues are counted by their entity): a section's divisions or the section."""
    if industry.isalpha():
        divisions = sa.select(col(Industry.code)).where(col(Industry.parent_code) == industry)
        return sa.or_(E.industry_code == industry, E.industry_code.in_(divisions))
    return E.industry_code == industry


def _industry_condition(industry: str) -> Any:
    """The warning's industry as issued: a section letter matches the stored section (its divisions rolled up), a
    division its code (within its section, so the section index serves both)."""
    if industry.isalpha():
        return W.industry_section == industry
    section = sa.select(col(Industry.parent_code)).where(col(Industry.code) == industry).scalar_subquery()
    return sa.and_(W.industry_section == section, W.industry_code == industry)


def _scope(f: StatsFilter) -> list[Any]:
    """The department, district and industry filters, without the period (the district and industry the entity
    had when the warning was issued, kept on the warning)."""
    cond: list[Any] = []
    if f.department_id is not None:
        cond.append(W.department_id == f.department_id)
    if f.region_code:
        cond.append(W.region_code == f.region_code)
    if f.industry:
        cond.append(_industry_condition(f.industry))
    return cond


def _where(f: StatsFilter, *, include_dismissed: bool = True) -> list[Any]:
    """Warnings dispatched in the period, within the filter."""
    lo, hi = f.period.utc_bounds()
    cond: list[Any] = [W.dispatched_at >= lo, W.dispatched_at < hi, *_scope(f)]
    if not include_dismissed:
        cond.append(W.status != "dismissed")
    return cond


def _n(cond: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def overdue_condition(now: datetime) -> Any:
    """Overdue now (domain.warnings.overdue: the one rule), or closed after the disposal deadline — the count of
    超期 warnings of a period."""
    return sa.or_(overdue_now(now), sa.and_(W.closed_at.is_not(None), W.closed_at > W.disposal_due_at))


@dataclass
class Group(DisposalRates):
    key: str
    label: str
    warnings: int = 0  # not withdrawn
    open: int = 0
    disposed: int = 0
    closed: int = 0
    overdue: int = 0
    dismissed: int = 0


def _overdue_sum(now: datetime) -> Any:
    return _n(overdue_condition(now))


def _status_counts(by_status: dict[str, tuple[int, int]]) -> list[int]:
    """(count, overdue) per status -> the measures of a Group: warnings, open, disposed, closed, overdue,
    dismissed (a withdrawn warning counts apart and is never overdue)."""
    def total(statuses: Iterable[str]) -> int:
        return sum(by_status.get(s, (0, 0))[0] for s in statuses)
    live = [s for s in by_status if s != "dismissed"]
    return [total(live), total(OPEN_STATUSES), total(DISPOSED), total(("closed",)),
            sum(by_status[s][1] for s in live), total(("dismissed",))]


def _group_column(group_by: str) -> Any:
    """The warning column a grouping reads."""
    columns = {"level": W.level, "status": W.status, "department": W.department_id, "source": W.source,
               "district": W.region_code, "industry": W.industry_section}
    if group_by not in columns:
        raise InvalidInput(f"分组“{group_by}”不存在，可选：" + "、".join(f"{k}（{v}）" for k, v in GROUP_BY.items()),
                           field="group_by", code="unknown_group")
    return columns[group_by]


def _unordered(session: Session, column: Any) -> Any:
    """A group key SQLite cannot read in index order: grouped by the bare column it walks that column's own index
    (department, district, section …) to save the sort, and fetches every row from the table; by an expression
    it counts from the covering dispatch index and sorts the few groups. PostgreSQL hashes either way."""
    return sa.func.coalesce(column, None) if session.get_bind().dialect.name == "sqlite" else column


def warning_groups(session: Session, actor: Actor, f: StatsFilter, group_by: str, *,
                   now: datetime | None = None) -> list[Group]:
    """Warnings of the period grouped by one dimension, with their disposal and overdue counts (one statement)."""
    require(actor, "statistics.read")
    column = _unordered(session, _group_column(group_by))
    now = now or utcnow()
    # one pass over the covering index: a count and an overdue count per (key, status); the measures follow
    rows = session.execute(sa.select(column, W.status, sa.func.count(), _overdue_sum(now)).where(*_where(f))
                           .group_by(column, W.status)).all()
    by_key: dict[Any, dict[str, tuple[int, int]]] = {}
    for key, status, n, overdue in rows:
        by_key.setdefault(key, {})[status] = (int(n), int(overdue))
    counts = {key: _status_counts(statuses) for key, statuses in by_key.items()}
    labels = _labels(session, group_by, counts.keys())
    groups = [Group(_key(key), labels.get(key, "未填写" if key is None else str(key)), *values)
              for key, values in counts.items()]
    return _ordered(group_by, groups)


def _key(key: Any) -> str:
    return "" if key is None else str(key)


def _labels(session: Session, group_by: str, keys: Iterable[Any]) -> dict[Any, str]:
    keys = [k for k in keys if k is not None]
    if group_by == "level":
        return {k: LEVEL_LABELS.get(k, k) for k in keys}
    if group_by == "status":
        return {k: WARNING_STATUSES.get(k, k) for k in keys}
    if group_by == "source":
        return {k: WARNING_SOURCES.get(k, k) for k in keys}
    if group_by == "department":
        return dict(session.execute(sa.select(col(Department.id), col(Department.name))
                                    .where(col(Department.id).in_(keys))).all())
    if group_by == "district":
        return dict(session.execute(sa.select(col(Region.code), col(Region.name))
                                    .where(col(Region.code).in_(keys))).all())
    if group_by == "industry":
        return {code: f"{code} {name}" for code, name in
                session.execute(sa.select(col(Industry.code), col(Industry.name)).where(col(Industry.code).in_(keys)))}
    return {}


def _ordered(group_by: str, groups: list[Group]) -> list[Group]:
    if group_by == "level":
        order = {k: i for i, k in enumerate(LEVELS)}
        return sorted(groups, key=lambda g: order.get(g.key, len(order)))
    if group_by == "status":
        order = {k: i for i, k in enumerate(WARNING_STATUSES)}
        return sorted(groups, key=lambda g: order.get(g.key, len(order)))
    return sorted(groups, key=lambda g: (-(g.warnings + g.dismissed), g.key))


def department_codes(session: Session, groups: list[Group]) -> dict[str, str]:
    """Department id (a group key) -> department code, for drill-down links."""
    ids = [int(g.key) for g in groups if g.key.isdigit()]
    return {str(i): c for i, c in session.execute(sa.select(col(Department.id), col(Department.code))
                                                  .where(col(Department.id).in_(ids)))} if ids else {}


# --- trend ---------------------------------------------------------------------------------------------------


@dataclass
class TrendPoint:
    start: date
    label: str
    issued: int = 0
    closed: int = 0
    overdue: int = 0


def _bucket(day: date, interval: str) -> date:
    if interval == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def _bucket_label(start: date, interval: str) -> str:
    if interval == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.month:02d}-{start.day:02d}周"


def warning_trend(session: Session, actor: Actor, f: StatsFilter, interval: str = "month", *,
                  now: datetime | None = None) -> list[TrendPoint]:
    """Issued, closed and overdue per week or month of the period (by dispatch, closure and deadline dates)."""
    require(actor, "statistics.read")
    if interval not in INTERVALS:
        raise InvalidInput(f"时间粒度“{interval}”不存在，可选：week（按周）、month（按月）", field="interval",
                           code="unknown_interval")
    now = now or utcnow()
    points: dict[date, TrendPoint] = {}
    day = _bucket(f.period.start, interval)
    while day < f.period.end:
        points[day] = TrendPoint(day, _bucket_label(day, interval))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1) if interval == "month" else day + timedelta(7)
    # each bucket's part of the period as UTC instants (local midnights)
    starts = [max(d, f.period.start) for d in points] + [f.period.end]
    edges = [datetime.combine(d, time(0), tzinfo=LOCAL_TZ).astimezone(UTC) for d in starts]
    scope = [W.status != "dismissed", *_scope(f)]
    # each count is by its own date — dispatch, closure, deadline — over the index that starts with that date;
    # overdue by its deadline: past it now, and open then or closed after it (domain.warnings.overdue's rule
    # once the disposal deadline has passed)
    late = sa.or_(W.status.in_(DISPOSAL_OPEN), W.closed_at > W.disposal_due_at)
    series = (("issued", W.dispatched_at, None), ("closed", W.closed_at, None), ("overdue", W.disposal_due_at, late))
    table = table_of(Warning)
    counts = []
    for _name, column, extra in series:
        for lo, hi in itertools.pairwise(edges):
            cond = [column >= lo, column < (hi if extra is None else min(hi, now)), *scope]
            if extra is not None:
                cond.append(extra)
            counts.append(sa.select(sa.func.count()).select_from(table).where(*cond).scalar_subquery())
    values = iter(session.execute(sa.select(*counts)).one())  # one row: every bucket of every series
    for name, _column, _extra in series:
        for point in points.values():
            setattr(point, name, int(next(values)))
    return list(points.values())


# --- clues --------------------------------------------------------------------------------------------------


def clue_volume(session: Session, actor: Actor, f: StatsFilter) -> list[Group]:
    """Clues received in the period by source; duplicates are shown apart and counted once (in `warnings`: the
    number of distinct clues, in `dismissed`: duplicates linked to an earlier clue)."""
    require(actor, "statistics.read")
    c = RiskClue.__table__.c  # type: ignore[attr-defined]
    cond: list[Any] = [c.received_on >= f.period.start, c.received_on < f.period.end]
    if f.department_id is not None:
        cond.append(c.reporting_department_id == f.department_id)
    entity_cond = []
    if f.region_code:
        entity_cond.append(E.region_code == f.region_code)
    if f.industry:
        entity_cond.append(_entity_industry_condition(f.industry))
    if entity_cond:
        cond.append(c.entity_id.in_(sa.select(E.id).where(*entity_cond)))
    rows = session.execute(sa.select(c.source, _n(c.status != "duplicate"), _n(c.status == "duplicate"),
                                     _n(c.status.in_(("warned", "merged"))), _n(c.status == "pending"))
                           .where(*cond).group_by(c.source)).all()
    groups = [Group(key, CLUE_SOURCES.get(key, key), warnings=int(distinct), dismissed=int(dup),
                    disposed=int(warned), open=int(pending)) for key, distinct, dup, warned, pending in rows]
    return sorted(groups, key=lambda g: -g.warnings)


# --- disposal per department --------------------------------------------------------------------------------


@dataclass
class DepartmentDisposal(DisposalRates):
    department_id: int
    code: str
    name: str
    warnings: int = 0
    disposed: int = 0
    overdue: int = 0
    median_receipt_hours: float | None = None
    median_closure_days: float | None = None
    returns_requested: int = 0
    returns_rejected: int = 0
    extensions_requested: int = 0
    extensions_granted: int = 0
    urges: int = 0
    rank: int = 0


def _median_of_list(text: str | None) -> float | None:
    """The median in seconds of SQLite's group_concat of a duration in milliseconds (NULLs already left out)."""
    return float(np.median(np.fromstring(text, dtype=np.int64, sep=","))) / 1000 if text else None


def disposal_ranking(session: Session, actor: Actor, f: StatsFilter, *,
                     now: datetime | None = None) -> list[DepartmentDisposal]:
    """Per responsible department: warnings, 处理率, 超期率, median time to receipt and to closure, returns (退单)
    requested and rejected, extensions asked and granted, urges (督办) — ranked by 处理率, then fewer overdue.
    Durations are the warning's receipt_seconds / closure_seconds (kept by the disposal steps)."""
    require(actor, "statistics.read")
    now = now or utcnow()
    cond = _where(f, include_dismissed=False)
    postgresql = session.get_bind().dialect.name == "postgresql"
    measures = [sa.func.count(), _n(W.status.in_(DISPOSED)), _n(overdue_condition(now))]
    if postgresql:  # the medians in the same pass (ordered-set aggregates leave NULLs out)
        measures += [sa.func.percentile_cont(0.5).within_group(W.receipt_seconds),
                     sa.func.percentile_cont(0.5).within_group(W.closure_seconds)]
    else:  # SQLite has no percentile: each department's durations as one list (whole milliseconds: integers
        # print and parse in a third of the time of floats), the middle taken here
        measures += [sa.func.group_concat(sa.cast(W.receipt_seconds * 1000, sa.Integer)),
                     sa.func.group_concat(sa.cast(W.closure_seconds * 1000, sa.Integer))]
    dept = _unordered(session, W.department_id)
    rows = session.execute(sa.select(dept, *measures).where(*cond).group_by(dept)).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    names = {i: (code, name) for i, code, name in
             session.execute(sa.select(col(Department.id), col(Department.code), col(Department.name))
                             .where(col(Department.id).in_(ids)))}
    out = {r[0]: DepartmentDisposal(r[0], *names.get(r[0], ("", "")), warnings=int(r[1]), disposed=int(r[2]),
                                    overdue=int(r[3])) for r in rows}
    for dept, *_, receipt, closure in rows:
        if not postgresql:
            receipt, closure = _median_of_list(receipt), _median_of_list(closure)
        out[dept].median_receipt_hours = float(receipt) / 3600 if receipt is not None else None
        out[dept].median_closure_days = float(closure) / 86400 if closure is not None else None
    # events of these warnings, counted by the department the event was recorded for (the one that acted): the
    # events of those kinds (index on kind), each checked against the period's filter by its warning's key (an
    # EXISTS, so the planner walks the few events, not the period's warnings)
    ev = table_of(WarningEvent).c
    warnings = table_of(Warning)
    kinds = {"return_request": "returns_requested", "return_reject": "returns_rejected", "urge": "urges"}
    of_period = sa.exists(sa.select(1).select_from(warnings).where(W.id == ev.warning_id, *cond))
    acting = sa.func.coalesce(ev.department_id, sa.select(W.department_id).where(W.id == ev.warning_id)
                              .scalar_subquery())
    counted = (sa.select(acting.label("dept"), ev.kind.label("kind"))
               .where(ev.kind.in_(list(kinds)), of_period).subquery())
    for dept, kind, n in session.execute(sa.select(counted.c.dept, counted.c.kind, sa.func.count())
                                         .group_by(counted.c.dept, counted.c.kind)):
        if dept in out:
            setattr(out[dept], kinds[kind], int(n))
    x = table_of(WarningExtension).c
    for dept, asked, granted in session.execute(
            sa.select(x.department_id, sa.func.count(), _n(x.status == "approved"))
            .where(sa.exists(sa.select(1).select_from(warnings).where(W.id == x.warning_id, *cond)))
            .group_by(x.department_id)):
        if dept in out:
            out[dept].extensions_requested, out[dept].extensions_granted = int(asked), int(granted)
    ranked = sorted(out.values(), key=lambda d: (-(d.disposal_rate or 0), d.overdue_rate or 0, d.code))
    rank, previous = 0, None
    for i, d in enumerate(ranked, start=1):  # ties share a rank (1, 1, 3)
        key = (d.disposal_rate, d.overdue_rate)
        if key != previous:
            rank, previous = i, key
        d.rank = rank
    return ranked


# --- the model ----------------------------------------------------------------------------------------------


@dataclass
class LevelPrecision:
    level: str
    label: str
    rated: int = 0
    confirmed: int = 0
    partly: int = 0
    false_alarm: int = 0

    @property
    def precision(self) -> float | None:
        """Share of warnings whose feedback found the risk real (confirmed or partly)."""
        return (self.confirmed + self.partly) / self.rated if self.rated else None


@dataclass
class RunSummary:
    alias: str
    version_id: int
    version: int
    run_id: int
    as_of: date
    entities: int
    mean_score: float | None
    level_counts: dict[str, int]


@dataclass
class ModelStatistics:
    precision: list[LevelPrecision]
    score_bins: list[tuple[float, float, int]]  # [lo, hi) and count, of the champion's latest run
    runs: list[RunSummary] = field(default_factory=list)  # champion and challenger, latest run each


# A finished run's scores never change: its mean and histogram are read once per process (keyed by the database,
# the run and when it finished, so a run id reused after the tables were emptied is never mistaken for another).
_RUN_SCORES: dict[tuple[str, int, Any], tuple[float | None, list[int]]] = {}
_RUN_SCORES_MAX = 64


def _run_scores(session: Session, run: Any) -> tuple[float | None, list[int]]:
    """(mean score, counts per SCORE_BINS bin) of one succeeded scoring run: the summary the engine stored with the
    run, or (a run stored before migration 0019) one grouped statement over its scores, then kept per process."""
    stored = stored_summary(run.score_summary)
    if stored is not None:
        return stored["mean"], [int(n) for n in stored["bins"]]
    key = (str(session.get_bind().engine.url), run.id, run.finished_at)
    cached = _RUN_SCORES.get(key)
    if cached is not None:
        return cached
    counted = summary_sql(session, run.id)
    result = (counted["mean"], counted["bins"])
    if run.finished_at is not None and run.status == "succeeded":
        if len(_RUN_SCORES) >= _RUN_SCORES_MAX:
            _RUN_SCORES.pop(next(iter(_RUN_SCORES)))
        _RUN_SCORES[key] = result
    return result


def latest_main_feedback(*, rated: bool = False) -> Any:
    """The condition that a main feedback row is its warning's latest round (with a satisfaction rating, when
    `rated`): no newer such round exists — an index lookup per row, not a grouping of every feedback."""
    fb = WarningFeedback.__table__.c  # type: ignore[attr-defined]
    newer = WarningFeedback.__table__.alias("newer_feedback")  # type: ignore[attr-defined]
    cond = [newer.c.warning_id == fb.warning_id, newer.c.part == "main", newer.c.round > fb.round]
    if rated:
        cond.append(newer.c.satisfaction.is_not(None))
    return ~sa.exists(sa.select(1).select_from(newer).where(*cond))  # SELECT 1: answered from the index


def precision_by_level(session: Session, cond: list[Any]) -> dict[str, LevelPrecision]:
    """Feedback outcomes of the warnings matching `cond` (latest main round each), per level."""
    fb = WarningFeedback.__table__.c  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        # each warning's latest main round in one backward walk of the feedback index (DISTINCT ON), hashed
        # against the period's warnings — instead of an anti-join of every feedback row against all the others
        latest = (sa.select(fb.warning_id, fb.outcome).where(fb.part == "main").ext(distinct_on(fb.warning_id))
                  .order_by(fb.warning_id.desc(), fb.part.desc(), fb.round.desc()).subquery("latest_feedback"))
        stmt = (sa.select(W.level, latest.c.outcome, sa.func.count())
                .select_from(table_of(Warning).join(latest, latest.c.warning_id == W.id))
                .where(*cond, latest.c.outcome.is_not(None)).group_by(W.level, latest.c.outcome))
    else:  # SQLite: per warning of the period, its main rounds and the newer-round check, both in the index
        stmt = (sa.select(W.level, fb.outcome, sa.func.count())
                .select_from(table_of(Warning).join(table_of(WarningFeedback),
                                                    sa.and_(fb.warning_id == W.id, fb.part == "main")))
                .where(*cond, latest_main_feedback(), fb.outcome.is_not(None)).group_by(W.level, fb.outcome))
    rows = session.execute(stmt).all()
    by_level = {lv: LevelPrecision(lv, LEVEL_LABELS[lv]) for lv in LEVELS}
    for level, outcome, n in rows:
        p = by_level.get(level)
        if p is None:
            continue
        p.rated += int(n)
        if outcome in ("confirmed", "partly", "false_alarm"):
            setattr(p, outcome, getattr(p, outcome) + int(n))
    return by_level


def version_precision(session: Session, actor: Actor, version_id: int) -> list[LevelPrecision]:
    """风险模型管理: how right the warnings this model version produced turned out, by level, from the departments'
    feedback (the latest main round of each; withdrawn warnings left out)."""
    require(actor, "models.read")
    return list(precision_by_level(session, [W.model_version_id == version_id, W.status != "dismissed"]).values())


def model_statistics(session: Session, actor: Actor, f: StatsFilter) -> ModelStatistics:
    """Precision of warnings by level from feedback outcomes (period's warnings, main feedback, latest round),
    the champion's score distribution, and champion beside challenger on their latest runs."""
    require(actor, "statistics.read")
    by_level = precision_by_level(session, _where(f, include_dismissed=False))
    runs: list[RunSummary] = []
    for alias in ("champion", "challenger"):
        row = session.execute(
            sa.select(ScoringRun, col(ModelVersion.version))
            .join(ModelAlias, col(ModelAlias.version_id) == ScoringRun.version_id)
            .join(ModelVersion, col(ModelVersion.id) == ScoringRun.version_id)
            .where(col(ModelAlias.alias) == alias, col(ScoringRun.status) == "succeeded",
                   col(ScoringRun.role).in_(("champion", "challenger")))  # type: ignore[attr-defined]
            .order_by(col(ScoringRun.as_of).desc(), col(ScoringRun.id).desc()).limit(1)).first()  # type: ignore[attr-defined]
        if row is None:
            continue
        run, version = row
        summary = _run_scores(session, run)
        runs.append(RunSummary(alias, run.version_id, version, run.id, run.as_of, run.entities, summary[0],
                               dict(run.level_counts or {})))
    bins: list[tuple[float, float, int]] = []
    champion = next((r for r in runs if r.alias == "champion"), None)
    if champion is not None:
        counts = _run_scores(session, session.get(ScoringRun, champion.run_id))[1]
        bins = [(i / SCORE_BINS, (i + 1) / SCORE_BINS, counts[i]) for i in range(SCORE_BINS)]
    return ModelStatistics(precision=list(by_level.values()), score_bins=bins, runs=runs)


# --- the whole dashboard in one unit of work ----------------------------------------------------------------


@dataclass
class FilterOptions:
    departments: list[tuple[str, str]]  # code, name (only what the caller may pick)
    districts: list[tuple[str, str]]  # Suzhou's counties and districts
    sections: list[tuple[str, str]]  # GB/T 4754 sections


@dataclass
class Dashboard:
    filter: StatsFilter
    interval: str
    groups: dict[str, list[Group]]
    trend: list[TrendPoint]
    clues: list[Group]
    disposal: list[DepartmentDisposal]
    model: ModelStatistics
    department_codes: dict[int, str]
    options: FilterOptions

    @property
    def totals(self) -> Group:
        total = Group("", "合计")
        for g in self.groups.get("level", []):
            for name in ("warnings", "open", "disposed", "closed", "overdue", "dismissed"):
                setattr(total, name, getattr(total, name) + getattr(g, name))
        return total


SUZHOU = "320500"


def filter_options(session: Session, actor: Actor) -> FilterOptions:
    require(actor, "statistics.read")
    dept_stmt = (sa.select(col(Department.code), col(Department.name)).where(col(Department.active))
                 .order_by(col(Department.code)))
    if not has_city_wide_scope(actor):
        dept_stmt = dept_stmt.where(col(Department.id) == actor.department_id)
    districts = session.execute(sa.select(col(Region.code), col(Region.name)).where(col(Region.parent_code) == SUZHOU)
                                .order_by(col(Region.code))).all()
    sections = session.execute(sa.select(col(Industry.code), col(Industry.name)).where(col(Industry.level) == "section")
                               .order_by(col(Industry.code))).all()
    return FilterOptions([tuple(r) for r in session.execute(dept_stmt)],  # type: ignore[misc]
                         [tuple(r) for r in districts], [tuple(r) for r in sections])  # type: ignore[misc]


def dashboard(session: Session, actor: Actor, *, period: str | Period | None = None,
              department_code: str | None = None, region_code: str | None = None, industry: str | None = None,
              interval: str = "month", now: datetime | None = None) -> Dashboard:
    """Every figure of the statistics page for one filter, read in one transaction."""
    f = make_filter(session, actor, period=period, department_code=department_code, region_code=region_code,
                    industry=industry)
    now = now or utcnow()
    groups = {key: warning_groups(session, actor, f, key, now=now) for key in GROUP_BY}
    codes = {int(k): v for k, v in department_codes(session, groups["department"]).items()}
    if f.department_id is not None and f.department_id not in codes:
        code = session.execute(sa.select(col(Department.code)).where(col(Department.id) == f.department_id)).scalar()
        if code:
            codes[f.department_id] = code
    return Dashboard(filter=f, interval=interval, groups=groups,
                     trend=warning_trend(session, actor, f, interval, now=now),
                     clues=clue_volume(session, actor, f), disposal=disposal_ranking(session, actor, f, now=now),
                     model=model_statistics(session, actor, f), department_codes=codes,
                     options=filter_options(session, actor))
