"""GraphQL types for departments and users."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.identity.models import Department, User
from domain.identity.users import UserRow, is_integration_account

__all__ = ["DepartmentType", "UserType"]


@strawberry.type(name="Department", description="A supervising body (部门).")
class DepartmentType:
    id: strawberry.ID
    code: str = strawberry.field(description="Department code (部门编码).")
    name: str = strawberry.field(description="Name (部门名称).")
    level: str = strawberry.field(description="city (市级) or district (区级).")
    region_code: str = strawberry.field(description="GB/T 2260 region code (行政区划代码).")
    parent_id: strawberry.ID | None = strawberry.field(description="Parent department (上级部门).")
    active: bool = strawberry.field(description="In use (启用).")

    @classmethod
    def from_row(cls, dept: Department) -> DepartmentType:
        return cls(id=strawberry.ID(str(dept.id)), code=dept.code, name=dept.name, level=dept.level,
                   region_code=dept.region_code,
                   parent_id=strawberry.ID(str(dept.parent_id)) if dept.parent_id is not None else None,
                   active=dept.active)


@strawberry.type(name="User", description="A member of staff or an integration account (用户).")
class UserType:
    id: strawberry.ID
    username: str = strawberry.field(description="Login name (用户名).")
    display_name: str = strawberry.field(description="Name shown to people (姓名).")
    department: DepartmentType | None = strawberry.field(description="The user's department (所属部门).")
    roles: list[str] = strawberry.field(description="admin (系统管理员), analyst (风险研判人员), "
                                                    "handler (部门处置人员), viewer (领导/考核人员).")
    active: bool = strawberry.field(description="May sign in (启用).")
    last_login_at: datetime | None = strawberry.field(description="Last sign-in (最近登录).")
    created_at: datetime
    integration_account: bool = strawberry.field(
        description="An account without a password that a connected system uses with API tokens (接口账号).")
    sign_in_locked_until: datetime | None = strawberry.field(
        description="While sign-in is locked after repeated failures, when the lock ends (登录锁定至); "
                    "shown to admins only.")

    @classmethod
    def from_row(cls, user: User, department: Department | None,
                 locked_until: datetime | None = None) -> UserType:
        return cls(id=strawberry.ID(str(user.id)), username=user.username, display_name=user.display_name,
                   department=DepartmentType.from_row(department) if department is not None else None,
                   roles=sorted(user.roles or []), active=user.active, last_login_at=user.last_login_at,
                   created_at=user.created_at, integration_account=is_integration_account(user),
                   sign_in_locked_until=locked_until)

    @classmethod
    def from_user_row(cls, row: UserRow) -> UserType:
        return cls.from_row(row.user, row.department, row.locked_until)
