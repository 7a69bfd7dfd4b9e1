"""Platform pages: home, health, readiness and error pages (jobs: web/jobs)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.schema_version import current_revision, head_revision
from web.common import actor_of
from web.templating import render, templates

__all__ = ["error_page", "routes"]


async def home(request: Request) -> Response:
    return render(request, "platform/home.html", {"page_title": "首页"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and is at the code's migration head."""
    db = request.app.state.db
    head = head_revision()
    try:
        async with db.async_engine.connect() as conn:
            current = await conn.run_sync(current_revision)
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__},
                            status_code=503)
    if current != head:
        return JSONResponse({"status": "unavailable", "database": "behind", "current": current, "head": head,
                             "detail": "the database is not at the latest migration: run `regwatch migrate`"},
                            status_code=503)
    return JSONResponse({"status": "ready", "database": "ok", "migration": current})


ERROR_HEADINGS = {
    400: ("请求有误", "请求的内容无法处理。"),
    401: ("需要登录", "请先登录后再访问此页面。"),
    403: ("没有权限", "您没有访问此页面或执行此操作的权限。"),
    404: ("页面不存在", "您访问的页面或对象不存在，或不在您的部门权限范围内。"),
    405: ("方法不允许", "此地址不支持该请求方法。"),
    409: ("操作冲突", "对象已被他人修改或当前状态不允许此操作，请刷新后重试。"),
    500: ("服务器错误", "服务器处理请求时出错，我们已记录此问题。"),
    503: ("服务暂不可用", "服务暂时不可用。"),
}


def error_page(request: Request, status_code: int, detail: str | None = None) -> Response:
    heading, default_detail = ERROR_HEADINGS.get(status_code, ("出错了", "请求未能完成。"))
    wants_html = "text/html" in request.headers.get("accept", "") or request.headers.get("hx-request")
    request_id = getattr(request.state, "request_id", None)
    if not wants_html:
        return JSONResponse({"error": heading, "detail": detail or default_detail, "requestId": request_id},
                            status_code=status_code)
    return templates.TemplateResponse(
        request, "platform/error.html",
        {"request": request, "status_code": status_code, "heading": heading, "detail": detail or default_detail,
         "request_id": request_id, "actor": actor_of(request), "csrf_token": getattr(request.state, "csrf_token", ""),
         "flashes": []},
        status_code=status_code)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, exc.detail if exc.detail not in (None, "") and
                      exc.detail != ERROR_HEADINGS.get(exc.status_code, ("",))[0] and
                      not exc.detail.startswith(("Not Found", "Method Not Allowed")) else None)


async def domain_exception(request: Request, exc: Exception) -> Response:
    from web.errors import domain_exception as by_class

    return await by_class(request, exc)


async def server_error(request: Request, exc: Exception) -> Response:
    return error_page(request, 500)


routes = [
    Route("/", home),
    Route("/healthz", healthz),
    Route("/readyz", readyz),
]
