"""Signing in and out, and the signed-in user's own account (password change)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from domain.identity import sessions, users
from domain.identity.models import User
from domain.identity.passwords import MIN_LENGTH
from domain.identity.policy import ROLE_LABELS
from web.common import actor_of, read, redirect_after_post, run
from web.forms import validate_or_save
from web.identity.middleware import end_session, renew_session_version, safe_next, start_session
from web.templating import flash, render

__all__ = ["routes"]


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


async def _account_page(request: Request, errors: dict[str, str]) -> Response:
    row = await read(request, users.get_user, actor_of(request).user_id)
    return render(request, "identity/account.html", {
        "me": row.user, "department": row.department, "errors": errors, "role_labels": ROLE_LABELS,
        "min_length": MIN_LENGTH, "active": None, "page_title": "我的账户"}, block="password_form")


async def account(request: Request) -> Response:
    return await _account_page(request, {})


async def account_password(request: Request) -> Response:
    form = await request.form()
    new_password = str(form.get("new_password", ""))
    mismatch = ({"confirm_password": "两次输入的新密码不一致"}
                if new_password != str(form.get("confirm_password", "")) else {})

    def saved(user: User) -> Response:
        renew_session_version(request, user.session_version)
        return redirect_after_post(request, "/account", message="密码已修改。您在其他设备上的登录已失效。")

    return await validate_or_save(request, form, users.change_own_password, str(form.get("current_password", "")),
                                  new_password, show=lambda errors: _account_page(request, errors), saved=saved,
                                  extra_errors=mismatch)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account", account, methods=["GET"]),
    Route("/account/password", account_password, methods=["POST"]),
]
