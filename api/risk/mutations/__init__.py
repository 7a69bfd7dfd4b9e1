"""Risk model mutations (风险模型管理), one module each."""

from __future__ import annotations

import strawberry

from api.risk.mutations.level_thresholds_set import SetLevelThresholdsPayload, set_level_thresholds_mutation
from api.risk.mutations.model_rollback import RollbackModelPayload, rollback_model_mutation
from api.risk.mutations.model_train import TrainModelPayload, train_model_mutation
from api.risk.mutations.model_version_backtest import BacktestModelVersionPayload, backtest_model_version_mutation
from api.risk.mutations.model_version_promote import (
    PromoteModelVersionPayload,
    demote_model_alias_mutation,
    promote_model_version_mutation,
)
from api.risk.mutations.risk_rule_save import SaveRiskRulePayload, save_risk_rule_mutation
from api.risk.mutations.risk_rule_test import TestRiskRulePayload, try_risk_rule_mutation

__all__ = ["RiskMutation"]


@strawberry.type
class RiskMutation:
    train_model: TrainModelPayload = strawberry.mutation(
        resolver=train_model_mutation, description="Start training a new model version as a job (训练新模型).")
    promote_model_version: PromoteModelVersionPayload = strawberry.mutation(
        resolver=promote_model_version_mutation, description="Give a version the champion or challenger alias (启用).")
    demote_model_alias: PromoteModelVersionPayload = strawberry.mutation(
        resolver=demote_model_alias_mutation, description="Take the challenger alias away (停用挑战者).")
    rollback_model: RollbackModelPayload = strawberry.mutation(
        resolver=rollback_model_mutation, description="Give an alias back to its previous holder (回滚).")
    set_level_thresholds: SetLevelThresholdsPayload = strawberry.mutation(
        resolver=set_level_thresholds_mutation, description="Set a version's level thresholds (设置等级阈值).")
    backtest_model_version: BacktestModelVersionPayload = strawberry.mutation(
        resolver=backtest_model_version_mutation, description="Backtest a version over a past window as a job (回测).")
    save_risk_rule: SaveRiskRulePayload = strawberry.mutation(
        resolver=save_risk_rule_mutation, description="Create or revise an early-warning rule (保存预警规则).")
    try_risk_rule: TestRiskRulePayload = strawberry.mutation(
        resolver=try_risk_rule_mutation, description="Try an expression on current data (试运行规则).")
    test_risk_rule: TestRiskRulePayload = strawberry.mutation(
        resolver=try_risk_rule_mutation, description="Try an expression on current data (试运行规则).",
        deprecation_reason="Use tryRiskRule.")
