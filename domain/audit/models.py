"""The append-only audit trail (全留痕)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = ["AuditImmutable", "AuditLog"]


class AuditLog(SQLModel, table=True):
    """审计日志: one change, by whom, when, from where, with before/after of the changed fields."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),
                      sa.Index("ix_audit_log_occurred_id", "occurred_at", "id"))  # the list's order (0007)

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=64)
    object_id: str | None = Field(default=None, max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    request_id: str | None = Field(default=None, max_length=64)
    client_addr: str | None = Field(default=None, max_length=64)


class AuditImmutable(RuntimeError):
    """Something tried to change or delete an audit row."""


def _refuse_changes_on_flush(session: orm.Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditLog) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditImmutable("audit_log is append-only: an audit row cannot be changed or deleted")


def _refuse_bulk_changes(state: orm.ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is AuditLog:
        raise AuditImmutable("audit_log is append-only: UPDATE and DELETE are refused")


# Nothing in the app may rewrite history; the database refuses it too (migration 0002's trigger).
sa.event.listen(orm.Session, "before_flush", _refuse_changes_on_flush)
sa.event.listen(orm.Session, "do_orm_execute", _refuse_bulk_changes)
