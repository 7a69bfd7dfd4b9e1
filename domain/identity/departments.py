"""Departments (部门): create, edit, deactivate, list. Only admins change them; everyone signed in may read them."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from domain.audit.service import diff, record_audit
from domain.errors import FieldError, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import DEPARTMENT_LEVELS, Department
from domain.identity.policy import require
from domain.pagination import Page, PageRequest, select_page
from domain.reference.models import Region

__all__ = [
    "DepartmentInput",
    "create_department",
    "deactivate_department",
    "department_choices",
    "get_department",
    "list_departments",
    "update_department",
]

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")
AUDITED = ("code", "name", "level", "region_code", "parent_id", "active")


@dataclass
class DepartmentInput:
    """The editable fields; None on update means "leave as it is"."""

    code: str | None = None
    name: str | None = None
    level: str | None = None
    region_code: str | None = None
    parent_id: int | None = None
    active: bool | None = None
    clear_parent: bool = False  # parent_id=None cannot say "no parent any more" on its own

    def given(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)
                  if f.name != "clear_parent" and getattr(self, f.name) is not None}
        if self.clear_parent:
            values["parent_id"] = None
        return values


def _snapshot(dept: Department) -> dict[str, Any]:
    return {k: getattr(dept, k) for k in AUDITED}


def _validate(session: Session, values: dict[str, Any], *, current: Department | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    clean = dict(values)
    if "code" in clean:
        code = (clean["code"] or "").strip().upper()
        clean["code"] = code
        if not code:
            errors.append(FieldError("code", "required", "请填写部门编码"))
        elif not CODE_RE.match(code):
            errors.append(FieldError("code", "bad_format", "部门编码为 2–32 位字母、数字、- 或 _，以字母或数字开头"))
        else:
            taken = session.exec(select(Department.id).where(Department.code == code)).first()
            if taken is not None and (current is None or taken != current.id):
                errors.append(FieldError("code", "duplicate", f"部门编码 {code} 已被使用"))
    if "name" in clean:
        name = (clean["name"] or "").strip()
        clean["name"] = name
        if not name:
            errors.append(FieldError("name", "required", "请填写部门名称"))
        elif len(name) > 100:
            errors.append(FieldError("name", "too_long", f"部门名称最多 100 个字符（当前 {len(name)} 个）"))
    if "level" in clean and clean["level"] not in DEPARTMENT_LEVELS:
        errors.append(FieldError("level", "bad_choice", "层级须为 city（市级）或 district（区级）"))
    if "region_code" in clean:
        region = (clean["region_code"] or "").strip()
        clean["region_code"] = region
        if session.get(Region, region) is None:
            errors.append(FieldError("region_code", "unknown_region",
                                     f"行政区划代码 {region or '（空）'} 不在 GB/T 2260 代码表中"))
    if clean.get("parent_id") is not None:
        parent_id = clean["parent_id"]
        if session.get(Department, parent_id) is None:
            errors.append(FieldError("parent_id", "not_found", f"上级部门 {parent_id} 不存在"))
        elif current is not None and _would_cycle(session, current.id, parent_id):
            errors.append(FieldError("parent_id", "cycle", "上级部门不能是本部门或其下级部门"))
    if errors:
        raise InvalidInput("部门信息有误：" + "；".join(e.message for e in errors), errors=errors)
    return clean


def _would_cycle(session: Session, dept_id: int | None, parent_id: int) -> bool:
    seen: set[int] = set()
    node: int | None = parent_id
    while node is not None and node not in seen:
        if node == dept_id:
            return True
        seen.add(node)
        node = session.exec(select(Department.parent_id).where(Department.id == node)).first()
    return False


def create_department(session: Session, actor: Actor, data: DepartmentInput) -> Department:
    require(actor, "departments.manage")
    values = {"level": "city", "region_code": "320500", **data.given()}
    values.setdefault("code", "")
    values.setdefault("name", "")
    clean = _validate(session, values, current=None)
    dept = Department(**clean)
    session.add(dept)
    session.flush()
    record_audit(session, actor, "department.create", "department", dept.id, diff({}, _snapshot(dept)))
    return dept


def update_department(session: Session, actor: Actor, department_id: int, data: DepartmentInput) -> Department:
    require(actor, "departments.manage")
    dept = session.get(Department, department_id)
    if dept is None:
        raise NotFound(f"部门 {department_id} 不存在", field="id")
    before = _snapshot(dept)
    clean = _validate(session, data.given(), current=dept)
    for key, value in clean.items():
        setattr(dept, key, value)
    changes = diff(before, _snapshot(dept))
    if changes:
        session.add(dept)
        session.flush()
        action = "department.deactivate" if changes.keys() == {"active"} and not dept.active else "department.update"
        record_audit(session, actor, action, "department", dept.id, changes)
    return dept


def deactivate_department(session: Session, actor: Actor, department_id: int) -> Department:
    return update_department(session, actor, department_id, DepartmentInput(active=False))


def get_department(session: Session, actor: Actor, department_id: int) -> Department:
    require(actor, "departments.read")
    dept = session.get(Department, department_id)
    if dept is None:
        raise NotFound(f"部门 {department_id} 不存在", field="id")
    return dept


def list_departments(session: Session, actor: Actor, page: PageRequest, *, search: str | None = None,
                     active: bool | None = None, max_size: int = 200) -> Page[Department]:
    """Departments by code; `search` matches code or name."""
    require(actor, "departments.read")
    stmt = select(Department)
    if search and search.strip():
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(Department.code).like(like), sa.func.lower(Department.name).like(like)))
    if active is not None:
        stmt = stmt.where(Department.active == active)
    return select_page(session, stmt, page, order_by=(Department.code, Department.id), max_size=max_size)


def department_choices(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[Department]:
    """Active departments, for pickers (all of them, to name departments in history)."""
    require(actor, "departments.read")
    stmt = select(Department).order_by(Department.code)
    if not include_inactive:
        stmt = stmt.where(Department.active == sa.true())
    return list(session.exec(stmt))
