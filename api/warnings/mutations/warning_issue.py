"""issueWarning: a warning about an entity by hand (人工发布)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.warnings.types import RiskWarningNode
from domain.errors import DomainError, NotFound
from domain.warnings import service as warning_service

__all__ = ["IssueWarningInput", "IssueWarningPayload", "issue_warning_mutation"]


@strawberry.input(name="IssueWarningInput")
class IssueWarningInput:
    uscc: str | None = strawberry.field(default=None, description="The entity by its 统一社会信用代码 …")
    entity_id: strawberry.ID | None = strawberry.field(default=None, description="… or by id.")
    level: str | None = strawberry.field(default=None, description="red / orange / yellow / blue; default the "
                                                                   "model's latest level.")
    department_id: strawberry.ID | None = strawberry.field(default=None, description="Default: the routing table.")
    reasons: list[str] | None = None
    comment: str = ""


@strawberry.type(name="IssueWarningPayload")
class IssueWarningPayload:
    warning: RiskWarningNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _issue(session, actor, data: IssueWarningInput, entity_id: int | None, department_id: int | None):
    from sqlmodel import col, select

    from domain.supervision.models import Entity

    if entity_id is None:
        code = (data.uscc or "").strip().upper()
        found = session.exec(select(col(Entity.id)).where(col(Entity.uscc) == code)).first() if code else None
        if found is None:
            raise NotFound(f"统一社会信用代码“{code}”对应的监管对象不存在", field="uscc", code="unknown_entity")
        entity_id = found
    w = warning_service.issue_warning(session, actor, entity_id=entity_id, level=data.level,
                                      reasons=data.reasons or [], department_id=department_id,
                                      comment=data.comment)
    assert w.id is not None  # flushed by issue_warning
    return warning_service.get_warning(session, actor, w.id)


async def issue_warning_mutation(info: Info, input: IssueWarningInput) -> IssueWarningPayload:
    from api.warnings.queries import parse_id

    ctx = info.context
    try:
        detail = await ctx.write(_issue, ctx.actor, input, parse_id(input.entity_id, "entityId"),
                                 parse_id(input.department_id, "departmentId"))
    except DomainError as exc:
        return IssueWarningPayload(errors=user_errors(exc))
    return IssueWarningPayload(warning=RiskWarningNode.from_detail(detail))
