"""Disposal reads: the inbox (tabs, filters, keyset pages), tab counts, one warning's disposal, webhooks."""

from __future__ import annotations

from datetime import date

import strawberry
from sqlmodel import Session, select

from api.context import Info
from api.disposal.types import (
    DisposalWarningNode,
    InboxCountsType,
    NoticeNode,
    WebhookDeliveryNode,
    WebhookSubscriptionNode,
)
from api.ids import parse_id
from api.pagination import Connection, build_connection, page_request
from domain.disposal.inbox import InboxFilter, inbox_counts, inbox_page
from domain.disposal.queries import disposal_detail
from domain.errors import NotFound
from domain.identity.models import Department
from domain.identity.policy import has_city_wide_scope
from domain.notifications import webhooks as wh

__all__ = ["DisposalQuery", "department_id_of"]


def department_id_of(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    found = session.exec(select(Department.id).where(Department.code == code.strip().upper())).first()
    if found is None:
        raise NotFound(f"部门编码“{code}”不存在", field="departmentCode", code="unknown_department")
    return found


def _filter(tab: str, level: str | None, created_from: date | None, created_to: date | None, search: str | None,
            department_code: str | None, sort: str) -> InboxFilter:
    """The department code rides in the inbox's own statement (a scalar subquery); it is looked up alone only
    when nothing came back, to tell an unknown code from an empty tab."""
    return InboxFilter(tab=tab, level=level, created_from=created_from, created_to=created_to, search=search,
                       department_code=department_code, sort=sort)


def _inbox(session, actor, req, args, max_size):
    page = inbox_page(session, actor, req, _filter(*args), max_size=max_size)
    if args[5] and (not page.items or not has_city_wide_scope(actor)):
        department_id_of(session, args[5])
    return page


def _counts(session, actor, args):
    counts = inbox_counts(session, actor, _filter(*args))
    if args[5] and (not any(counts.values()) or not has_city_wide_scope(actor)):
        department_id_of(session, args[5])
    return counts


@strawberry.type
class DisposalQuery:
    @strawberry.field(description="处置工作台: the caller's department's warnings (city-wide roles: every department "
                                  "or `departmentCode`) in one tab: pending 待签收 / in_progress 处置中 / review "
                                  "待审核 / done 已办结 / overdue 已超期; sort newest / oldest / due.")
    async def inbox(self, info: Info, tab: str = "pending", level: str | None = None,
                    created_from: date | None = None, created_to: date | None = None, search: str | None = None,
                    department_code: str | None = None, sort: str = "newest", first: int | None = 20,
                    after: str | None = None) -> Connection[DisposalWarningNode]:
        ctx = info.context
        req = page_request(first, after, info=info)
        page = await ctx.read(_inbox, ctx.actor, req,
                              (tab, level, created_from, created_to, search, department_code, sort),
                              ctx.settings.max_page_size)
        return build_connection(page, DisposalWarningNode.from_row)

    @strawberry.field(description="Each inbox tab's count under the same filters.")
    async def inbox_counts(self, info: Info, level: str | None = None, created_from: date | None = None,
                           created_to: date | None = None, search: str | None = None,
                           department_code: str | None = None) -> InboxCountsType:
        ctx = info.context
        counts = await ctx.read(_counts, ctx.actor,
                                ("pending", level, created_from, created_to, search, department_code, "newest"))
        return InboxCountsType(**counts)

    @strawberry.field(description="One warning's disposal: timeline, feedback, extensions, evidence and the steps "
                                  "the caller may take now.")
    async def warning_disposal(self, info: Info, id: strawberry.ID) -> DisposalWarningNode:
        ctx = info.context
        detail = await ctx.read(disposal_detail, ctx.actor, parse_id(id))
        return DisposalWarningNode.from_detail(detail)

    @strawberry.field(description="The caller's notices, newest first (站内通知).")
    async def my_notices(self, info: Info, unread_only: bool = False, first: int = 50) -> list[NoticeNode]:
        from domain.notifications.notices import list_notices

        ctx = info.context
        rows = await ctx.read(list_notices, ctx.actor, limit=first, unread_only=unread_only)
        return [NoticeNode.build(n) for n in rows]

    @strawberry.field(description="推送订阅 (admins).")
    async def webhook_subscriptions(self, info: Info) -> list[WebhookSubscriptionNode]:
        ctx = info.context
        return [WebhookSubscriptionNode.build(s) for s in await ctx.read(wh.list_subscriptions, ctx.actor)]

    @strawberry.field(description="投递记录, newest first (admins).")
    async def webhook_deliveries(self, info: Info, status: str | None = None, first: int | None = 50,
                                 after: str | None = None) -> Connection[WebhookDeliveryNode]:
        ctx = info.context
        page = await ctx.read(wh.page_deliveries, ctx.actor, page_request(first, after, info=info),
                              max_size=ctx.settings.max_page_size, status=status)
        return build_connection(page, WebhookDeliveryNode.build)
