"""Clue and warning mutations (风险线索接收 / 研判 / 预警发布), one module each."""

from __future__ import annotations

import strawberry

from api.warnings.mutations.clue_judge import JudgeRiskCluePayload, judge_risk_clue_mutation
from api.warnings.mutations.clues_submit import SubmitRiskCluesPayload, submit_risk_clues_mutation
from api.warnings.mutations.warning_issue import IssueWarningPayload, issue_warning_mutation

__all__ = ["WarningsMutation"]


@strawberry.type
class WarningsMutation:
    submit_risk_clues: SubmitRiskCluesPayload = strawberry.mutation(
        resolver=submit_risk_clues_mutation,
        description="Push clues from a data source (线索推送): typed errors per record; idempotent by external id.")
    judge_risk_clue: JudgeRiskCluePayload = strawberry.mutation(
        resolver=judge_risk_clue_mutation, description="Judge a clue: issue, merge or dismiss (研判).")
    issue_warning: IssueWarningPayload = strawberry.mutation(
        resolver=issue_warning_mutation, description="Issue a warning by hand (发布预警).")
