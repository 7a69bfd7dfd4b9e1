"""tryRiskRule: try an expression on current data without saving it (试运行): matches and a sample.

`testRiskRule` is the same mutation under its first name, kept for integrators (deprecated)."""

from __future__ import annotations

from datetime import date

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from domain.errors import Conflict, InvalidInput, NotFound
from ml import rule_actions

__all__ = ["RiskRuleTestResultType", "TestRiskRuleInput", "TestRiskRulePayload", "try_risk_rule_mutation"]


@strawberry.input(description="An expression to try (试运行).")
class TestRiskRuleInput:
    expression: str
    as_of: date | None = strawberry.field(default=None, description="Features as of this date; default today.")
    sample_size: int = strawberry.field(default=10, description="How many matching entities to show (1–100).")


@strawberry.type(name="RiskRuleMatch", description="One matching entity and the feature values the rule read.")
class RiskRuleMatchType:
    uscc: str
    name: str
    features: strawberry.scalars.JSON


@strawberry.type(name="RiskRuleTestResult", description="How many entities match, of how many (试运行结果).")
class RiskRuleTestResultType:
    expression: str
    as_of: date
    entities: int
    matched: int
    sample: list[RiskRuleMatchType]


@strawberry.type(description="The trial's result, or what is wrong with the expression.")
class TestRiskRulePayload:
    result: RiskRuleTestResultType | None
    errors: list[UserError]


async def try_risk_rule_mutation(info: Info, input: TestRiskRuleInput) -> TestRiskRulePayload:
    try:
        if not 1 <= input.sample_size <= 100:
            raise InvalidInput(f"样本数须在 1–100 之间，收到 {input.sample_size}", field="sample_size",
                               code="out_of_range")
        r = await info.context.read(rule_actions.try_risk_rule, info.context.actor, input.expression,
                                    as_of=input.as_of, sample_size=input.sample_size)
    except (InvalidInput, Conflict, NotFound) as exc:
        return TestRiskRulePayload(result=None, errors=user_errors(exc))
    return TestRiskRulePayload(result=RiskRuleTestResultType(
        expression=r.expression, as_of=r.as_of, entities=r.entities, matched=r.matched,
        sample=[RiskRuleMatchType(uscc=s["uscc"], name=s["name"], features=s["features"]) for s in r.sample]),
        errors=[])
