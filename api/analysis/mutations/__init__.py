"""Mutations of the analysis-evaluation system."""

from __future__ import annotations

import strawberry

from api.analysis.mutations.analysis_mutations import (
    GenerateAnalysisReportPayload,
    RunEvaluationPayload,
    SaveIndicatorSetPayload,
    generate_analysis_report_mutation,
    run_evaluation_mutation,
    save_indicator_set_mutation,
)

__all__ = ["AnalysisMutation"]


@strawberry.type
class AnalysisMutation:
    run_evaluation: RunEvaluationPayload = strawberry.mutation(
        resolver=run_evaluation_mutation, description="Run an evaluation of a period (开展效能评价).")
    save_indicator_set: SaveIndicatorSetPayload = strawberry.mutation(
        resolver=save_indicator_set_mutation, description="Save a new version of an indicator set (保存指标体系).")
    generate_analysis_report: GenerateAnalysisReportPayload = strawberry.mutation(
        resolver=generate_analysis_report_mutation,
        description="Start generating a period's analysis report; follow the returned job (生成分析报告).")
