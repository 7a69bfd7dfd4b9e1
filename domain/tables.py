"""Every table, imported in one place so `SQLModel.metadata` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

import domain.db  # noqa: F401  (sets the naming convention first)
from domain.audit.models import AuditLog
from domain.disposal.models import (
    EvidenceFile,
    WarningAssist,
    WarningDisposal,
    WarningExtension,
    WarningFeedback,
)
from domain.evaluation.models import EvaluationResult, EvaluationRun, Indicator, IndicatorSet
from domain.identity.models import ApiToken, Department, User
from domain.integration.models import DataSource, IngestionBatch, IngestionError
from domain.jobs.models import Job, JobSchedule
from domain.notifications.models import (
    Notification,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from domain.reference.models import Industry, Region
from domain.reports.models import AnalysisReport
from domain.risk.models import (
    ModelAlias,
    ModelAliasHistory,
    ModelVersion,
    RiskRule,
    RiskRuleRevision,
    RiskScore,
    ScoringRun,
)
from domain.statistics.models import STATISTICS_INDEXES  # noqa: F401  (the dashboard's indexes on risk_warning)
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction, SupervisionItem
from domain.warnings.models import (
    DeadlineSetting,
    RiskClue,
    RoutingRule,
    Warning,
    WarningCodeSequence,
    WarningEvent,
    WorkdayOverride,
)

__all__ = [
    "AnalysisReport",
    "ApiToken",
    "AuditLog",
    "Complaint",
    "CreditRecord",
    "DataSource",
    "DeadlineSetting",
    "Department",
    "Entity",
    "EvaluationResult",
    "EvaluationRun",
    "EvidenceFile",
    "Indicator",
    "IndicatorSet",
    "Industry",
    "IngestionBatch",
    "IngestionError",
    "Job",
    "JobSchedule",
    "ModelAlias",
    "ModelAliasHistory",
    "ModelVersion",
    "Notification",
    "OutboxEvent",
    "Region",
    "RiskClue",
    "RiskRule",
    "RiskRuleRevision",
    "RiskScore",
    "RoutingRule",
    "ScoringRun",
    "SupervisionAction",
    "SupervisionItem",
    "User",
    "Warning",
    "WarningAssist",
    "WarningCodeSequence",
    "WarningDisposal",
    "WarningEvent",
    "WarningExtension",
    "WarningFeedback",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "WorkdayOverride",
    "metadata",
]

metadata = SQLModel.metadata
