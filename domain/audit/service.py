"""Writing the audit trail: always inside the caller's transaction, so a failed change leaves no row."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from domain.audit.models import AuditLog
from domain.identity.actor import Actor

__all__ = ["diff", "record_audit"]


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that changed, as {field: [before, after]}."""
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}


def record_audit(session: Session, actor: Actor, action: str, object_type: str,
                 object_id: Any = None, changes: dict[str, Any] | None = None) -> AuditLog:
    row = AuditLog(
        actor_id=actor.user_id,
        actor_name=actor.username,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes=changes or {},
        request_id=actor.request_id,
        client_addr=actor.client_addr,
    )
    session.add(row)
    return row
