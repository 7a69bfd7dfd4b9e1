"""judgeRiskClue: issue a warning from a clue, merge it into the open warning, or dismiss it (研判)."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.warnings.types import RiskClueNode, RiskWarningNode
from domain.errors import DomainError
from domain.warnings import clues as clue_service
from domain.warnings import service as warning_service

__all__ = ["JudgeRiskClueInput", "JudgeRiskCluePayload", "judge_risk_clue_mutation"]


@strawberry.enum(name="ClueDecision", description="研判结论: ISSUE a warning, MERGE into the entity's open warning, "
                                                  "DISMISS with a reason.")
class ClueDecision(Enum):
    ISSUE = "issue"
    MERGE = "merge"
    DISMISS = "dismiss"


@strawberry.input(name="JudgeRiskClueInput")
class JudgeRiskClueInput:
    clue_id: strawberry.ID
    decision: ClueDecision
    level: str | None = strawberry.field(default=None, description="ISSUE: default the model's level; MERGE: the "
                                                                   "open warning is raised to it if higher.")
    department_id: strawberry.ID | None = strawberry.field(default=None, description="ISSUE: default the routing "
                                                                                     "table's department.")
    reasons: list[str] | None = None
    comment: str = strawberry.field(default="", description="研判意见; required to DISMISS.")


@strawberry.type(name="JudgeRiskCluePayload")
class JudgeRiskCluePayload:
    clue: RiskClueNode | None = None
    warning: RiskWarningNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _judge(session, actor, clue_id: int, judgement: clue_service.Judgement):
    clue = clue_service.judge_clue(session, actor, clue_id, judgement)
    detail = warning_service.get_warning(session, actor, clue.warning_id) if clue.warning_id else None
    return clue, detail


async def judge_risk_clue_mutation(info: Info, input: JudgeRiskClueInput) -> JudgeRiskCluePayload:
    from api.warnings.queries import parse_id

    ctx = info.context
    try:
        judgement = clue_service.Judgement(decision=input.decision.value, level=input.level,
                                           department_id=parse_id(input.department_id, "departmentId"),
                                           reasons=list(input.reasons or []), comment=input.comment)
        clue, detail = await ctx.write(_judge, ctx.actor, parse_id(input.clue_id, "clueId"), judgement)
    except DomainError as exc:
        return JudgeRiskCluePayload(errors=user_errors(exc))
    code = detail.warning.code if detail else None
    return JudgeRiskCluePayload(clue=RiskClueNode.build_clue(clue, warning_code=code),
                                warning=RiskWarningNode.from_detail(detail) if detail else None)
