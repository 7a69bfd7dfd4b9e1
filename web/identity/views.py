"""Sign-in pages and the administration of departments, users and the audit trail (htmx)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from domain.audit.queries import AuditFilter, list_audit, list_audit_actions
from domain.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound
from domain.identity import departments as depts
from domain.identity import sessions, users
from domain.identity.actor import ROLES
from domain.identity.models import DEPARTMENT_LEVELS
from domain.identity.passwords import MIN_LENGTH
from domain.identity.policy import ROLE_LABELS, can, require
from domain.pagination import PageRequest
from web.common import PAGE_SIZE, actor_of, dry_run, page_window, pager, redirect_after_post, run
from web.identity.middleware import end_session, renew_session_version, safe_next, start_session
from web.templating import flash, render

__all__ = ["routes"]



def field_errors(exc: DomainError) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors:
        out.setdefault(error.field or "_form", error.message)
    return out


def only_triggering_field(request: Request, errors: dict[str, str]) -> dict[str, str]:
    """Inline validation speaks about the field just left, not about fields the user has not reached yet."""
    trigger = request.headers.get("hx-trigger-name")
    return {k: v for k, v in errors.items() if k == trigger} if trigger else errors


def opt_int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


# ---- sign in / out ---------------------------------------------------------------------------------------------

async def login_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if actor_of(request).is_authenticated:
        return RedirectResponse(next_url, status_code=303)
    return render(request, "identity/login.html", {"next": next_url, "username": "", "error": None,
                                                   "page_title": "登录"})


async def login_submit(request: Request) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "")))
    state = request.state
    result = await request.app.state.db.run(
        sessions.login, username, password, request_id=getattr(state, "request_id", None),
        client_addr=request.client.host if request.client else None)
    if not result.ok:
        return render(request, "identity/login.html", {"next": next_url, "username": username,
                                                       "error": result.error, "page_title": "登录"},
                      status_code=429 if result.locked_until else 401)
    start_session(request, result.user)
    flash(request, f"欢迎，{result.user.display_name or result.user.username}。")
    return RedirectResponse(next_url, status_code=303)


async def logout(request: Request) -> Response:
    await run(request, sessions.logout)
    end_session(request)
    flash(request, "您已安全退出。")
    return RedirectResponse("/login", status_code=303)


# ---- my account ------------------------------------------------------------------------------------------------

async def account(request: Request) -> Response:
    actor = actor_of(request)
    row = await run(request, users.get_user, actor.user_id)
    return render(request, "identity/account.html", {"me": row.user, "department": row.department, "errors": {},
                                                     "role_labels": ROLE_LABELS, "min_length": MIN_LENGTH,
                                                     "active": None, "page_title": "我的账户"}, block="password_form")


async def account_password(request: Request) -> Response:
    form = await request.form()
    actor = actor_of(request)
    try:
        if str(form.get("new_password", "")) != str(form.get("confirm_password", "")):
            raise InvalidInput("两次输入的新密码不一致", field="confirm_password", code="mismatch")
        user = await run(request, users.change_own_password, str(form.get("current_password", "")),
                         str(form.get("new_password", "")))
    except (InvalidInput, Conflict) as exc:
        row = await run(request, users.get_user, actor.user_id)
        return render(request, "identity/account.html", {
            "me": row.user, "department": row.department, "errors": field_errors(exc), "role_labels": ROLE_LABELS,
            "min_length": MIN_LENGTH, "active": None, "page_title": "我的账户"}, block="password_form")
    renew_session_version(request, user.session_version)
    flash(request, "密码已修改。您在其他设备上的登录已失效。")
    return redirect_after_post(request, "/account")


# ---- departments -----------------------------------------------------------------------------------------------

async def department_list(request: Request) -> Response:
    q = request.query_params.get("q", "")
    status = request.query_params.get("status", "")
    number, window = page_window(request)
    active = {"active": True, "inactive": False}.get(status)
    page = await run(request, depts.list_departments, window, search=q, active=active)
    return render(request, "identity/departments.html", {
        "page": page, "pager": pager(request, number, page.total, target="#results"), "q": q, "status": status,
        "levels": DEPARTMENT_LEVELS, "can_manage": can(actor_of(request), "departments.manage"),
        "active": "departments", "page_title": "部门管理"}, block="results")


def department_input(form: FormData) -> depts.DepartmentInput:
    return depts.DepartmentInput(code=str(form.get("code", "")), name=str(form.get("name", "")),
                                 level=str(form.get("level", "city")),
                                 region_code=str(form.get("region_code", "")),
                                 parent_id=opt_int(form.get("parent_id")))


async def _department_form(request: Request, *, dept: Any, values: dict[str, Any], errors: dict[str, str],
                           status_code: int = 200) -> Response:
    choices = await run(request, depts.department_choices)
    return render(request, "identity/department_form.html", {
        "dept": dept, "values": values, "errors": errors, "levels": DEPARTMENT_LEVELS,
        "parents": [d for d in choices if dept is None or d.id != dept.id], "active": "departments",
        "page_title": "编辑部门" if dept else "新建部门"}, block="form", status_code=status_code)


async def department_new(request: Request) -> Response:
    require(actor_of(request), "departments.manage")
    return await _department_form(request, dept=None, values={"level": "city", "region_code": "320500"}, errors={})


async def department_create(request: Request) -> Response:
    form = await request.form()
    values = dict(form)
    data = department_input(form)
    validate_only = form.get("_validate") == "1"
    try:
        if validate_only:
            await dry_run(request, depts.create_department, data)
        else:
            dept = await run(request, depts.create_department, data)
    except (InvalidInput, Conflict, NotFound) as exc:
        errors = only_triggering_field(request, field_errors(exc)) if validate_only else field_errors(exc)
        return await _department_form(request, dept=None, values=values, errors=errors)
    if validate_only:
        return await _department_form(request, dept=None, values=values, errors={})
    flash(request, f"已新建部门 {dept.code} {dept.name}。")
    return redirect_after_post(request, "/admin/departments")


async def department_edit(request: Request) -> Response:
    require(actor_of(request), "departments.manage")
    dept = await run(request, depts.get_department, request.path_params["id"])
    values = {k: getattr(dept, k) for k in ("code", "name", "level", "region_code", "parent_id")}
    return await _department_form(request, dept=dept, values=values, errors={})


async def department_update(request: Request) -> Response:
    form = await request.form()
    dept_id = request.path_params["id"]
    values = dict(form)
    data = department_input(form)
    data.clear_parent = data.parent_id is None
    validate_only = form.get("_validate") == "1"
    try:
        if validate_only:
            await dry_run(request, depts.update_department, dept_id, data)
        else:
            dept = await run(request, depts.update_department, dept_id, data)
    except (InvalidInput, Conflict) as exc:
        current = await run(request, depts.get_department, dept_id)
        errors = only_triggering_field(request, field_errors(exc)) if validate_only else field_errors(exc)
        return await _department_form(request, dept=current, values=values, errors=errors)
    if validate_only:
        current = await run(request, depts.get_department, dept_id)
        return await _department_form(request, dept=current, values=values, errors={})
    flash(request, f"已保存部门 {dept.code} {dept.name}。")
    return redirect_after_post(request, "/admin/departments")


def _activate(request: Request) -> bool:
    action = request.path_params["action"]
    if action not in ("activate", "deactivate"):
        raise NotFound(f"没有 {action} 这个操作")
    return action == "activate"


async def department_set_active(request: Request) -> Response:
    active = _activate(request)
    dept = await run(request, depts.update_department, request.path_params["id"], depts.DepartmentInput(active=active))
    flash(request, f"已{'启用' if active else '停用'}部门 {dept.code} {dept.name}。")
    return redirect_after_post(request, back_to(request, "/admin/departments"))


# ---- users -----------------------------------------------------------------------------------------------------

async def user_list(request: Request) -> Response:
    params = request.query_params
    q, role, status = params.get("q", ""), params.get("role", ""), params.get("status", "")
    department_id = opt_int(params.get("department"))
    number, window = page_window(request)
    page = await run(request, users.list_users, window, search=q, role=role or None,
                     department_id=department_id, active={"active": True, "inactive": False}.get(status))
    choices = await run(request, depts.department_choices)
    return render(request, "identity/users.html", {
        "page": page, "pager": pager(request, number, page.total, target="#results"),
        "q": q, "role": role, "status": status, "department_id": department_id, "departments": choices,
        "roles": ROLES, "role_labels": ROLE_LABELS, "active": "users", "page_title": "用户管理"}, block="results")


def user_input(form: FormData, *, with_username: bool = True) -> users.UserInput:
    dept = opt_int(form.get("department_id"))
    return users.UserInput(username=str(form.get("username", "")) if with_username else None,
                           display_name=str(form.get("display_name", "")),
                           department_id=dept, clear_department=dept is None,
                           roles=[str(r) for r in form.getlist("roles")])


async def _user_form(request: Request, *, user: Any, values: dict[str, Any], errors: dict[str, str]) -> Response:
    choices = await run(request, depts.department_choices)
    return render(request, "identity/user_form.html", {
        "user": user, "values": values, "errors": errors, "departments": choices, "roles": ROLES,
        "role_labels": ROLE_LABELS, "min_length": MIN_LENGTH, "active": "users",
        "page_title": "编辑用户" if user else "新建用户"}, block="form")


def _form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items() if k not in ("password", "csrf_token")}
    values["roles"] = [str(r) for r in form.getlist("roles")]
    values["department_id"] = opt_int(form.get("department_id"))
    return values


async def user_new(request: Request) -> Response:
    require(actor_of(request), "users.manage")
    return await _user_form(request, user=None, values={"roles": []}, errors={})


async def user_create(request: Request) -> Response:
    form = await request.form()
    values = _form_values(form)
    data = user_input(form)
    password = str(form.get("password", ""))
    validate_only = form.get("_validate") == "1"
    try:
        if password != str(form.get("confirm_password", "")) and (not validate_only or form.get("confirm_password")):
            raise InvalidInput("两次输入的密码不一致", field="confirm_password", code="mismatch")
        if not password and not validate_only:
            raise InvalidInput("请设置初始密码", field="password", code="required")
        if validate_only:
            await dry_run(request, users.create_user, data, password or None)
        else:
            user = await run(request, users.create_user, data, password)
    except (InvalidInput, Conflict, NotFound) as exc:
        errors = only_triggering_field(request, field_errors(exc)) if validate_only else field_errors(exc)
        return await _user_form(request, user=None, values=values, errors=errors)
    if validate_only:
        return await _user_form(request, user=None, values=values, errors={})
    flash(request, f"已新建用户 {user.username}。")
    return redirect_after_post(request, "/admin/users")


async def user_edit(request: Request) -> Response:
    require(actor_of(request), "users.manage")
    row = await run(request, users.get_user, request.path_params["id"])
    values = {"username": row.user.username, "display_name": row.user.display_name,
              "department_id": row.user.department_id, "roles": list(row.user.roles or [])}
    return await _user_form(request, user=row.user, values=values, errors={})


async def user_update(request: Request) -> Response:
    form = await request.form()
    user_id = request.path_params["id"]
    values = _form_values(form)
    data = user_input(form)
    validate_only = form.get("_validate") == "1"
    try:
        if validate_only:
            await dry_run(request, users.update_user, user_id, data)
        else:
            user = await run(request, users.update_user, user_id, data)
    except (InvalidInput, Conflict) as exc:
        row = await run(request, users.get_user, user_id)
        errors = only_triggering_field(request, field_errors(exc)) if validate_only else field_errors(exc)
        return await _user_form(request, user=row.user, values=values, errors=errors)
    if validate_only:
        row = await run(request, users.get_user, user_id)
        return await _user_form(request, user=row.user, values=values, errors={})
    flash(request, f"已保存用户 {user.username}。")
    return redirect_after_post(request, "/admin/users")


async def user_set_active(request: Request) -> Response:
    active = _activate(request)
    try:
        user = await run(request, users.update_user, request.path_params["id"], users.UserInput(active=active))
    except Conflict as exc:
        flash(request, exc.message, "error")
        return redirect_after_post(request, back_to(request, "/admin/users"))
    flash(request, f"已{'启用' if active else '停用'}用户 {user.username}。")
    return redirect_after_post(request, back_to(request, "/admin/users"))


async def user_reset_password(request: Request) -> Response:
    form = await request.form()
    user_id = request.path_params["id"]
    password = str(form.get("password", ""))
    try:
        user = await run(request, users.reset_password, user_id, password)
    except InvalidInput as exc:
        row = await run(request, users.get_user, user_id)
        values = {"username": row.user.username, "display_name": row.user.display_name,
                  "department_id": row.user.department_id, "roles": list(row.user.roles or [])}
        return await _user_form(request, user=row.user, values=values,
                                errors={"reset_password": exc.errors[0].message})
    flash(request, f"已重置用户 {user.username} 的密码，其现有登录已失效。")
    return redirect_after_post(request, "/admin/users")


async def user_unlock(request: Request) -> Response:
    row = await run(request, users.get_user, request.path_params["id"])
    await run(request, sessions.unlock_login, row.user.username)
    flash(request, f"已解除用户 {row.user.username} 的登录锁定。")
    return redirect_after_post(request, back_to(request, "/admin/users"))


# ---- audit -----------------------------------------------------------------------------------------------------

def _date(value: str | None, field: str, errors: list[FieldError]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, "bad_date", f"日期格式应为 YYYY-MM-DD，收到 {value!r}"))
        return None


async def audit_list(request: Request) -> Response:
    params = request.query_params
    raw = {k: params.get(k, "") for k in ("actor", "action", "object_type", "object_id", "date_from", "date_to")}
    problems: list[FieldError] = []
    filters = AuditFilter(actor=raw["actor"], action=raw["action"], object_type=raw["object_type"],
                          object_id=raw["object_id"], date_from=_date(raw["date_from"], "date_from", problems),
                          date_to=_date(raw["date_to"], "date_to", problems))
    number, window = page_window(request)
    errors: dict[str, str] = {e.field or "_form": e.message for e in problems}
    try:
        page = await run(request, list_audit, window, filters)
    except InvalidInput as exc:
        errors.update(field_errors(exc))
        number, page = 1, await run(request, list_audit, PageRequest(first=PAGE_SIZE), AuditFilter())
    actions = await run(request, list_audit_actions)
    return render(request, "identity/audit.html", {
        "page": page, "pager": pager(request, number, page.total, target="#results"), "filters": raw,
        "errors": errors, "actions": actions, "active": "audit", "page_title": "审计日志"}, block="results")


# ---- helpers ---------------------------------------------------------------------------------------------------

def back_to(request: Request, default: str) -> str:
    current = request.headers.get("hx-current-url") or request.headers.get("referer") or ""
    parts = urlsplit(current)
    if parts.netloc and parts.netloc != request.url.netloc:
        return default
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path, default) if path.startswith(default) else default


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account", account, methods=["GET"]),
    Route("/account/password", account_password, methods=["POST"]),
    Route("/admin/departments", department_list, methods=["GET"]),
    Route("/admin/departments/new", department_new, methods=["GET"]),
    Route("/admin/departments/new", department_create, methods=["POST"]),
    Route("/admin/departments/{id:int}/edit", department_edit, methods=["GET"]),
    Route("/admin/departments/{id:int}/edit", department_update, methods=["POST"]),
    Route("/admin/departments/{id:int}/{action:str}", department_set_active, methods=["POST"]),
    Route("/admin/users", user_list, methods=["GET"]),
    Route("/admin/users/new", user_new, methods=["GET"]),
    Route("/admin/users/new", user_create, methods=["POST"]),
    Route("/admin/users/{id:int}/edit", user_edit, methods=["GET"]),
    Route("/admin/users/{id:int}/edit", user_update, methods=["POST"]),
    Route("/admin/users/{id:int}/password", user_reset_password, methods=["POST"]),
    Route("/admin/users/{id:int}/unlock", user_unlock, methods=["POST"]),
    Route("/admin/users/{id:int}/{action:str}", user_set_active, methods=["POST"]),
    Route("/admin/audit", audit_list, methods=["GET"]),
]
