"""saveRiskRule: create a rule or save a new revision of one (保存预警规则); every input problem comes back."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.risk.mutations.common import parse_id
from api.risk.types import RiskRuleType
from domain.errors import Conflict, InvalidInput, NotFound
from ml import rule_actions

__all__ = ["SaveRiskRuleInput", "SaveRiskRulePayload", "save_risk_rule_mutation"]


@strawberry.input(description="A rule to create, or (with id) to revise (预警规则).")
class SaveRiskRuleInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="The rule to revise; empty to create.")
    code: str = strawberry.field(description="Unique code (规则编码).")
    name: str = strawberry.field(description="Name (规则名称).")
    expression: str = strawberry.field(description="CEL expression over registered feature names (CEL表达式).")
    min_level: str = strawberry.field(description="red / orange / yellow / blue: the least level a match forces.")
    description: str = ""
    enabled: bool = False


@strawberry.type(description="The saved rule, or each problem with the input (syntax, unknown feature, type...).")
class SaveRiskRulePayload:
    rule: RiskRuleType | None
    errors: list[UserError]


async def save_risk_rule_mutation(info: Info, input: SaveRiskRuleInput) -> SaveRiskRulePayload:
    try:
        rule_id = parse_id(input.id, "id") if input.id else None
        rule = await info.context.write(
            rule_actions.save_risk_rule, info.context.actor, code=input.code, name=input.name,
            expression=input.expression, min_level=input.min_level, description=input.description,
            enabled=input.enabled, rule_id=rule_id)
    except (InvalidInput, Conflict, NotFound) as exc:
        return SaveRiskRulePayload(rule=None, errors=user_errors(exc))
    return SaveRiskRulePayload(rule=RiskRuleType.build(rule), errors=[])
