"""Text from outside is checked at the boundary: control characters (NUL …) in paths, search boxes, form fields and
GraphQL arguments get a 400 or a typed error naming the field, on both databases; search strings have a length cap;
an unexpected 500 keeps the security headers and the request id (issue 8 points 7, 8, 10)."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from tests.api.identity.factories import bearer
from tests.web.identity.factories import csrf_token

HTML = {"accept": "text/html"}


@pytest.mark.parametrize("url", [
    "/admin/departments?q=a%00b",
    "/admin/users?q=a%00b",
    "/entities?search=a%00b",
    "/items?search=a%00b",
    "/admin/audit?actor=a%00b",
    "/admin/audit?object_id=%1b%5b2J",
])
async def test_a_control_character_in_a_search_box_is_a_400_that_names_it(auth_client, url):
    response = await auth_client.get(url, headers=HTML)
    assert response.status_code == 400, response.text[:300]
    assert "不可见的控制字符" in response.text
    name = url.split("?")[1].split("=")[0]
    assert f"参数 {name}" in response.text


async def test_a_control_character_in_a_path_is_a_400(auth_client):
    response = await auth_client.get("/entities/a%00b", headers=HTML)
    assert response.status_code == 400
    assert "访问地址" in response.text and "U+0000" in response.text


async def test_a_nul_in_the_login_username_is_a_400_not_a_server_error(client):
    token = await csrf_token(client)
    response = await client.post("/login", data={"username": "ad\x00min", "password": "x", "csrf_token": token},
                                 headers=HTML)
    assert response.status_code == 400
    assert "字段 username" in response.text and "U+0000" in response.text


async def test_a_search_of_fifty_thousand_characters_is_refused_with_a_clear_message(auth_client):
    response = await auth_client.get("/entities", params={"search": "a" * 50_000}, headers=HTML)
    assert response.status_code == 400
    assert "搜索内容过长：最多 100 个字符，收到 50000 个" in response.text
    ok = await auth_client.get("/entities", params={"search": "苏州" * 50}, headers=HTML)
    assert ok.status_code == 200


async def test_graphql_string_arguments_and_variables_with_control_characters_are_typed_errors(client, api_token):
    auth = bearer(api_token)
    literal = await client.post("/graphql", json={"query": '{ entities(search: "a\\u0000b") { totalCount } }'},
                                headers=auth)
    error = literal.json()["errors"][0]
    assert error["extensions"] == {"code": "control_character", "field": "search"}
    assert "参数 search 的第 2 个字符是不可见的控制字符（U+0000）" in error["message"]
    variable = await client.post("/graphql", json={
        "query": "query($s: String) { departments(search: $s) { totalCount } }", "variables": {"s": "x\x00"}},
        headers=auth)
    assert variable.json()["errors"][0]["extensions"] == {"code": "control_character", "field": "$s"}
    long = await client.post("/graphql", json={
        "query": "query($s: String) { entities(search: $s) { totalCount } }", "variables": {"s": "a" * 50_000}},
        headers=auth)
    assert long.json()["errors"][0]["extensions"] == {"code": "search_too_long", "field": "$s"}


async def test_an_unexpected_500_keeps_the_security_headers_and_the_request_id(app, auth_client):
    async def broken(request):
        raise RuntimeError("boom")

    app.router.routes.append(Route("/_broken", broken))
    response = await auth_client.get("/_broken", headers=HTML)
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert len(request_id) >= 8 and request_id in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "boom" not in response.text
