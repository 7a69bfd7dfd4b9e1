"""createApiToken: issue a bearer token for a user (签发接口令牌), admins only; the token is in the answer once."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.ids import parse_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.tokens import create_token

__all__ = ["CreateApiTokenInput", "CreateApiTokenPayload", "create_api_token_mutation"]


@strawberry.input(description="A new API token (接口令牌).")
class CreateApiTokenInput:
    user_id: strawberry.ID = strawberry.field(description="The user the token acts as (所属用户).")
    name: str = strawberry.field(description="A label, e.g. the connected system (令牌名称).")
    expires_at: datetime | None = strawberry.field(default=None, description="Expiry, with a zone (过期时间).")


@strawberry.type(description="The token (shown only here, never again), or what was wrong with the input.")
class CreateApiTokenPayload:
    id: strawberry.ID | None
    token: str | None = strawberry.field(description="Send as Authorization: Bearer <token> (令牌，仅显示一次).")
    errors: list[UserError]


async def create_api_token_mutation(info: Info, input: CreateApiTokenInput) -> CreateApiTokenPayload:
    try:
        row, raw = await info.context.write(create_token, info.context.actor, parse_id(input.user_id, "userId"),
                                            input.name, input.expires_at)
    except (InvalidInput, Conflict, NotFound) as exc:
        return CreateApiTokenPayload(id=None, token=None, errors=user_errors(exc))
    return CreateApiTokenPayload(id=strawberry.ID(str(row.id)), token=raw, errors=[])
