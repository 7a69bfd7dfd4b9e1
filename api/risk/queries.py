"""Risk model queries (风险模型管理): models, versions, alias history, comparison, drift, backtests, scores, rules."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.pagination import Connection, build_connection, page_request
from api.risk.types import (
    AliasPeriodType,
    BacktestType,
    DriftItemType,
    ModelVersionType,
    RiskModelType,
    RiskRuleRevisionType,
    RiskRuleType,
    ScoringRunType,
)
from api.warnings.types import RiskScoreNode as RiskScoreItem
from domain.risk import queries as q

__all__ = ["ModelComparisonType", "ModelDriftType", "RiskQuery"]


def _id(value: strawberry.ID, field: str) -> int:
    from domain.errors import InvalidInput

    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field} 应为编号（数字），收到“{value}”", field=field, code="bad_id") from exc


@strawberry.type(name="ModelMetricDelta", description="One metric of two versions side by side (指标对比).")
class MetricDeltaType:
    key: str
    label: str
    a: float | None
    b: float | None
    delta: float | None = strawberry.field(description="b − a (差值).")
    higher_is_better: bool


@strawberry.type(name="ModelComparison", description="Two model versions side by side (版本对比).")
class ModelComparisonType:
    a: ModelVersionType
    b: ModelVersionType
    metrics: list[MetricDeltaType]
    features_added: list[str] = strawberry.field(description="Features in b but not in a (新增特征).")
    features_removed: list[str] = strawberry.field(description="Features in a but not in b (移除特征).")


@strawberry.type(name="ModelDrift", description="PSI drift between training data and the latest scoring run (漂移).")
class ModelDriftType:
    run: ScoringRunType
    threshold: float = strawberry.field(description="PSI above this is flagged (漂移阈值).")
    items: list[DriftItemType]
    flagged: bool = strawberry.field(description="Any item above the threshold (存在漂移).")


@strawberry.type
class RiskQuery:
    @strawberry.field(description="Risk models with their champion, challenger and newest version (风险模型).")
    async def risk_models(self, info: Info) -> list[RiskModelType]:
        models = await info.context.read(q.list_models, info.context.actor)
        return [RiskModelType.build(m) for m in models]

    @strawberry.field(description="Versions of a model, newest first (模型版本列表).")
    async def model_versions(self, info: Info, model_name: str = q.DEFAULT_MODEL, first: int | None = None,
                             after: str | None = None, last: int | None = None,
                             before: str | None = None) -> Connection[ModelVersionType]:
        ctx = info.context
        page = await ctx.read(q.list_versions, ctx.actor, page_request(first, after, last, before, info=info),
                              model_name=model_name, max_size=ctx.settings.max_page_size)
        return build_connection(page, ModelVersionType.build)

    @strawberry.field(description="A model version by id (模型版本).")
    async def model_version(self, info: Info, id: strawberry.ID) -> ModelVersionType:
        view = await info.context.read(q.get_version, info.context.actor, _id(id, "id"))
        return ModelVersionType.build(view)

    @strawberry.field(description="Which version held which alias, from when to when, set by whom; newest first "
                                  "(别名历史).")
    async def model_alias_history(self, info: Info, model_name: str = q.DEFAULT_MODEL,
                                  version_id: strawberry.ID | None = None) -> list[AliasPeriodType]:
        vid = None if version_id is None else _id(version_id, "versionId")
        periods = await info.context.read(q.alias_history, info.context.actor, model_name=model_name, version_id=vid)
        return [AliasPeriodType.build(p) for p in periods]

    @strawberry.field(description="Two versions side by side (版本对比).")
    async def compare_model_versions(self, info: Info, a: strawberry.ID, b: strawberry.ID) -> ModelComparisonType:
        cmp = await info.context.read(q.compare_versions, info.context.actor, _id(a, "a"), _id(b, "b"))
        return ModelComparisonType(
            a=ModelVersionType.build(cmp.a), b=ModelVersionType.build(cmp.b),
            metrics=[MetricDeltaType(key=k, label=label, a=va, b=vb, delta=d, higher_is_better=hb)
                     for k, label, va, vb, d, hb in cmp.metric_rows],
            features_added=cmp.features_added, features_removed=cmp.features_removed)

    @strawberry.field(description="Drift (PSI) of a version's latest scoring run, null before any run (模型漂移).")
    async def model_drift(self, info: Info, version_id: strawberry.ID) -> ModelDriftType | None:
        drift = await info.context.read(q.version_drift, info.context.actor, _id(version_id, "versionId"))
        if drift is None:
            return None
        return ModelDriftType(run=ScoringRunType.build(drift.run), threshold=drift.threshold,
                              items=[DriftItemType(name=i.name, psi=i.psi, flagged=i.flagged) for i in drift.items],
                              flagged=bool(drift.flagged))

    @strawberry.field(description="Backtests of a version, newest first (回测记录).")
    async def model_backtests(self, info: Info, version_id: strawberry.ID) -> list[BacktestType]:
        runs = await info.context.read(q.list_backtests, info.context.actor, _id(version_id, "versionId"))
        return [BacktestType.build(b) for b in runs]

    @strawberry.field(description="The risk list (风险对象): the champion's latest run, highest score first, with "
                                  "filters; an entity's history is entity.riskScores. Handlers see entities with a "
                                  "warning assigned to their department.")
    async def risk_scores(self, info: Info, first: int | None = None, after: str | None = None,
                          level: str | None = None, region_code: str | None = None,
                          industry_section: str | None = None, department_id: strawberry.ID | None = None,
                          score_min: float | None = None, score_max: float | None = None, rule: str | None = None,
                          has_open_warning: bool | None = None, search: str | None = None,
                          uscc: str | None = None) -> Connection[RiskScoreItem]:
        from api.warnings.queries import risk_scores_connection

        return await risk_scores_connection(
            info, first=first, after=after, level=level, region_code=region_code, industry_section=industry_section,
            department_id=department_id, score_min=score_min, score_max=score_max, rule=rule,
            has_open_warning=has_open_warning, search=search, uscc=uscc)

    @strawberry.field(description="Early-warning rules, enabled first (预警规则).")
    async def risk_rules(self, info: Info) -> list[RiskRuleType]:
        rules = await info.context.read(q.list_rules, info.context.actor)
        return [RiskRuleType.build(r) for r in rules]

    @strawberry.field(description="Saved revisions of a rule, newest first (规则版本).")
    async def risk_rule_revisions(self, info: Info, rule_id: strawberry.ID) -> list[RiskRuleRevisionType]:
        revisions = await info.context.read(q.rule_revisions, info.context.actor, _id(rule_id, "ruleId"))
        return [RiskRuleRevisionType.build(r) for r in revisions]
