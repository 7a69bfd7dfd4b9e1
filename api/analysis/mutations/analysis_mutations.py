"""runEvaluation, saveIndicatorSet, generateAnalysisReport: each returns its result or typed user errors."""

from __future__ import annotations

import strawberry

from api.analysis.types import EvaluationRunType, IndicatorSetType
from api.context import Info
from api.errors import UserError, user_errors
from api.jobs.types import JobType
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.evaluation import service as evaluation
from domain.reports.service import start_report_job

__all__ = ["GenerateAnalysisReportPayload", "RunEvaluationPayload", "SaveIndicatorSetPayload",
           "generate_analysis_report_mutation", "run_evaluation_mutation", "save_indicator_set_mutation"]

ANSWERS = (InvalidInput, NotFound, Conflict, Forbidden)


@strawberry.type
class RunEvaluationPayload:
    run: EvaluationRunType | None
    errors: list[UserError]


async def run_evaluation_mutation(info: Info, period: str, indicator_set_id: strawberry.ID | None = None
                                  ) -> RunEvaluationPayload:
    try:
        set_id = None
        if indicator_set_id is not None:
            try:
                set_id = int(indicator_set_id)
            except ValueError as exc:
                raise InvalidInput(f"indicatorSetId 须为数字编号，收到“{indicator_set_id}”", field="indicatorSetId",
                                   code="bad_id") from exc
        view = await info.context.write(evaluation.run_evaluation, info.context.actor, period, set_id=set_id)
    except ANSWERS as exc:
        return RunEvaluationPayload(run=None, errors=user_errors(exc))
    return RunEvaluationPayload(run=EvaluationRunType.build(view), errors=[])


@strawberry.input(description="A band of a banded indicator: reaching bound earns percent of the weight.")
class ScoreBandInput:
    bound: float
    percent: float


@strawberry.input(description="One indicator (评价指标).")
class IndicatorInput:
    metric: str
    weight: float
    target: float
    floor: float
    direction: str = "higher"
    rule: str = "linear"
    bands: list[ScoreBandInput] | None = None


@strawberry.input(description="A grade and its lowest total (等级).")
class GradeBandInput:
    grade: str
    min: float


@strawberry.input(description="A new version of an indicator set; weights must sum to 100.")
class SaveIndicatorSetInput:
    code: str
    name: str
    indicators: list[IndicatorInput]
    grade_bands: list[GradeBandInput] | None = None
    description: str = ""


@strawberry.type
class SaveIndicatorSetPayload:
    indicator_set: IndicatorSetType | None
    errors: list[UserError]


async def save_indicator_set_mutation(info: Info, input: SaveIndicatorSetInput) -> SaveIndicatorSetPayload:
    indicators = [{"metric": i.metric, "weight": i.weight, "target": i.target, "floor": i.floor,
                   "direction": i.direction, "rule": i.rule,
                   "bands": [{"bound": b.bound, "percent": b.percent} for b in i.bands or []]}
                  for i in input.indicators]
    bands = None if input.grade_bands is None else [{"grade": b.grade, "min": b.min} for b in input.grade_bands]
    try:
        view = await info.context.write(evaluation.save_indicator_set, info.context.actor, code=input.code,
                                        name=input.name, indicators=indicators, grade_bands=bands,
                                        description=input.description)
    except ANSWERS as exc:
        return SaveIndicatorSetPayload(indicator_set=None, errors=user_errors(exc))
    return SaveIndicatorSetPayload(indicator_set=IndicatorSetType.build(view), errors=[])


@strawberry.type
class GenerateAnalysisReportPayload:
    job: JobType | None
    errors: list[UserError]


async def generate_analysis_report_mutation(info: Info, period: str) -> GenerateAnalysisReportPayload:
    ctx = info.context
    try:
        job = await ctx.write(start_report_job, ctx.actor, period, var_dir=ctx.settings.var_dir)
    except ANSWERS as exc:
        return GenerateAnalysisReportPayload(job=None, errors=user_errors(exc))
    return GenerateAnalysisReportPayload(job=JobType.from_row(job), errors=[])
