"""createUser: a new user (新建用户), admins only."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.identity.types import UserType
from api.ids import parse_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity import users

__all__ = ["CreateUserInput", "CreateUserPayload", "create_user_mutation"]


@strawberry.input(description="A new user (新建用户).")
class CreateUserInput:
    username: str = strawberry.field(description="Login name (用户名): 3–64 lowercase letters, digits, . - _.")
    roles: list[str] = strawberry.field(description="admin, analyst, handler, viewer (角色).")
    display_name: str = strawberry.field(default="", description="Name (姓名).")
    department_id: strawberry.ID | None = strawberry.field(default=None, description="Department (所属部门).")
    password: str | None = strawberry.field(
        default=None, description="Initial password (初始密码); omit for a token-only integration account.")


@strawberry.type(description="The user created, or what was wrong with the input.")
class CreateUserPayload:
    user: UserType | None
    errors: list[UserError]


async def create_user_mutation(info: Info, input: CreateUserInput) -> CreateUserPayload:
    actor = info.context.actor
    try:
        data = users.UserInput(username=input.username, display_name=input.display_name, roles=list(input.roles),
                               department_id=parse_id(input.department_id, "departmentId")
                               if input.department_id else None)
        user = await info.context.write(users.create_user, actor, data, input.password)
        row = await info.context.read(users.get_user, actor, user.id)
    except (InvalidInput, Conflict, NotFound) as exc:
        return CreateUserPayload(user=None, errors=user_errors(exc))
    return CreateUserPayload(user=UserType.from_row(row.user, row.department), errors=[])
