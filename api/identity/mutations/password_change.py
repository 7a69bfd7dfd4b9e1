"""changeMyPassword: the caller changes their own password (修改密码); their other sessions end."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.users import change_own_password

__all__ = ["ChangeMyPasswordPayload", "change_my_password_mutation"]


@strawberry.type(description="ok, or why the new password was refused.")
class ChangeMyPasswordPayload:
    ok: bool
    errors: list[UserError]


async def change_my_password_mutation(info: Info, current_password: str, new_password: str) -> ChangeMyPasswordPayload:
    try:
        await info.context.write(change_own_password, info.context.actor, current_password, new_password)
    except (InvalidInput, Conflict, NotFound) as exc:
        return ChangeMyPasswordPayload(ok=False, errors=user_errors(exc))
    return ChangeMyPasswordPayload(ok=True, errors=[])
