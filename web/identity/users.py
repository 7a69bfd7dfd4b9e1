"""User administration: the list (staff and integration accounts apart), forms with inline validation, account
state (active, sign-in lock), password reset."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import Conflict, InvalidInput
from domain.identity import departments as depts
from domain.identity import sessions, users
from domain.identity.actor import ROLES, Actor
from domain.identity.models import Department
from domain.identity.passwords import MIN_LENGTH
from domain.identity.policy import ROLE_LABELS, require
from domain.pagination import Page, PageRequest
from web.common import actor_of, back_to, page_window, pager, read, redirect_after_post, run
from web.forms import field_errors, opt_int, validate_or_save
from web.identity.departments import activate_action
from web.templating import render

__all__ = ["routes"]

LIST = "/admin/users"
KINDS = {"staff": False, "integration": True}  # ?kind= -> list_users(integration=...)


def _list_data(session: Session, actor: Actor, window: PageRequest,
               **filters: Any) -> tuple[Page[users.UserRow], list[Department]]:
    """The page of users and the department filter's choices, in one unit of work."""
    return users.list_users(session, actor, window, **filters), depts.department_choices(session, actor)


async def user_list(request: Request) -> Response:
    params = request.query_params
    q, role, status = params.get("q", ""), params.get("role", ""), params.get("status", "")
    kind = params.get("kind", "staff") if params.get("kind") in KINDS else "staff"
    department_id = opt_int(params.get("department"))
    number, window = page_window(request)
    page, choices = await read(request, _list_data, window, search=q, role=role or None,
                               department_id=department_id, active={"active": True, "inactive": False}.get(status),
                               integration=KINDS[kind])
    return render(request, "identity/users.html", {
        "page": page, "pager": pager(request, number, page.total or 0, target="#results"), "kind": kind,
        "q": q, "role": role, "status": status, "department_id": department_id, "departments": choices,
        "roles": ROLES, "role_labels": ROLE_LABELS, "active": "users", "page_title": "用户管理"}, block="results")


def user_input(form: FormData) -> users.UserInput:
    dept = opt_int(form.get("department_id"))
    return users.UserInput(username=str(form.get("username", "")), display_name=str(form.get("display_name", "")),
                           department_id=dept, clear_department=dept is None,
                           roles=[str(r) for r in form.getlist("roles")])


def _form_data(session: Session, actor: Actor, user_id: int | None) -> tuple[users.UserRow | None, list[Department]]:
    """The user being edited (None for a new one) and the department choices, in one unit of work."""
    row = users.get_user(session, actor, user_id) if user_id is not None else None
    return row, depts.department_choices(session, actor)


async def _user_form(request: Request, *, user_id: int | None, values: dict[str, Any] | None,
                     errors: dict[str, str]) -> Response:
    """The new-user form, or the edit page of `user_id` (with `values` None: as stored)."""
    row, choices = await read(request, _form_data, user_id)
    if values is None:
        assert row is not None
        values = {"username": row.user.username, "display_name": row.user.display_name,
                  "department_id": row.user.department_id, "roles": list(row.user.roles or [])}
    return render(request, "identity/user_form.html", {
        "user": row.user if row else None, "locked_until": row.locked_until if row else None,
        "integration": row.is_integration_account if row else False,
        "values": values, "errors": errors, "department_choices": [(d.id, f"{d.code} {d.name}") for d in choices],
        "roles": ROLES, "role_labels": ROLE_LABELS, "min_length": MIN_LENGTH, "active": "users",
        "page_title": "编辑用户" if row else "新建用户"}, block="form")


def _form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items()
                              if k not in ("password", "confirm_password", "csrf_token")}
    values["roles"] = [str(r) for r in form.getlist("roles")]
    values["department_id"] = opt_int(form.get("department_id"))
    return values


async def user_new(request: Request) -> Response:
    require(actor_of(request), "users.manage")
    return await _user_form(request, user_id=None, values={"roles": []}, errors={})


async def user_create(request: Request) -> Response:
    form = await request.form()
    values = _form_values(form)
    password, confirm = str(form.get("password", "")), str(form.get("confirm_password", ""))
    own: dict[str, str] = {}
    if not password and form.get("_validate") != "1":
        own["password"] = "请设置初始密码"
    if password != confirm and (form.get("_validate") != "1" or confirm):
        own["confirm_password"] = "两次输入的密码不一致"
    return await validate_or_save(
        request, form, users.create_user, user_input(form), password or None,
        show=lambda errors: _user_form(request, user_id=None, values=values, errors=errors),
        saved=lambda user: redirect_after_post(request, LIST, message=f"已新建用户 {user.username}。"),
        extra_errors=own)


async def user_edit(request: Request) -> Response:
    require(actor_of(request), "users.manage")
    return await _user_form(request, user_id=request.path_params["id"], values=None, errors={})


async def user_update(request: Request) -> Response:
    form = await request.form()
    user_id = request.path_params["id"]
    values = _form_values(form)
    return await validate_or_save(
        request, form, users.update_user, user_id, user_input(form),
        show=lambda errors: _user_form(request, user_id=user_id, values=values, errors=errors),
        saved=lambda user: redirect_after_post(request, LIST, message=f"已保存用户 {user.username}。"))


async def user_set_active(request: Request) -> Response:
    active = activate_action(request)
    try:
        user = await run(request, users.update_user, request.path_params["id"], users.UserInput(active=active))
    except Conflict as exc:
        return redirect_after_post(request, back_to(request, LIST), error=exc.message)
    return redirect_after_post(request, back_to(request, LIST),
                               message=f"已{'启用' if active else '停用'}用户 {user.username}。")


async def user_reset_password(request: Request) -> Response:
    form = await request.form()
    user_id = request.path_params["id"]
    try:
        user = await run(request, users.reset_password, user_id, str(form.get("password", "")))
    except InvalidInput as exc:
        message = "；".join(field_errors(exc).values())
        return await _user_form(request, user_id=user_id, values=None, errors={"reset_password": message})
    return redirect_after_post(request, LIST, message=f"已重置用户 {user.username} 的密码，其现有登录已失效。")


def _unlock(session: Session, actor: Actor, user_id: int) -> users.UserRow:
    row = users.get_user(session, actor, user_id)
    sessions.unlock_login(session, actor, row.user.username)
    return row


async def user_unlock(request: Request) -> Response:
    row = await run(request, _unlock, request.path_params["id"])
    return redirect_after_post(request, back_to(request, LIST), message=f"已解除用户 {row.user.username} 的登录锁定。")


routes = [
    Route("/admin/users", user_list, methods=["GET"]),
    Route("/admin/users/new", user_new, methods=["GET"]),
    Route("/admin/users/new", user_create, methods=["POST"]),
    Route("/admin/users/{id:int}/edit", user_edit, methods=["GET"]),
    Route("/admin/users/{id:int}/edit", user_update, methods=["POST"]),
    Route("/admin/users/{id:int}/password", user_reset_password, methods=["POST"]),
    Route("/admin/users/{id:int}/unlock", user_unlock, methods=["POST"]),
    Route("/admin/users/{id:int}/{action:str}", user_set_active, methods=["POST"]),
]
