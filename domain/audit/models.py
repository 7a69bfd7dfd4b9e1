"""The append-only audit trail (全留痕)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = ["AuditLog"]


class AuditLog(SQLModel, table=True):
    """审计日志: one change, by whom, when, from where, with before/after of the changed fields."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=64)
    object_id: str | None = Field(default=None, max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    request_id: str | None = Field(default=None, max_length=64)
    client_addr: str | None = Field(default=None, max_length=64)
