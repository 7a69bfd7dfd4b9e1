"""submitRiskClues: a batch of clues from one data source, idempotent by (source, external id)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, camel_field, user_errors
from api.warnings.mutations.common import score_entities
from domain.errors import DomainError
from domain.settings import get_settings
from domain.warnings.clues import ClueInput, ClueSubmission, submit_clues

__all__ = ["RiskClueInput", "SubmitRiskCluesPayload", "submit_risk_clues_mutation"]


@strawberry.input(name="RiskClueAttachmentInput", description="An attachment: its name and where to fetch it.")
class RiskClueAttachmentInput:
    name: str
    url: str = ""


@strawberry.input(name="RiskClueInput", description="One clue (风险线索). A code that matches no entity, or is not a "
                                                    "valid GB 32100 code, is kept and flagged.")
class RiskClueInput:
    external_id: str = strawberry.field(description="The sender's id (线索编号): a retry with the same id updates "
                                                    "the clue instead of adding one.")
    category: str = strawberry.field(description="线索类别, e.g. 食品安全.")
    description: str = strawberry.field(description="线索描述.")
    uscc: str | None = strawberry.field(default=None, description="统一社会信用代码 of the entity.")
    entity_name: str | None = strawberry.field(default=None, description="监管对象名称 (needed without a code).")
    source: str | None = strawberry.field(default=None, description="department / hotline_12345 / hotline_12315 / "
                                                                    "data_centre / manual; default from the data "
                                                                    "source's kind.")
    item_code: str | None = strawberry.field(default=None, description="监管事项编码 involved (routes the warning).")
    reporting_department_code: str | None = strawberry.field(default=None, description="报送部门编码.")
    occurred_on: str | None = strawberry.field(default=None, description="发生日期 YYYY-MM-DD.")
    received_on: str | None = strawberry.field(default=None, description="接收日期 YYYY-MM-DD (default today).")
    attachments: list[RiskClueAttachmentInput] | None = None


@strawberry.type(name="RiskClueResult", description="What happened to one record (0-based index in `clues`).")
class RiskClueResultType:
    index: int
    clue_id: strawberry.ID | None
    result: str = strawberry.field(description="created / updated / unchanged / rejected.")
    duplicate_of_id: strawberry.ID | None = strawberry.field(description="Linked as a duplicate of this clue.")
    errors: list[UserError]


@strawberry.type(name="SubmitRiskCluesPayload")
class SubmitRiskCluesPayload:
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = strawberry.field(default=0, description="New clues linked to an earlier one (重复线索).")
    scored: int = strawberry.field(default=0, description="Entities scored on demand after the push.")
    results: list[RiskClueResultType] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list, description="Problems with the call itself.")

    @classmethod
    def build(cls, r: ClueSubmission, scored: int) -> SubmitRiskCluesPayload:
        def ident(v: int | None) -> strawberry.ID | None:
            return strawberry.ID(str(v)) if v is not None else None
        return cls(received=r.received, created=r.created, updated=r.updated, unchanged=r.unchanged,
                   rejected=r.rejected, duplicates=r.duplicates, scored=scored,
                   results=[RiskClueResultType(index=o.index, clue_id=ident(o.clue_id), result=o.result,
                                               duplicate_of_id=ident(o.duplicate_of_id),
                                               errors=[UserError(field=camel_field(e.field), code=e.code,
                                                                 message=e.message) for e in o.errors])
                            for o in r.outcomes])


async def submit_risk_clues_mutation(info: Info, source: str, clues: list[RiskClueInput]) -> SubmitRiskCluesPayload:
    ctx = info.context
    inputs = [ClueInput(external_id=c.external_id, category=c.category, description=c.description, uscc=c.uscc,
                        entity_name=c.entity_name, source=c.source, item_code=c.item_code,
                        reporting_department_code=c.reporting_department_code, occurred_on=c.occurred_on,
                        received_on=c.received_on,
                        attachments=[{"name": a.name, "url": a.url} for a in c.attachments or []]) for c in clues]
    try:
        result = await ctx.write(submit_clues, ctx.actor, source, inputs, dedup_days=get_settings().clue_dedup_days)
    except DomainError as exc:
        return SubmitRiskCluesPayload(errors=user_errors(exc))
    scored = await score_entities(ctx.db, result.entity_ids)
    return SubmitRiskCluesPayload.build(result, scored)
