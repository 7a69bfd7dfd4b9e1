"""Writing to the outbox and to users' notices: always in the caller's transaction, beside the change itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session, col, select

from domain.identity.models import User
from domain.notifications.models import Notification, OutboxEvent
from domain.types import table_of, utcnow

__all__ = ["emit", "notify_users", "users_of_departments", "users_with_role"]


def emit(session: Session, kind: str, *, warning_id: int | None, event_id: int | None = None,
         department_id: int | None = None, departments: Iterable[int] = (),
         payload: dict[str, Any] | None = None) -> OutboxEvent:
    """Queue one event for webhooks and live subscribers; it leaves the database only after this commits."""
    seen = sorted({d for d in (department_id, *departments) if d is not None})
    row = OutboxEvent(kind=kind, warning_id=warning_id, event_id=event_id, department_id=department_id,
                      departments=seen, payload=payload or {})
    session.add(row)
    return row


def users_of_departments(session: Session, department_ids: Iterable[int], roles: Iterable[str]) -> list[User]:
    """Active users of the departments who hold one of `roles` (JSON list column: filtered here, few rows)."""
    ids = list(department_ids)
    wanted = set(roles)
    if not ids:
        return []
    rows = session.exec(select(User).where(col(User.department_id).in_(ids), col(User.active))).all()
    return [u for u in rows if wanted.intersection(u.roles or [])]


def users_with_role(session: Session, roles: Iterable[str]) -> list[User]:
    wanted = set(roles)
    return [u for u in session.exec(select(User).where(col(User.active))).all() if wanted.intersection(u.roles or [])]


def notify_users(session: Session, users: Iterable[User], kind: str, title: str, body: str = "",
                 warning_id: int | None = None) -> int:
    ids = sorted({u.id for u in users if u.id is not None})
    if ids:
        session.execute(sa.insert(Notification), [
            {"user_id": uid, "kind": kind, "warning_id": warning_id, "title": title[:200], "body": body[:2000]}
            for uid in ids])
    return len(ids)


# ---- every warning event goes to the outbox, in its own transaction ---------------------------------------------
# Whoever records a WarningEvent through the ORM (issue, raise, the disposal steps, the overdue sweep) gets its
# outbox row written in the same flush, so no feature can forget it and no crash can separate the two.

def _outbox_for_warning_events(session: Any, flush_context: Any) -> None:
    from domain.disposal.models import WarningAssist
    from domain.warnings.models import Warning, WarningEvent

    events = [obj for obj in session.new if isinstance(obj, WarningEvent)]
    if not events:
        return
    conn = session.connection()
    ids = sorted({e.warning_id for e in events})
    warnings = {row.id: row for row in conn.execute(
        sa.select(col(Warning.id), col(Warning.code), col(Warning.level), col(Warning.status),
                  col(Warning.department_id), col(Warning.entity_id), col(Warning.row_version))
        .where(col(Warning.id).in_(ids)))}
    assists: dict[int, list[int]] = {}
    for wid, dept in conn.execute(sa.select(col(WarningAssist.warning_id), col(WarningAssist.department_id))
                                  .where(col(WarningAssist.warning_id).in_(ids))):
        assists.setdefault(wid, []).append(dept)
    rows = []
    for event in sorted(events, key=lambda e: e.id or 0):
        w = warnings.get(event.warning_id)
        departments = {d for d in (w.department_id if w else None, event.department_id) if d is not None}
        departments.update(assists.get(event.warning_id, []))
        previous = (event.payload or {}).get("from_department_id")
        if previous:
            departments.add(previous)
        rows.append({
            "kind": event.kind, "warning_id": event.warning_id, "event_id": event.id,
            "department_id": w.department_id if w else event.department_id, "departments": sorted(departments),
            "payload": {"warningCode": w.code if w else None, "level": w.level if w else None,
                        "status": w.status if w else None, "fromStatus": event.from_status,
                        "toStatus": event.to_status, "actorName": event.actor_name,
                        "comment": (event.comment or "")[:500], "rowVersion": w.row_version if w else None},
            "created_at": event.at or utcnow(), "dispatched_at": None,
        })
    conn.execute(sa.insert(table_of(OutboxEvent)), rows)


sa.event.listen(SASession, "after_flush", _outbox_for_warning_events)
