"""submitFeedback / submitAssistFeedback: the department's feedback (处置反馈); evidence is uploaded first
(POST /disposal/warnings/{id}/evidence, multipart) and referred to by id."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.disposal.mutations.common import WarningStepPayload, run_step
from api.ids import parse_id
from domain.disposal import service as d

__all__ = ["FeedbackMutation", "SubmitFeedbackInput"]


@strawberry.input(name="SubmitFeedbackInput")
class SubmitFeedbackInput:
    warning_id: strawberry.ID
    measures: list[str] = strawberry.field(description="onsite_inspection 现场检查, rectification_order 责令整改, "
                                                       "case_investigation 立案调查, administrative_penalty 行政处罚, "
                                                       "interview 约谈, credit_sanction 信用惩戒, referral 移送, "
                                                       "other 其他.")
    outcome: str | None = strawberry.field(default=None, description="confirmed 风险属实 / partly 部分属实 / "
                                                                     "false_alarm 风险不实; required on the whole.")
    description: str = ""
    satisfaction: int | None = strawberry.field(default=None, description="1–5, the department's satisfaction "
                                                                          "with the warning; required on the whole.")
    satisfaction_comment: str = ""
    evidence_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    row_version: int | None = None


def _data(input: SubmitFeedbackInput) -> d.FeedbackInput:
    return d.FeedbackInput(measures=list(input.measures), outcome=input.outcome, description=input.description,
                           satisfaction=input.satisfaction, satisfaction_comment=input.satisfaction_comment,
                           evidence_ids=[parse_id(i, "evidenceIds") for i in input.evidence_ids])


@strawberry.type
class FeedbackMutation:
    @strawberry.mutation(description="提交处置反馈: the responsible department's whole feedback.")
    async def submit_feedback(self, info: Info, input: SubmitFeedbackInput) -> WarningStepPayload:
        return await run_step(info, input.warning_id, d.submit_feedback, _data(input),
                              row_version=input.row_version)

    @strawberry.mutation(description="协办反馈: an assisting department's part.")
    async def submit_assist_feedback(self, info: Info, input: SubmitFeedbackInput) -> WarningStepPayload:
        return await run_step(info, input.warning_id, d.submit_assist_feedback, _data(input),
                              row_version=input.row_version)
