"""Risk models (风险模型): versions, aliases with history, rules, scoring runs and scores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.risk.levels import LEVELS
from domain.types import UTCDateTime, utcnow

__all__ = [
    "LEVELS",
    "MODEL_ALIASES",
    "ModelAlias",
    "ModelAliasHistory",
    "ModelVersion",
    "RiskRule",
    "RiskRuleRevision",
    "RiskScore",
    "ScoringRun",
]

# LEVELS is re-exported from the one definition, domain/risk/levels.py.
MODEL_ALIASES = ("champion", "challenger")


class ModelVersion(SQLModel, table=True):
    """模型版本: one trained XGBoost model with everything needed to trace, compare and reuse it."""

    __tablename__ = "model_version"
    __table_args__ = (sa.UniqueConstraint("model_name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    model_name: str = Field(default="entity_risk", max_length=64)
    version: int
    status: str = Field(default="ready", max_length=16)  # ready / failed
    features: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    train_from: date | None = None  # first training cut-off
    train_to: date | None = None  # last training cut-off
    validation_cutoff: date | None = None  # the held-out cut-off
    label_window_days: int = Field(default=180)
    label_counts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # by source and class
    data_fingerprint: str = Field(default="", max_length=64)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    thresholds: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)  # level -> minimum score
    training_summary: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # feature distributions (drift)
    # raw score -> calibrated probability (ml.calibration); None: trained before calibration, scores stay raw
    calibration: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    artifact: bytes | None = Field(default=None, sa_type=sa.LargeBinary)  # XGBoost UBJSON
    trained_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    trained_by_name: str = Field(default="system", max_length=64)
    job_id: int | None = Field(default=None, foreign_key="job.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ModelAlias(SQLModel, table=True):
    """Which version currently holds an alias (champion scores and drives warnings; challenger is shadow-scored)."""

    __tablename__ = "model_alias"

    model_name: str = Field(primary_key=True, max_length=64)
    alias: str = Field(primary_key=True, max_length=32)
    version_id: int = Field(foreign_key="model_version.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    set_by_name: str = Field(default="system", max_length=64)


class ModelAliasHistory(SQLModel, table=True):
    """Every period a version held an alias: from, to (open while it holds it), by whom, why."""

    __tablename__ = "model_alias_history"

    id: int | None = Field(default=None, primary_key=True)
    model_name: str = Field(max_length=64)
    alias: str = Field(max_length=32)
    version_id: int = Field(foreign_key="model_version.id", index=True)
    valid_from: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    valid_to: datetime | None = Field(default=None, sa_type=UTCDateTime)
    set_by_name: str = Field(default="system", max_length=64)
    action: str = Field(default="promote", max_length=16)  # promote / demote / rollback
    reason: str = Field(default="", max_length=500)


class RiskRule(SQLModel, table=True):
    """预警规则: a CEL expression over registered features that forces a minimum level."""

    __tablename__ = "risk_rule"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    expression: str = Field(max_length=2000)
    min_level: str = Field(max_length=16)
    description: str = Field(default="", max_length=1000)
    enabled: bool = Field(default=False)
    revision: int = Field(default=1)
    updated_by_name: str = Field(default="system", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RiskRuleRevision(SQLModel, table=True):
    """Each saved revision of a rule, so any past scoring can be explained by the rule as it was."""

    __tablename__ = "risk_rule_revision"
    __table_args__ = (sa.UniqueConstraint("rule_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="risk_rule.id")
    revision: int
    expression: str = Field(max_length=2000)
    min_level: str = Field(max_length=16)
    enabled: bool
    saved_by_name: str = Field(default="system", max_length=64)
    saved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScoringRun(SQLModel, table=True):
    """One scoring of every entity by one version as of one date (champion, or challenger in shadow)."""

    __tablename__ = "scoring_run"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="model_version.id", index=True)
    role: str = Field(default="champion", max_length=16)  # champion / challenger / backtest
    as_of: date
    status: str = Field(default="running", max_length=16)
    entities: int = Field(default=0)
    level_counts: dict[str, int] = Field(default_factory=dict, sa_type=sa.JSON)
    drift: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # PSI of score and top features
    # role "backtest" only: {window_days, window_complete, outcomes, roc_auc, pr_auc, in_training_window,
    # levels: {level: {entities, outcomes, rate}}}
    backtest: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    timings: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)
    # {"mean": float | None, "bins": [count per SCORE_BINS equal bins of [0, 1]]}, written with the run's scores
    # (domain.risk.score_summary); None for runs stored before migration 0019
    score_summary: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    job_id: int | None = Field(default=None, foreign_key="job.id")
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RiskScore(SQLModel, table=True):
    """风险评分: an entity's score from one run, its level (after rules) and top feature contributions."""

    __tablename__ = "risk_score"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "entity_id"),
        sa.Index("ix_risk_score_entity_run", "entity_id", "run_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="scoring_run.id")
    entity_id: int = Field(foreign_key="entity.id")
    score: float
    model_level: str | None = Field(default=None, max_length=16)  # from thresholds alone
    level: str | None = Field(default=None, max_length=16)  # after rules
    rules_matched: list[str] | None = Field(default=None, sa_type=sa.JSON)
    contributions: list[Any] | None = Field(default=None, sa_type=sa.JSON)  # [[feature, value, contribution], ...]
