"""站内通知: a user's own notices (urged, overdue, returned, reassigned …) and marking them read."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.identity.actor import Actor
from domain.identity.policy import require_signed_in
from domain.notifications.models import Notification
from domain.types import utcnow

__all__ = ["list_notices", "mark_notices_read", "unread_count"]


def list_notices(session: Session, actor: Actor, *, limit: int = 50, unread_only: bool = False
                 ) -> list[Notification]:
    """The actor's newest notices (served by (user_id, read_at, id))."""
    require_signed_in(actor)
    if actor.user_id is None:
        return []
    stmt = select(Notification).where(col(Notification.user_id) == actor.user_id)
    if unread_only:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    return list(session.exec(stmt.order_by(col(Notification.id).desc()).limit(min(max(limit, 1), 200))).all())


def unread_count(session: Session, actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    return int(session.execute(sa.select(sa.func.count()).select_from(Notification).where(
        col(Notification.user_id) == actor.user_id, col(Notification.read_at).is_(None))).scalar_one())


def mark_notices_read(session: Session, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark the actor's notices read (all of them when `ids` is None); others' ids are ignored."""
    require_signed_in(actor)
    stmt = sa.update(Notification).where(col(Notification.user_id) == actor.user_id,
                                         col(Notification.read_at).is_(None))
    if ids is not None:
        stmt = stmt.where(col(Notification.id).in_(ids))
    return cast("sa.CursorResult[Any]", session.execute(stmt.values(read_at=utcnow()))).rowcount
