"""createDepartment: a new department (新建部门), admins only."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.identity.types import DepartmentType
from api.ids import parse_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.departments import DepartmentInput, create_department

__all__ = ["CreateDepartmentInput", "CreateDepartmentPayload", "create_department_mutation"]


@strawberry.input(description="A new department (新建部门).")
class CreateDepartmentInput:
    code: str = strawberry.field(description="Unique code (部门编码), 2–32 letters, digits, - or _.")
    name: str = strawberry.field(description="Name (部门名称).")
    level: str = strawberry.field(default="city", description="city (市级) or district (区级).")
    region_code: str = strawberry.field(default="320500", description="GB/T 2260 region code (行政区划代码).")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="Parent department (上级部门).")


@strawberry.type(description="The department created, or what was wrong with the input.")
class CreateDepartmentPayload:
    department: DepartmentType | None
    errors: list[UserError]


async def create_department_mutation(info: Info, input: CreateDepartmentInput) -> CreateDepartmentPayload:
    try:
        data = DepartmentInput(code=input.code, name=input.name, level=input.level, region_code=input.region_code,
                               parent_id=parse_id(input.parent_id, "parentId") if input.parent_id else None)
        dept = await info.context.write(create_department, info.context.actor, data)
    except (InvalidInput, Conflict, NotFound) as exc:
        return CreateDepartmentPayload(department=None, errors=user_errors(exc))
    return CreateDepartmentPayload(department=DepartmentType.from_row(dept), errors=[])
