"""createWebhookSubscription / updateWebhookSubscription (推送订阅), admins only."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.disposal.types import WebhookSubscriptionNode
from api.errors import UserError, user_errors
from api.ids import parse_id
from domain.errors import DomainError
from domain.notifications import webhooks as wh

__all__ = ["WebhookMutation"]


@strawberry.input(name="WebhookSubscriptionInput")
class WebhookSubscriptionInput:
    name: str | None = None
    url: str | None = None
    secret: str | None = strawberry.field(default=None, description="At least 16 characters; generated when "
                                                                    "omitted on create.")
    event_kinds: list[str] | None = strawberry.field(default=None, description="Empty: every kind.")
    department_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Empty: every "
                                                                                            "department.")
    active: bool | None = None


@strawberry.type(name="WebhookSubscriptionPayload")
class WebhookSubscriptionPayload:
    subscription: WebhookSubscriptionNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _data(input: WebhookSubscriptionInput) -> wh.SubscriptionInput:
    return wh.SubscriptionInput(name=input.name, url=input.url, secret=input.secret, event_kinds=input.event_kinds,
                                department_ids=None if input.department_ids is None else
                                [parse_id(i, "departmentIds") for i in input.department_ids], active=input.active)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="新建推送订阅; the answer carries the secret once.")
    async def create_webhook_subscription(self, info: Info, input: WebhookSubscriptionInput
                                          ) -> WebhookSubscriptionPayload:
        ctx = info.context
        try:
            sub = await ctx.write(wh.create_subscription, ctx.actor, _data(input))
        except DomainError as exc:
            return WebhookSubscriptionPayload(errors=user_errors(exc))
        return WebhookSubscriptionPayload(subscription=WebhookSubscriptionNode.build(sub, with_secret=True))

    @strawberry.mutation(description="修改推送订阅 (omitted fields stay).")
    async def update_webhook_subscription(self, info: Info, id: strawberry.ID, input: WebhookSubscriptionInput
                                          ) -> WebhookSubscriptionPayload:
        ctx = info.context
        try:
            sub = await ctx.write(wh.update_subscription, ctx.actor, parse_id(id), _data(input))
        except DomainError as exc:
            return WebhookSubscriptionPayload(errors=user_errors(exc))
        return WebhookSubscriptionPayload(subscription=WebhookSubscriptionNode.build(sub))
