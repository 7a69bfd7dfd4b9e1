"""Identity queries: me, departments, users."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.identity.types import DepartmentType, UserType
from api.ids import parse_id
from api.pagination import Connection, build_connection, page_request
from domain.errors import Unauthenticated
from domain.identity import departments, sessions, users

__all__ = ["IdentityQuery", "parse_id"]  # parse_id: re-exported from api.ids while importers move


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The caller (当前用户).")
    async def me(self, info: Info) -> UserType:
        actor = info.context.actor
        if actor.user_id is None:
            raise Unauthenticated("请先登录 (sign in first)")
        user, department = await info.context.read(sessions.current_user, actor)
        return UserType.from_row(user, department)

    @strawberry.field(description="Departments by code (部门列表); search matches code or name.")
    async def departments(self, info: Info, first: int | None = None, after: str | None = None,
                          last: int | None = None, before: str | None = None, search: str | None = None,
                          active: bool | None = None) -> Connection[DepartmentType]:
        page = await info.context.read(departments.list_departments, info.context.actor,
                                       page_request(first, after, last, before, info=info), search=search,
                                       active=active, max_size=info.context.settings.max_page_size)
        return build_connection(page, DepartmentType.from_row)

    @strawberry.field(description="One department (部门).")
    async def department(self, info: Info, id: strawberry.ID) -> DepartmentType:
        dept = await info.context.read(departments.get_department, info.context.actor, parse_id(id))
        return DepartmentType.from_row(dept)

    @strawberry.field(description="Users (用户列表), admins only; search matches username or name.")
    async def users(self, info: Info, first: int | None = None, after: str | None = None,
                    last: int | None = None, before: str | None = None, search: str | None = None,
                    department_id: strawberry.ID | None = None, role: str | None = None,
                    active: bool | None = None, integration_account: bool | None = None) -> Connection[UserType]:
        page = await info.context.read(
            users.list_users, info.context.actor, page_request(first, after, last, before, info=info), search=search,
            department_id=parse_id(department_id, "departmentId") if department_id is not None else None,
            role=role, active=active, integration=integration_account, max_size=info.context.settings.max_page_size)
        return build_connection(page, UserType.from_user_row)

    @strawberry.field(description="One user (用户): admins see anyone, others their own department.")
    async def user(self, info: Info, id: strawberry.ID) -> UserType:
        row = await info.context.read(users.get_user, info.context.actor, parse_id(id))
        return UserType.from_user_row(row)
