"""resetUserPassword: an admin sets a user's password (重置密码); the user's sessions end."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.ids import parse_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity import users

__all__ = ["ResetUserPasswordInput", "ResetUserPasswordPayload", "reset_user_password_mutation"]


@strawberry.input(description="A new password for a user (重置密码).")
class ResetUserPasswordInput:
    id: strawberry.ID
    password: str


@strawberry.type(description="ok, or why the password was refused.")
class ResetUserPasswordPayload:
    ok: bool
    errors: list[UserError]


async def reset_user_password_mutation(info: Info, input: ResetUserPasswordInput) -> ResetUserPasswordPayload:
    try:
        await info.context.write(users.reset_password, info.context.actor, parse_id(input.id), input.password)
    except (InvalidInput, Conflict, NotFound) as exc:
        return ResetUserPasswordPayload(ok=False, errors=user_errors(exc))
    return ResetUserPasswordPayload(ok=True, errors=[])
