"""Compatibility imports: the risk actions moved to their own homes (issue 10).

- model-version lifecycle (aliases, thresholds): `domain.risk.versions`
- training: `ml.model_training`; scoring runs and backtests: `ml.runs`; rules: `ml.rule_actions`

New code imports from those modules; this module only keeps older call sites working.
"""

from __future__ import annotations

from domain.risk.versions import (
    champion_version,
    demote_alias,
    promote_model_version,
    rollback_model,
    set_level_thresholds,
    validate_thresholds,
)
from ml.model_training import train_model
from ml.rule_actions import RuleTryResult, save_risk_rule, try_risk_rule
from ml.runs import backtest_model_version, check_backtest, score_all, score_entity

__all__ = [
    "RuleTryResult",
    "backtest_model_version",
    "champion_version",
    "check_backtest",
    "demote_alias",
    "promote_model_version",
    "rollback_model",
    "save_risk_rule",
    "score_all",
    "score_entity",
    "set_level_thresholds",
    "train_model",
    "try_risk_rule",
    "validate_thresholds",
]
