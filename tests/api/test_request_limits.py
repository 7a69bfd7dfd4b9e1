"""Request limits that come before any parsing or authentication: body size (streamed), malformed and deep JSON."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

JSON = {"content-type": "application/json"}


@pytest.fixture
def small_app(settings, db):
    from regwatch_app import create_app

    return create_app(dataclasses.replace(settings, max_body_bytes=4096, max_upload_bytes=64 * 1024),
                      run_jobs=False, database=db)


@pytest.fixture
async def small_client(small_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small_app), base_url="http://testserver") as c:
        yield c


def _refused(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "body_too_large", "limit": limit}
    assert "请求内容过大" in error["message"]
    assert response.headers["x-request-id"] and response.headers["x-content-type-options"] == "nosniff"


async def test_a_declared_body_over_the_limit_is_refused_before_authentication_or_csrf(small_client):
    body = json.dumps({"query": "{ serverInfo { version } }", "pad": "x" * 10_000})
    _refused(await small_client.post("/graphql", content=body, headers=JSON), 4096)
    # a form post without CSRF token would be a 403 — the size is checked first
    _refused(await small_client.post("/login", content="username=a&password=" + "b" * 10_000,
                                     headers={"content-type": "application/x-www-form-urlencoded"}), 4096)


async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit_not_read_whole(small_client):
    sent = 0

    async def chunks():
        nonlocal sent
        for _ in range(1000):  # 1000 × 1 KB offered, no Content-Length
            sent += 1
            yield b"x" * 1024

    _refused(await small_client.post("/graphql", content=chunks(), headers=JSON), 4096)
    assert sent <= 6  # stopped just past 4 KB, the other ~994 KB never read


async def test_a_body_under_the_limit_is_answered_normally(small_client):
    response = await small_client.post("/graphql", json={"query": "{ serverInfo { version } }"})
    assert response.status_code == 200 and "errors" not in response.json()


async def test_uploads_have_their_own_larger_limit(small_client):
    files = {"file": ("a.csv", b"x" * 20_000, "text/csv")}
    response = await small_client.post("/imports", files=files)
    assert response.status_code != 413  # 20 KB: over the form limit, under the upload limit (then: sign in first)
    _refused(await small_client.post("/imports", files={"file": ("a.csv", b"x" * 100_000, "text/csv")}), 64 * 1024)


async def test_an_invalid_content_length_is_a_bad_request(small_client):
    response = await small_client.post("/graphql", content=b"{}", headers={**JSON, "content-length": "abc"})
    assert response.status_code == 400


async def test_json_nested_a_hundred_thousand_deep_is_a_400_not_a_500(client):
    deep = '{"query": "{ serverInfo { version } }", "variables": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    response = await client.post("/graphql", content=deep, headers=JSON)
    assert response.status_code == 400
    assert "嵌套过深" in response.json()["errors"][0]["message"]


async def test_malformed_json_is_a_400_that_says_where(client):
    response = await client.post("/graphql", content='{"query": ', headers=JSON)
    assert response.status_code == 400
    assert "不是合法的 JSON" in response.json()["errors"][0]["message"]
