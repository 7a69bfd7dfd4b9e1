"""Reading the audit trail (admins only): filter by actor, object, action and date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.models import AuditLog
from domain.errors import FieldError, InvalidInput
from domain.identity.actor import Actor
from domain.identity.policy import require
from domain.pagination import Page, PageRequest, select_page
from domain.types import LOCAL_TZ

__all__ = ["AuditFilter", "audit_choices", "list_audit", "list_audit_actions", "list_audit_object_types"]


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # actor name, exact (case-insensitive)
    action: str | None = None  # exact, or a prefix ending in "." (e.g. "user.")
    object_type: str | None = None
    object_id: str | None = None
    date_from: date | None = None  # local dates (Asia/Shanghai), inclusive
    date_to: date | None = None

    def validate(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput("起始日期不能晚于结束日期", errors=[
                FieldError("date_from", "bad_range", f"起始日期 {self.date_from} 晚于结束日期 {self.date_to}")])


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def list_audit(session: Session, actor: Actor, page: PageRequest, filters: AuditFilter | None = None, *,
               max_size: int = 200) -> Page[AuditLog]:
    """Newest first."""
    require(actor, "audit.read")
    f = filters or AuditFilter()
    f.validate()
    stmt = select(AuditLog)
    if f.actor and f.actor.strip():
        stmt = stmt.where(sa.func.lower(col(AuditLog.actor_name)) == f.actor.strip().lower())
    if f.action and f.action.strip():
        action = f.action.strip()
        column = col(AuditLog.action)
        stmt = stmt.where(column.startswith(action) if action.endswith(".") else column == action)
    if f.object_type and f.object_type.strip():
        stmt = stmt.where(col(AuditLog.object_type) == f.object_type.strip())
    if f.object_id and f.object_id.strip():
        stmt = stmt.where(col(AuditLog.object_id) == f.object_id.strip())
    if f.date_from:
        stmt = stmt.where(col(AuditLog.occurred_at) >= _local_midnight(f.date_from))
    if f.date_to:
        stmt = stmt.where(col(AuditLog.occurred_at) < _local_midnight(f.date_to + timedelta(days=1)))
    return select_page(session, stmt, page, order_by=(col(AuditLog.occurred_at).desc(), col(AuditLog.id).desc()),
                       max_size=max_size)


def list_audit_actions(session: Session, actor: Actor) -> list[str]:
    """The actions present in the trail, for the filter's choices."""
    return audit_choices(session, actor)[0]


def list_audit_object_types(session: Session, actor: Actor) -> list[str]:
    """The object types present in the trail, for the filter's choices."""
    return audit_choices(session, actor)[1]


def audit_choices(session: Session, actor: Actor) -> tuple[list[str], list[str]]:
    """The actions and the object types present in the trail (the filters' choices), in one statement.

    Each is a loose index scan — the next value above the last one, by its index (ix_audit_log_action,
    ix_audit_log_object) — so it costs one index probe per distinct value, not a read of the whole trail."""
    require(actor, "audit.read")
    out: tuple[list[str], list[str]] = ([], [])
    for kind, value in session.execute(_CHOICES):
        out[kind].append(value)
    return out


def _distinct_values(column: Any, name: str) -> sa.CTE:
    """WITH RECURSIVE name(value): min(column), then repeatedly the smallest value above the last (NULL ends)."""
    values = sa.select(sa.func.min(column).label("value")).cte(name, recursive=True)
    following = sa.select(sa.func.min(column)).where(column > values.c.value).scalar_subquery()
    return values.union_all(sa.select(following).where(values.c.value.is_not(None)))


def _choices_statement() -> sa.Select:
    actions = _distinct_values(col(AuditLog.action), "audit_actions")
    types = _distinct_values(col(AuditLog.object_type), "audit_object_types")
    both = sa.union_all(sa.select(sa.literal_column("0").label("kind"), actions.c.value),
                        sa.select(sa.literal_column("1"), types.c.value)).subquery()
    return sa.select(both.c.kind, both.c.value).where(both.c.value.is_not(None)).order_by(both.c.kind, both.c.value)


_CHOICES = _choices_statement()  # built once
