"""Tables of the disposal workflow beside the warning itself (which lives in domain/warnings/models.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = [
    "EXTENSION_STATUSES",
    "FEEDBACK_PARTS",
    "MEASURES",
    "OUTCOMES",
    "EvidenceFile",
    "WarningAssist",
    "WarningDisposal",
    "WarningExtension",
    "WarningFeedback",
]

# 处置措施 (multi-select)
MEASURES = {
    "onsite_inspection": "现场检查",
    "rectification_order": "责令整改",
    "case_investigation": "立案调查",
    "administrative_penalty": "行政处罚",
    "interview": "约谈",
    "credit_sanction": "信用惩戒",
    "referral": "移送",
    "other": "其他",
}
# 核查结果: the training label a feedback becomes
OUTCOMES = {"confirmed": "风险属实", "partly": "部分属实", "false_alarm": "风险不实（误报）"}
FEEDBACK_PARTS = {"main": "主办部门反馈", "assist": "协办部门反馈"}
EXTENSION_STATUSES = {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"}


class WarningDisposal(SQLModel, table=True):
    """The disposal state of one warning that is not a column of the warning: where a return request came from,
    how often it was urged, which deadlines were already recorded as overdue."""

    __tablename__ = "warning_disposal"

    warning_id: int = Field(primary_key=True, foreign_key="risk_warning.id",
                            sa_column_kwargs={"autoincrement": False})
    return_from_status: str | None = Field(default=None, max_length=24)  # a pending 退单 goes back here if rejected
    return_reason: str = Field(default="", max_length=1000)
    urge_count: int = Field(default=0)
    feedback_round: int = Field(default=0)  # 1 for the first feedback, +1 after every rework
    rework_count: int = Field(default=0)
    receipt_overdue_for: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the deadline recorded
    disposal_overdue_for: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # raised on the dashboard
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WarningAssist(SQLModel, table=True):
    """协办部门: a department assisting the responsible one on a warning."""

    __tablename__ = "warning_assist"
    __table_args__ = (sa.UniqueConstraint("warning_id", "department_id"),
                      sa.Index("ix_warning_assist_department", "department_id", "warning_id"))

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(foreign_key="risk_warning.id")
    department_id: int = Field(foreign_key="department.id")
    added_by_name: str = Field(default="system", max_length=64)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WarningFeedback(SQLModel, table=True):
    """处置反馈: the responsible department's whole feedback (part main), or an assisting department's part."""

    __tablename__ = "warning_feedback"
    __table_args__ = (sa.Index("ix_warning_feedback_warning_submitted", "warning_id", "submitted_at", "id"),
                      sa.Index("ix_warning_feedback_part_submitted", "part", "submitted_at"))

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(foreign_key="risk_warning.id")
    department_id: int = Field(foreign_key="department.id")
    part: str = Field(default="main", max_length=8)  # FEEDBACK_PARTS
    round: int = Field(default=1)
    measures: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # MEASURES keys
    outcome: str | None = Field(default=None, max_length=16)  # OUTCOMES; required on the main part
    description: str = Field(default="", max_length=4000)
    satisfaction: int | None = Field(default=None)  # 1–5, the department's satisfaction with the warning
    satisfaction_comment: str = Field(default="", max_length=1000)
    submitted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_by_name: str = Field(default="system", max_length=64)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WarningExtension(SQLModel, table=True):
    """延期申请: a new disposal deadline asked for, and the analyst's decision."""

    __tablename__ = "warning_extension"
    __table_args__ = (sa.Index("ix_warning_extension_warning_status", "warning_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(foreign_key="risk_warning.id")
    department_id: int = Field(foreign_key="department.id")
    previous_due_at: datetime = Field(sa_type=UTCDateTime)
    requested_due_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(max_length=1000)
    status: str = Field(default="pending", max_length=16)  # EXTENSION_STATUSES
    requested_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    requested_by_name: str = Field(default="system", max_length=64)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_name: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_comment: str = Field(default="", max_length=1000)


class EvidenceFile(SQLModel, table=True):
    """证明材料: a file stored outside the web root under a random name; attached to a feedback when submitted."""

    __tablename__ = "evidence_file"
    __table_args__ = (sa.Index("ix_evidence_file_warning", "warning_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(foreign_key="risk_warning.id")
    feedback_id: int | None = Field(default=None, foreign_key="warning_feedback.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    original_name: str = Field(max_length=200)
    stored_name: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=120)
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_by_name: str = Field(default="system", max_length=64)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
