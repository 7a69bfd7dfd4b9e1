"""The department directory and its administration (htmx list, forms with inline validation)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import NotFound
from domain.identity import departments as depts
from domain.identity.actor import Actor
from domain.identity.models import DEPARTMENT_LEVELS, Department
from domain.identity.policy import can, require
from web.common import actor_of, back_to, page_window, pager, read, redirect_after_post, run
from web.forms import opt_int, validate_or_save
from web.templating import render

__all__ = ["activate_action", "routes"]

LIST = "/admin/departments"


async def department_list(request: Request) -> Response:
    q = request.query_params.get("q", "")
    status = request.query_params.get("status", "")
    number, window = page_window(request)
    active = {"active": True, "inactive": False}.get(status)
    page = await read(request, depts.list_departments, window, search=q, active=active)
    return render(request, "identity/departments.html", {
        "page": page, "pager": pager(request, number, page.total or 0, target="#results"), "q": q, "status": status,
        "levels": DEPARTMENT_LEVELS, "can_manage": can(actor_of(request), "departments.manage"),
        "active": "departments", "page_title": "部门管理"}, block="results")


def department_input(form: FormData) -> depts.DepartmentInput:
    return depts.DepartmentInput(code=str(form.get("code", "")), name=str(form.get("name", "")),
                                 level=str(form.get("level", "city")),
                                 region_code=str(form.get("region_code", "")),
                                 parent_id=opt_int(form.get("parent_id")))


def _form_data(session: Session, actor: Actor, dept_id: int | None) -> tuple[Department | None, list[Department]]:
    """The department being edited (None for a new one) and the parent choices, in one unit of work."""
    dept = depts.get_department(session, actor, dept_id) if dept_id is not None else None
    return dept, depts.department_choices(session, actor)


async def _department_form(request: Request, *, dept_id: int | None, values: dict[str, Any] | None,
                           errors: dict[str, str]) -> Response:
    """The new-department form, or the edit page of `dept_id` (with `values` None: as stored)."""
    dept, choices = await read(request, _form_data, dept_id)
    if values is None:
        assert dept is not None
        values = {k: getattr(dept, k) for k in ("code", "name", "level", "region_code", "parent_id")}
    return render(request, "identity/department_form.html", {
        "dept": dept, "values": values, "errors": errors, "levels": DEPARTMENT_LEVELS,
        "parent_choices": [(d.id, f"{d.code} {d.name}") for d in choices if dept is None or d.id != dept.id],
        "active": "departments", "page_title": "编辑部门" if dept else "新建部门"}, block="form")


async def department_new(request: Request) -> Response:
    require(actor_of(request), "departments.manage")
    return await _department_form(request, dept_id=None, values={"level": "city", "region_code": "320500"},
                                  errors={})


async def department_create(request: Request) -> Response:
    form = await request.form()
    values = dict(form)
    return await validate_or_save(
        request, form, depts.create_department, department_input(form),
        show=lambda errors: _department_form(request, dept_id=None, values=values, errors=errors),
        saved=lambda dept: redirect_after_post(request, LIST, message=f"已新建部门 {dept.code} {dept.name}。"))


async def department_edit(request: Request) -> Response:
    require(actor_of(request), "departments.manage")
    return await _department_form(request, dept_id=request.path_params["id"], values=None, errors={})


async def department_update(request: Request) -> Response:
    form = await request.form()
    dept_id = request.path_params["id"]
    values = dict(form)
    data = department_input(form)
    data.clear_parent = data.parent_id is None
    return await validate_or_save(
        request, form, depts.update_department, dept_id, data,
        show=lambda errors: _department_form(request, dept_id=dept_id, values=values, errors=errors),
        saved=lambda dept: redirect_after_post(request, LIST, message=f"已保存部门 {dept.code} {dept.name}。"))


def activate_action(request: Request) -> bool:
    """The {action} of a ".../activate" or ".../deactivate" post: True to activate."""
    action = request.path_params["action"]
    if action not in ("activate", "deactivate"):
        raise NotFound(f"没有“{action}”这个操作")
    return action == "activate"


async def department_set_active(request: Request) -> Response:
    active = activate_action(request)
    dept = await run(request, depts.update_department, request.path_params["id"], depts.DepartmentInput(active=active))
    return redirect_after_post(request, back_to(request, LIST),
                               message=f"已{'启用' if active else '停用'}部门 {dept.code} {dept.name}。")


routes = [
    Route("/admin/departments", department_list, methods=["GET"]),
    Route("/admin/departments/new", department_new, methods=["GET"]),
    Route("/admin/departments/new", department_create, methods=["POST"]),
    Route("/admin/departments/{id:int}/edit", department_edit, methods=["GET"]),
    Route("/admin/departments/{id:int}/edit", department_update, methods=["POST"]),
    Route("/admin/departments/{id:int}/{action:str}", department_set_active, methods=["POST"]),
]
