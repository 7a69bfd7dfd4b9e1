"""updateDepartment: change or deactivate a department (修改部门), admins only."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.identity.types import DepartmentType
from api.ids import parse_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.departments import DepartmentInput, update_department

__all__ = ["UpdateDepartmentInput", "UpdateDepartmentPayload", "update_department_mutation"]


@strawberry.input(description="Fields to change on a department (修改部门); omitted fields stay as they are.")
class UpdateDepartmentInput:
    id: strawberry.ID
    code: str | None = None
    name: str | None = None
    level: str | None = None
    region_code: str | None = None
    parent_id: strawberry.ID | None = None
    active: bool | None = strawberry.field(default=None, description="false deactivates (停用).")


@strawberry.type(description="The department as changed, or what was wrong with the input.")
class UpdateDepartmentPayload:
    department: DepartmentType | None
    errors: list[UserError]


async def update_department_mutation(info: Info, input: UpdateDepartmentInput) -> UpdateDepartmentPayload:
    try:
        data = DepartmentInput(code=input.code, name=input.name, level=input.level, region_code=input.region_code,
                               parent_id=parse_id(input.parent_id, "parentId") if input.parent_id else None,
                               active=input.active)
        dept = await info.context.write(update_department, info.context.actor, parse_id(input.id), data)
    except (InvalidInput, Conflict, NotFound) as exc:
        return UpdateDepartmentPayload(department=None, errors=user_errors(exc))
    return UpdateDepartmentPayload(department=DepartmentType.from_row(dept), errors=[])
