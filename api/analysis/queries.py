"""Queries of the analysis-evaluation system (分析评价)."""

from __future__ import annotations

import strawberry

from api.analysis.types import (
    AnalysisReportType,
    EvaluationRunType,
    FindingPageType,
    IndicatorSetType,
    SupervisionAnalysisType,
)
from api.context import Info
from api.ids import parse_id
from domain.analysis.behaviour import analyse_behaviour
from domain.analysis.findings import list_findings
from domain.evaluation import service as evaluation
from domain.reports.service import list_reports

__all__ = ["AnalysisQuery"]


def _id(value: strawberry.ID, field: str) -> int:
    return parse_id(value, field)


@strawberry.type
class AnalysisQuery:
    @strawberry.field(description="Supervision-behaviour analysis per department (监管行为分析); a department "
                                  "handler gets their own department only.")
    async def supervision_analysis(self, info: Info, period: str,
                                   department_code: str | None = None) -> SupervisionAnalysisType:
        result = await info.context.read(analyse_behaviour, info.context.actor, period, department_code)
        return SupervisionAnalysisType.build(result)

    @strawberry.field(description="The records behind a finding (分析发现): kind missing_trace, no_follow_up, "
                                  "never_exercised, late or excluded.")
    async def supervision_findings(self, info: Info, period: str, kind: str, department_code: str | None = None,
                                   first: int = 50, offset: int = 0) -> FindingPageType:
        page = await info.context.read(list_findings, info.context.actor, period, kind, department_code,
                                       limit=first, offset=offset)
        return FindingPageType.build(page)

    @strawberry.field(description="Indicator sets (评价指标体系), current versions unless includeHistory.")
    async def indicator_sets(self, info: Info, include_history: bool = False) -> list[IndicatorSetType]:
        views = await info.context.read(evaluation.list_indicator_sets, info.context.actor,
                                        include_history=include_history)
        return [IndicatorSetType.build(v) for v in views]

    @strawberry.field(description="Evaluation runs (评价), newest first; of one period when given.")
    async def evaluations(self, info: Info, period: str | None = None) -> list[EvaluationRunType]:
        actor = info.context.actor

        def load(session):
            return [evaluation.get_run(session, actor, r.id) for r in evaluation.list_runs(session, actor, period,
                                                                                            limit=20)]
        return [EvaluationRunType.build(v) for v in await info.context.read(load)]

    @strawberry.field(description="One evaluation run with its ranking (评价结果).")
    async def evaluation_run(self, info: Info, id: strawberry.ID) -> EvaluationRunType:
        view = await info.context.read(evaluation.get_run, info.context.actor, _id(id, "id"))
        return EvaluationRunType.build(view)

    @strawberry.field(description="Archived analysis reports (分析报告), newest first.")
    async def analysis_reports(self, info: Info, period: str | None = None) -> list[AnalysisReportType]:
        rows = await info.context.read(list_reports, info.context.actor, period=period)
        return [AnalysisReportType.build(r) for r in rows]
