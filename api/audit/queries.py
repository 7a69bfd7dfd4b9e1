"""The audit trail over GraphQL (审计日志), admins only."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import strawberry

from api.context import Info
from api.pagination import Connection, build_connection, page_request
from domain.audit.models import AuditLog
from domain.audit.queries import AuditFilter, list_audit

__all__ = ["AuditEntryType", "AuditQuery"]


@strawberry.type(name="AuditEntry", description="One recorded change (审计记录): who, what, when, from where.")
class AuditEntryType:
    id: strawberry.ID
    occurred_at: datetime = strawberry.field(description="When (时间).")
    actor_id: strawberry.ID | None
    actor_name: str = strawberry.field(description="Who (操作人).")
    action: str = strawberry.field(description="What was done, e.g. user.update (操作).")
    object_type: str = strawberry.field(description="Kind of object (对象类型).")
    object_id: str | None = strawberry.field(description="Which object (对象编号).")
    changes: strawberry.scalars.JSON = strawberry.field(
        description="Changed fields as {field: [before, after]} (变更内容).")
    request_id: str | None = strawberry.field(description="Request id (请求编号).")
    client_addr: str | None = strawberry.field(description="Client address (客户端地址).")

    @classmethod
    def from_row(cls, row: AuditLog) -> AuditEntryType:
        return cls(id=strawberry.ID(str(row.id)), occurred_at=row.occurred_at,
                   actor_id=strawberry.ID(str(row.actor_id)) if row.actor_id is not None else None,
                   actor_name=row.actor_name, action=row.action, object_type=row.object_type,
                   object_id=row.object_id, changes=cast(strawberry.scalars.JSON, row.changes),
                   request_id=row.request_id, client_addr=row.client_addr)


@strawberry.type
class AuditQuery:
    @strawberry.field(description="The audit trail, newest first (审计日志); admins only. "
                                  "action may be a prefix ending in '.', dates are local (Asia/Shanghai).")
    async def audit_log(self, info: Info, first: int | None = None, after: str | None = None,
                        last: int | None = None, before: str | None = None, actor: str | None = None,
                        action: str | None = None, object_type: str | None = None, object_id: str | None = None,
                        date_from: date | None = None, date_to: date | None = None) -> Connection[AuditEntryType]:
        filters = AuditFilter(actor=actor, action=action, object_type=object_type, object_id=object_id,
                              date_from=date_from, date_to=date_to)
        page = await info.context.read(list_audit, info.context.actor,
                                       page_request(first, after, last, before, info=info), filters,
                                       max_size=info.context.settings.max_page_size)
        return build_connection(page, AuditEntryType.from_row)
