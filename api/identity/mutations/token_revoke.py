"""revokeApiToken: a token stops working at once (撤销接口令牌), admins only."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.ids import parse_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.tokens import revoke_token

__all__ = ["RevokeApiTokenPayload", "revoke_api_token_mutation"]


@strawberry.type(description="ok, or why the token could not be revoked.")
class RevokeApiTokenPayload:
    ok: bool
    errors: list[UserError]


async def revoke_api_token_mutation(info: Info, id: strawberry.ID) -> RevokeApiTokenPayload:
    try:
        await info.context.write(revoke_token, info.context.actor, parse_id(id))
    except (InvalidInput, Conflict, NotFound) as exc:
        return RevokeApiTokenPayload(ok=False, errors=user_errors(exc))
    return RevokeApiTokenPayload(ok=True, errors=[])
