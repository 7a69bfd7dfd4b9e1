"""Pages map a domain error to its HTTP status once, by the error's class (issue 10 point 7)."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated


@pytest.mark.parametrize(("error", "status"), [
    (Conflict("不能停用或撤销最后一个启用的系统管理员", field="roles", code="last_admin"), 409),
    (Conflict("已撤销", code="revoked"), 409),
    (NotFound("没有这个部门", code="no_department"), 404),
    (Forbidden("无权操作", code="not_your_department"), 403),
    (Unauthenticated("请先登录", code="session_expired"), 401),
    (InvalidInput("格式不对", field="code", code="bad_code"), 400),
])
async def test_a_domain_error_a_page_lets_through_answers_by_its_class(app, auth_client, error: DomainError,
                                                                      status: int):
    async def raising(request):
        raise error

    app.router.routes.append(Route("/_raise", raising))
    response = await auth_client.get("/_raise", headers={"accept": "text/html"})
    assert response.status_code == status
    assert error.message in response.text
    assert response.headers["x-request-id"] and "default-src 'self'" in response.headers["content-security-policy"]
