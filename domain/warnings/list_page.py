"""The warnings page's rows (风险预警列表), read-only: the same filtered window as `service.list_warnings` (its
`warnings_stmt`: filters and department scope), with what the page shows joined to the window in one statement —
entity and department names and the last event (the highest id, as `list_warnings` takes it) — instead of one
batched query per relation; the reasons and explanation snapshots and the event's comment and payload, which the list
never shows, are not loaded."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute, aliased, defer
from sqlmodel import Session, col

from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.pagination import Page, PageRequest, select_page
from domain.supervision.models import Entity
from domain.types import utcnow
from domain.warnings.models import Warning, WarningEvent
from domain.warnings.service import WarningFilter, WarningRow, is_overdue, warnings_stmt

__all__ = ["warnings_page"]


def warnings_page(session: Session, actor: Actor, req: PageRequest, f: WarningFilter | None = None, *,
                  max_size: int = 200) -> Page[WarningRow]:
    """The rows `list_warnings` gives for this window (newest first), in one statement (plus the count when
    asked, in the same statement). Each row's `entity` is left out (the page shows only its USCC and name)."""
    stmt = warnings_stmt(actor, f or WarningFilter())
    now = utcnow()

    def load(rows: list[Any]) -> list[WarningRow]:
        return [WarningRow(w, uscc, name, department_name, event, is_overdue(w, now), None, department_code)
                for w, uscc, name, department_code, department_name, event in rows]

    return select_page(session, stmt, req, order_by=(col(Warning.created_at).desc(), col(Warning.id).desc()),
                       max_size=max_size, join=_named, load=load)


def _named(page: Any) -> sa.Select[Any]:
    event = aliased(WarningEvent, name="last_event")
    last = (sa.select(sa.func.max(WarningEvent.id)).where(col(WarningEvent.warning_id) == page.id)
            .correlate(page).scalar_subquery())
    return (sa.select(page, col(Entity.uscc), col(Entity.name), col(Department.code), col(Department.name), event)
            .join(Entity, col(Entity.id) == page.entity_id)
            .join(Department, col(Department.id) == page.department_id)
            .outerjoin(event, col(event.id) == last)
            .options(*(defer(cast(QueryableAttribute[Any], column)) for column in (
                page.reasons, page.explanation, event.payload, event.comment))))
