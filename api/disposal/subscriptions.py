"""warningEvents(departmentCode): warning events as they happen, over graphql-transport-ws, scoped like the
queries (a handler hears only its own department's warnings, responsible or assisting; city-wide roles hear one
department's or every one). Fed by the outbox through the process's event bus (PostgreSQL LISTEN/NOTIFY across
worker processes, in-process on SQLite)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.context import Info
from api.disposal.queries import department_id_of
from api.disposal.types import WarningEventMessage
from domain.errors import Forbidden
from domain.identity.actor import Actor
from domain.identity.policy import can, has_city_wide_scope, require_signed_in
from domain.notifications.bus import bus

__all__ = ["DisposalSubscription", "subscription_scope"]


def subscription_scope(session, actor: Actor, department_code: str | None) -> int | None:
    """The department whose events the actor will hear (None: every department, city-wide roles only)."""
    require_signed_in(actor)
    if not (has_city_wide_scope(actor) or can(actor, "warnings.handle")):
        raise Forbidden("没有权限订阅预警事件", code="forbidden")
    wanted = department_id_of(session, department_code)
    if has_city_wide_scope(actor):
        return wanted
    if actor.department_id is None:
        raise Forbidden("未归属部门的用户不能订阅预警事件", code="forbidden")
    if wanted is not None and wanted != actor.department_id:
        raise Forbidden(f"只能订阅本部门的预警事件（{department_code} 不是本部门）", field="departmentCode",
                        code="forbidden")
    return actor.department_id


@strawberry.type
class DisposalSubscription:
    @strawberry.subscription(description="Warning events as they happen (预警事件推送), scoped like the queries.")
    async def warning_events(self, info: Info, department_code: str | None = None
                             ) -> AsyncGenerator[WarningEventMessage, None]:
        ctx = info.context
        async with bus.subscribe() as queue:  # subscribe first: nothing between the check and the first event
            department_id = await ctx.db.run(subscription_scope, ctx.actor, department_code, work="read")
            while True:
                message = await queue.get()
                if department_id is None or department_id in (message.get("departments") or []):
                    yield WarningEventMessage.build(message)
