"""Statistics queries (风险统计): grouped warning figures and the performance-goal panel (绩效目标)."""

from __future__ import annotations

from datetime import date

import strawberry

from api.context import Info
from domain.statistics import goals as goal_service
from domain.statistics import service

__all__ = ["StatisticsQuery"]


@strawberry.input(description="What the figures are filtered by (统计条件); a handler gets their own department.")
class StatisticsFilterInput:
    period: str | None = strawberry.field(default=None, description="2026H1, 2026Q3, 2026-07, 2026 or "
                                                                    "2026-03-01~2026-05-31; default this year")
    department_code: str | None = None
    region_code: str | None = strawberry.field(default=None, description="county/district code (行政区划)")
    industry: str | None = strawberry.field(default=None, description="GB/T 4754 section letter or division")


@strawberry.type(description="One group of warnings (分组统计): counts and rates.")
class StatisticsGroupType:
    key: str
    label: str
    warnings: int = strawberry.field(description="warnings dispatched in the period, not withdrawn")
    open: int
    disposed: int = strawberry.field(description="feedback submitted or closed (已处置)")
    closed: int
    overdue: int = strawberry.field(description="past a deadline now, or closed after the disposal deadline (超期)")
    dismissed: int = strawberry.field(description="withdrawn (已撤销), left out of the rates")
    disposal_rate: float | None = strawberry.field(description="处理率 = disposed / warnings")
    overdue_rate: float | None = strawberry.field(description="超期率 = overdue / warnings")

    @classmethod
    def build(cls, g: service.Group) -> StatisticsGroupType:
        return cls(key=g.key, label=g.label, warnings=g.warnings, open=g.open, disposed=g.disposed, closed=g.closed,
                   overdue=g.overdue, dismissed=g.dismissed, disposal_rate=g.disposal_rate,
                   overdue_rate=g.overdue_rate)


@strawberry.type(description="Warning statistics for a period, grouped by one dimension (风险统计).")
class RiskStatisticsType:
    period: str
    period_start: date
    period_end: date = strawberry.field(description="the last day of the period")
    group_by: str
    groups: list[StatisticsGroupType]
    total: StatisticsGroupType


@strawberry.type(description="One performance goal (绩效目标) computed live for a period.")
class PerformanceGoalType:
    key: str
    name: str
    target: float
    target_text: str
    unit: str
    value: float | None = strawberry.field(description="null when there is nothing to compute it from yet")
    status: str = strawberry.field(description="met / not_met / in_progress / unavailable")
    status_label: str
    explanation: str = strawberry.field(description="how the figure is computed (口径)")
    detail: str
    evidence: str = strawberry.field(description="the page that holds the records behind it")
    previous: float | None = strawberry.field(description="the same figure for the previous period")
    trend: str | None = strawberry.field(description="up / down / flat against the previous period")


def _total(groups: list[service.Group]) -> service.Group:
    total = service.Group("", "合计")
    for g in groups:
        for name in ("warnings", "open", "disposed", "closed", "overdue", "dismissed"):
            setattr(total, name, getattr(total, name) + getattr(g, name))
    return total


def _statistics(session, actor, flt: StatisticsFilterInput | None, group_by: str):
    flt = flt or StatisticsFilterInput()
    f = service.make_filter(session, actor, period=flt.period, department_code=flt.department_code,
                            region_code=flt.region_code, industry=flt.industry)
    return f, service.warning_groups(session, actor, f, group_by)


@strawberry.type
class StatisticsQuery:
    @strawberry.field(description="Warnings of a period grouped by level, status, department, district, industry or "
                                  "source, with disposal and overdue counts and rates (风险统计).")
    async def risk_statistics(self, info: Info, group_by: str = "level",
                              filter: StatisticsFilterInput | None = None) -> RiskStatisticsType:
        ctx = info.context
        f, groups = await ctx.read(_statistics, ctx.actor, filter, group_by)
        return RiskStatisticsType(period=f.period.code, period_start=f.period.start, period_end=f.period.last_day,
                                  group_by=group_by, groups=[StatisticsGroupType.build(g) for g in groups],
                                  total=StatisticsGroupType.build(_total(groups)))

    @strawberry.field(description="Every target of the performance-goal form, computed live (绩效目标).")
    async def performance_goals(self, info: Info, period: str | None = None) -> list[PerformanceGoalType]:
        ctx = info.context
        goals = await ctx.read(goal_service.performance_goals, ctx.actor, period)
        return [PerformanceGoalType(key=g.key, name=g.name, target=g.target, target_text=g.target_text, unit=g.unit,
                                    value=g.value, status=g.status, status_label=g.status_label,
                                    explanation=g.explanation, detail=g.detail, evidence=g.evidence,
                                    previous=g.previous, trend=g.trend) for g in goals]
