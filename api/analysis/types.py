"""GraphQL types of the analysis-evaluation system: behaviour analysis, indicator sets, evaluations, reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import strawberry

from domain.analysis.behaviour import BehaviourAnalysis, DepartmentBehaviour
from domain.analysis.disposal import DISPOSAL_UNAVAILABLE
from domain.analysis.findings import FindingPage
from domain.analysis.periods import Period
from domain.evaluation.defaults import METRICS
from domain.evaluation.service import IndicatorSetView, ResultView, RunView
from domain.reports.models import AnalysisReport

__all__ = ["AnalysisReportType", "EvaluationRunType", "FindingPageType", "IndicatorSetType", "PeriodType",
           "SupervisionAnalysisType"]


@strawberry.type(name="Period", description="A reporting period (统计期间): 2026H1, 2026Q3, 2026-07, 2026, a range.")
class PeriodType:
    code: str
    label: str = strawberry.field(description="Chinese name (如 2026年上半年).")
    start: date
    end: date = strawberry.field(description="Last day, inclusive (截止日).")

    @classmethod
    def build(cls, p: Period) -> PeriodType:
        return cls(code=p.code, label=p.label, start=p.start, end=p.last_day)


@strawberry.type(name="DisposalFigures", description="Warning disposal of a department (预警处置).")
class DisposalType:
    warnings: int
    disposed: int
    overdue: int
    rated: int
    disposal_rate: float | None = strawberry.field(description="处理率 (0–1).")
    overdue_rate: float | None = strawberry.field(description="超期率 (0–1).")
    satisfaction_rate: float | None = strawberry.field(description="满意率: share of ratings 4–5 (0–1).")
    satisfaction_avg: float | None = strawberry.field(description="平均满意度 (1–5).")


@strawberry.type(name="DepartmentBehaviour", description="One department's supervision behaviour (部门监管行为分析).")
class DepartmentBehaviourType:
    department_code: str
    department_name: str
    level: str = strawberry.field(description="city (市级) / district (区级).")
    items: int = strawberry.field(description="Active catalogue items (监管事项数).")
    items_covered: int = strawberry.field(description="Items with at least one action (已实施事项).")
    item_coverage: float | None = strawberry.field(description="事项覆盖率 (0–1).")
    collected: int = strawberry.field(description="Actions collected in the period (采集监管行为).")
    used: int = strawberry.field(description="Actions the analysis used (纳入分析).")
    excluded: int = strawberry.field(description="Actions left out, see findings kind=excluded (未纳入).")
    data_coverage: float | None = strawberry.field(description="数据纳入分析率 (0–1).")
    trace_complete: int
    trace_completeness: float | None = strawberry.field(description="全过程留痕率 (0–1).")
    inspections: int = strawberry.field(description="Inspections analysed (检查次数).")
    inspections_due: int = strawberry.field(description="Inspections decided, or undecided past 20 days (应办结).")
    inspection_timeliness: float | None = strawberry.field(description="检查结果及时率 (≤20 days).")
    inspection_avg_days: float | None
    penalties: int
    penalty_timeliness: float | None = strawberry.field(description="处罚决定及时率 (≤90 days).")
    penalty_avg_days: float | None
    random_inspections: int = strawberry.field(description="双随机抽查数.")
    random_share: float | None = strawberry.field(description="双随机抽查占比 (0–1).")
    problem_rate: float | None = strawberry.field(description="检查问题发现率 (fail or rectify).")
    random_problem_rate: float | None = strawberry.field(description="双随机问题发现率.")
    penalties_without_follow_up: int = strawberry.field(description="处罚后 90 天内未跟踪检查.")
    follow_up_rate: float | None = strawberry.field(description="处罚后跟踪检查率.")
    items_never_exercised: int
    actions_missing_trace: int
    disposal: DisposalType | None = strawberry.field(description="Null while the disposal module is absent.")
    disposal_note: str | None = strawberry.field(description="Why disposal is null (暂无数据说明).")

    @classmethod
    def build(cls, d: DepartmentBehaviour, available: bool) -> DepartmentBehaviourType:
        m = d.metrics()
        fig = d.disposal
        return cls(
            department_code=d.code, department_name=d.name, level=d.level, items=d.items,
            items_covered=d.items_covered, item_coverage=m["item_coverage"], collected=d.collected, used=d.actions,
            excluded=d.excluded, data_coverage=m["data_coverage"], trace_complete=d.trace_complete,
            trace_completeness=m["trace_completeness"], inspections=d.inspections_all,
            inspection_timeliness=m["inspection_timeliness"], inspection_avg_days=m["inspection_avg_days"],
            inspections_due=d.inspections, penalties=d.penalties, penalty_timeliness=m["penalty_timeliness"],
            penalty_avg_days=m["penalty_avg_days"],
            random_inspections=d.random_inspections, random_share=m["random_share"], problem_rate=m["problem_rate"],
            random_problem_rate=m["random_problem_rate"], penalties_without_follow_up=d.penalties_without_follow_up,
            follow_up_rate=m["follow_up_rate"], items_never_exercised=d.items_never_exercised,
            actions_missing_trace=d.actions_missing_trace,
            disposal=None if fig is None else DisposalType(
                warnings=fig.warnings, disposed=fig.disposed, overdue=fig.overdue, rated=fig.rated,
                disposal_rate=fig.disposal_rate, overdue_rate=fig.overdue_rate,
                satisfaction_rate=fig.satisfaction_rate, satisfaction_avg=fig.satisfaction_avg),
            disposal_note=None if available else DISPOSAL_UNAVAILABLE)


@strawberry.type(name="SupervisionAnalysis", description="Supervision-behaviour analysis of a period (监管行为分析).")
class SupervisionAnalysisType:
    period: PeriodType
    departments: list[DepartmentBehaviourType]
    collected: int
    used: int
    data_coverage: float | None = strawberry.field(description="Share of collected actions analysed (≥95% target).")
    city_level_coverage: float | None = strawberry.field(description="市级监管行为覆盖率 (100% target).")
    complaints: int = strawberry.field(description="Complaints received, city-wide (投诉举报).")
    complaint_timeliness: float | None = strawberry.field(description="按期答复率 (≤15 days), city-wide.")
    disposal_available: bool

    @classmethod
    def build(cls, a: BehaviourAnalysis) -> SupervisionAnalysisType:
        return cls(period=PeriodType.build(a.period),
                   departments=[DepartmentBehaviourType.build(d, a.disposal_available) for d in a.departments],
                   collected=a.collected, used=a.used, data_coverage=a.data_coverage,
                   city_level_coverage=a.city_level_coverage, complaints=a.city.complaints,
                   complaint_timeliness=a.city.complaint_timeliness, disposal_available=a.disposal_available)


@strawberry.type(name="Finding", description="One record behind a finding (发现及其记录).")
class FindingType:
    department_code: str
    department_name: str
    item_code: str | None
    item_name: str | None
    external_id: str | None = strawberry.field(description="The action's id in its source (行为编号).")
    action_kind: str | None
    entity_uscc: str | None
    entity_name: str | None
    started_on: date | None
    decided_on: date | None
    detail: str
    missing: list[str]


@strawberry.type(name="FindingPage")
class FindingPageType:
    kind: str
    label: str
    total_count: int
    rows: list[FindingType]

    @classmethod
    def build(cls, page: FindingPage) -> FindingPageType:
        return cls(kind=page.kind, label=page.label, total_count=page.total, rows=[FindingType(
            department_code=r.department_code, department_name=r.department_name, item_code=r.item_code,
            item_name=r.item_name, external_id=r.external_id, action_kind=r.action_kind, entity_uscc=r.entity_uscc,
            entity_name=r.entity_name, started_on=r.started_on, decided_on=r.decided_on, detail=r.detail,
            missing=r.missing) for r in page.rows])


@strawberry.type(name="GradeBand", description="A grade and its lowest total (等级).")
class GradeBandType:
    grade: str
    min: float


@strawberry.type(name="ScoreBand")
class ScoreBandType:
    bound: float
    percent: float


@strawberry.type(name="Indicator", description="评价指标: metric, weight, target, floor, direction, scoring rule.")
class IndicatorType:
    metric: str
    label: str
    weight: float
    target: float
    floor: float
    direction: str = strawberry.field(description="higher / lower is better.")
    rule: str = strawberry.field(description="linear / bands.")
    bands: list[ScoreBandType]


@strawberry.type(name="IndicatorSet", description="评价指标体系, one version.")
class IndicatorSetType:
    id: strawberry.ID
    code: str
    version: int
    name: str
    description: str
    is_current: bool
    created_by: str
    created_at: datetime
    indicators: list[IndicatorType]
    grade_bands: list[GradeBandType]

    @classmethod
    def build(cls, v: IndicatorSetView) -> IndicatorSetType:
        s = v.set
        return cls(id=strawberry.ID(str(s.id)), code=s.code, version=s.version, name=s.name,
                   description=s.description, is_current=s.is_current, created_by=s.created_by_name,
                   created_at=s.created_at,
                   indicators=[IndicatorType(metric=i.metric, label=METRICS.get(i.metric, (i.metric,))[0],
                                             weight=i.weight, target=i.target, floor=i.floor, direction=i.direction,
                                             rule=i.rule, bands=[ScoreBandType(bound=b["bound"], percent=b["percent"])
                                                                 for b in i.bands])
                               for i in v.indicators],
                   grade_bands=[GradeBandType(grade=b["grade"], min=b["min"]) for b in s.grade_bands])


@strawberry.type(name="IndicatorScore")
class IndicatorScoreType:
    metric: str
    label: str
    weight: float
    value: float | None = strawberry.field(description="Metric value; null: no data (无数据).")
    points: float | None = strawberry.field(description="Points earned of the weight; null: not scored.")


@strawberry.type(name="EvaluationResult", description="One department's result (部门评价结果).")
class EvaluationResultType:
    department_code: str
    department_name: str
    total: float | None
    rank: int | None = strawberry.field(description="Competition rank, ties share a rank (1, 2, 2, 4).")
    grade: str
    previous_total: float | None
    previous_rank: int | None
    change: float | None = strawberry.field(description="total − previous total (较上期变化).")
    scores: list[IndicatorScoreType]


@strawberry.type(name="EvaluationRun", description="评价: an indicator set applied to a period.")
class EvaluationRunType:
    id: strawberry.ID
    period: PeriodType
    indicator_set: IndicatorSetType
    created_by: str
    created_at: datetime
    results: list[EvaluationResultType]

    @classmethod
    def build(cls, v: RunView) -> EvaluationRunType:
        from domain.analysis.periods import parse_period

        inds = v.indicator_set.indicators
        return cls(id=strawberry.ID(str(v.run.id)), period=PeriodType.build(parse_period(v.run.period)),
                   indicator_set=IndicatorSetType.build(v.indicator_set), created_by=v.run.created_by_name,
                   created_at=v.run.created_at, results=[_result(r, inds) for r in v.results])


def _result(r: ResultView, inds) -> EvaluationResultType:
    res = r.result
    return EvaluationResultType(
        department_code=r.department_code, department_name=r.department_name, total=res.total, rank=res.rank,
        grade=res.grade, previous_total=res.previous_total, previous_rank=res.previous_rank, change=r.change,
        scores=[IndicatorScoreType(metric=i.metric, label=METRICS.get(i.metric, (i.metric,))[0], weight=i.weight,
                                   value=res.metric_values.get(i.metric), points=res.scores.get(i.metric))
                for i in inds])


@strawberry.type(name="AnalysisReport", description="分析报告: an archived report with its files.")
class AnalysisReportType:
    id: strawberry.ID
    period: str
    title: str
    generated_by: str
    generated_at: datetime
    docx_url: str = strawberry.field(description="Download the Word document (signed-in session or token).")
    html_url: str = strawberry.field(description="The printable page.")
    summary: strawberry.scalars.JSON

    @classmethod
    def build(cls, r: AnalysisReport) -> AnalysisReportType:
        return cls(id=strawberry.ID(str(r.id)), period=r.period, title=r.title, generated_by=r.generated_by_name,
                   generated_at=r.generated_at, docx_url=f"/reports/{r.id}/docx", html_url=f"/reports/{r.id}/html",
                   summary=cast(strawberry.scalars.JSON, r.summary))
