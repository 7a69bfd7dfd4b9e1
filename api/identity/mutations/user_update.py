"""updateUser: change, deactivate or reactivate a user (修改用户), admins only."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.identity.types import UserType
from api.ids import parse_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity import users

__all__ = ["UpdateUserInput", "UpdateUserPayload", "update_user_mutation"]


@strawberry.input(description="Fields to change on a user (修改用户); omitted fields stay as they are.")
class UpdateUserInput:
    id: strawberry.ID
    username: str | None = None
    display_name: str | None = None
    department_id: strawberry.ID | None = None
    clear_department: bool = strawberry.field(default=False, description="Remove the department (移出部门).")
    roles: list[str] | None = None
    active: bool | None = strawberry.field(default=None, description="false deactivates (停用) at once.")


@strawberry.type(description="The user as changed, or what was wrong with the input.")
class UpdateUserPayload:
    user: UserType | None
    errors: list[UserError]


async def update_user_mutation(info: Info, input: UpdateUserInput) -> UpdateUserPayload:
    actor = info.context.actor
    try:
        user_id = parse_id(input.id)
        data = users.UserInput(username=input.username, display_name=input.display_name,
                               roles=list(input.roles) if input.roles is not None else None,
                               department_id=parse_id(input.department_id, "departmentId")
                               if input.department_id else None,
                               active=input.active, clear_department=input.clear_department)
        await info.context.write(users.update_user, actor, user_id, data)
        row = await info.context.read(users.get_user, actor, user_id)
    except (InvalidInput, Conflict, NotFound) as exc:
        return UpdateUserPayload(user=None, errors=user_errors(exc))
    return UpdateUserPayload(user=UserType.from_row(row.user, row.department), errors=[])
