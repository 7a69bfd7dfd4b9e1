"""The edge middleware (web/middleware.py EdgeMiddleware): request id and access log, security headers, the 500 page,
the body limit, the schema-version guard and the session cookie in one layer, on every kind of answer."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from itsdangerous import TimestampSigner
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from domain.db import Database
from tests.api.identity.factories import bearer
from tests.support import create_database, drop_database
from web.middleware import EdgeMiddleware, SessionCookies

HTML = {"accept": "text/html"}
JSON = {"content-type": "application/json"}
RID = "edge-test-0123456789"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def named(self, message: str) -> list[logging.LogRecord]:
        return [r for r in self.records if r.getMessage() == message]


@pytest.fixture
def http_log() -> Iterator[_Records]:
    """What the edge logs to `regwatch.http` (which does not propagate to the root logger), at INFO."""
    logger = logging.getLogger("regwatch.http")
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def small_app(settings, db):
    from regwatch_app import create_app

    return create_app(dataclasses.replace(settings, env="prod", max_body_bytes=4096, max_upload_bytes=64 * 1024),
                      run_jobs=False, database=db)


@pytest.fixture
async def small_client(small_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small_app), base_url="http://testserver") as c:
        yield c


def _edge_headers(response: httpx.Response, request_id: str | None = RID) -> None:
    """The request id (the caller's, when given) and the security headers, each exactly once."""
    assert response.headers.get_list("x-request-id") == ([request_id] if request_id else [response.headers[
        "x-request-id"]])
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"


async def test_a_declared_413_carries_the_request_id_the_security_headers_and_hsts_in_prod(small_client):
    response = await small_client.post("/login", content="a=" + "b" * 10_000,
                                       headers={"content-type": "application/x-www-form-urlencoded",
                                                "x-request-id": RID})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "body_too_large", "limit": 4096}
    _edge_headers(response)
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert "set-cookie" not in response.headers  # refused before the session was read


async def test_a_chunked_body_over_the_limit_is_a_413_with_the_request_id_and_one_log_line(small_client, http_log):
    offered = 0

    async def chunks():
        nonlocal offered
        for _ in range(200):  # no Content-Length: counted while it streams in
            offered += 1
            yield b"x" * 1024

    response = await small_client.post("/graphql", content=chunks(), headers={**JSON, "x-request-id": RID})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "body_too_large", "limit": 4096}
    assert "请求内容过大：此地址最多接受 4 KB" in response.json()["errors"][0]["message"]
    _edge_headers(response)
    assert "set-cookie" not in response.headers
    assert offered <= 6
    [line] = http_log.named("request")
    assert (line.request_id, line.status, line.path) == (RID, 413, "/graphql")


async def test_a_400_for_an_invalid_content_length_carries_the_request_id(small_client):
    response = await small_client.post("/graphql", content=b"{}", headers={**JSON, "content-length": "12x",
                                                                           "x-request-id": RID})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "bad_request"}
    _edge_headers(response)


async def test_an_unexpected_500_keeps_the_callers_request_id_logs_it_and_sets_no_cookie(app, auth_client,
                                                                                         http_log):
    async def broken(request):
        request.session["touched"] = True  # a session change of the failed request is not sent
        raise RuntimeError("boom")

    app.router.routes.append(Route("/_broken", broken))
    http_log.records.clear()  # signing in was logged too
    response = await auth_client.get("/_broken", headers={**HTML, "x-request-id": RID})
    assert response.status_code == 500 and RID in response.text and "boom" not in response.text
    _edge_headers(response)
    assert "set-cookie" not in response.headers
    [error] = http_log.named(f"unexpected error (request {RID}) GET /_broken")
    assert error.exc_info and isinstance(error.exc_info[1], RuntimeError)
    [line] = http_log.named("request")
    assert (line.request_id, line.status) == (RID, 500)


async def test_one_access_log_line_per_request_with_its_fields(client, http_log):
    first = await client.get("/healthz", headers={"x-request-id": RID})
    second = await client.get("/nowhere", headers={**HTML, "x-request-id": "not sane!"})
    lines = http_log.named("request")
    assert len(lines) == 2
    for line, response, path in ((lines[0], first, "/healthz"), (lines[1], second, "/nowhere")):
        assert line.request_id == response.headers["x-request-id"]
        assert (line.method, line.path, line.status) == ("GET", path, response.status_code)
        assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
        assert line.client == "127.0.0.1"
    assert lines[0].request_id == RID
    assert lines[1].request_id != "not sane!" and len(lines[1].request_id) == 32  # a fresh one instead


async def test_a_header_the_view_set_is_kept_and_never_doubled(app, auth_client):
    async def framed(request):
        return PlainTextResponse("ok", headers={"X-Frame-Options": "SAMEORIGIN",
                                                "Content-Security-Policy": "default-src 'none'"})

    app.router.routes.append(Route("/_framed", framed))
    response = await auth_client.get("/_framed")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("content-security-policy") == ["default-src 'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_response_object_served_twice_collects_no_headers(app, auth_client):
    shared = JSONResponse({"ok": True})
    before = list(shared.raw_headers)

    async def cached(request):
        return shared

    app.router.routes.append(Route("/_cached", cached))
    for _ in range(2):
        response = await auth_client.get("/_cached")
        assert response.status_code == 200
        assert len(response.headers.get_list("x-request-id")) == 1
        assert len(response.headers.get_list("content-security-policy")) == 1
    assert shared.raw_headers == before


# ---- the schema-version guard ------------------------------------------------------------------------------------

@pytest.fixture
def unmigrated_app(settings, tmp_path):
    from regwatch_app import create_app

    url = create_database(tmp_path, "empty")
    db = Database(url)
    yield create_app(dataclasses.replace(settings, database_url=url), run_jobs=False, database=db)
    db.dispose()
    drop_database(url)


async def test_the_schema_guard_503_carries_the_request_id_and_the_security_headers(unmigrated_app, http_log):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=unmigrated_app), base_url="http://t") as c:
        page = await c.get("/", headers={**HTML, "x-request-id": RID})
        asset = await c.get("/static/css/app.css")
    assert page.status_code == 503 and "regwatch migrate" in page.text
    _edge_headers(page)
    assert "set-cookie" not in page.headers
    assert asset.status_code == 200  # exempt
    assert [r.status for r in http_log.named("request")] == [503, 200]


async def test_once_the_schema_is_at_head_it_is_not_checked_again(client, monkeypatch):
    import domain.schema_version as schema_version

    calls = []
    real = schema_version.current_revision

    def counting(connection):
        calls.append(1)
        return real(connection)

    monkeypatch.setattr(schema_version, "current_revision", counting)
    for _ in range(3):
        assert (await client.get("/login", headers=HTML)).status_code == 200
    assert len(calls) == 1


# ---- the session cookie -----------------------------------------------------------------------------------------

async def test_a_cookieless_page_visit_gets_a_session_cookie_with_its_csrf_token(client, settings):
    response = await client.get("/login", headers=HTML)
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("regwatch_session=") and "httponly; samesite=lax" in cookie
    assert f"Max-Age={settings.session_max_age};" in cookie and "secure" not in cookie  # dev: no Secure flag
    assert "Cookie" in response.headers["vary"]
    value = cookie.split(";")[0].split("=", 1)[1]
    session = json.loads(base64.b64decode(TimestampSigner(settings.secret_key).unsign(value)))
    assert session["csrf"] and f'value="{session["csrf"]}"' in response.text


async def test_the_session_cookie_is_secure_in_prod(small_client):
    response = await small_client.get("/login", headers=HTML)
    assert "; secure" in response.headers["set-cookie"]


async def test_a_bearer_graphql_call_without_a_cookie_gets_no_cookie(client, api_token):
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=bearer(api_token))
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}
    assert "set-cookie" not in response.headers and "vary" not in response.headers
    _edge_headers(response, None)


async def test_a_signed_session_is_read_and_a_cleared_one_expires_the_cookie(app, auth_client):
    async def whoami(request):
        return JSONResponse({"uid": request.session.get("uid")})

    async def forget(request):
        request.session.clear()
        return PlainTextResponse("bye")

    app.router.routes.extend([Route("/_whoami", whoami), Route("/_forget", forget)])
    assert (await auth_client.get("/_whoami")).json()["uid"] is not None
    unchanged = await auth_client.get("/_whoami")
    assert "set-cookie" not in unchanged.headers  # read, not written: no new cookie
    cleared = await auth_client.get("/_forget")
    cookie = cleared.headers["set-cookie"]
    assert cookie.startswith("regwatch_session=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT;")


async def test_a_badly_signed_cookie_is_an_empty_session(client, settings):
    client.cookies.set("regwatch_session", "forged.value.sig")
    response = await client.get("/login", headers=HTML)
    assert response.status_code == 200
    value = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    session = json.loads(base64.b64decode(TimestampSigner(settings.secret_key).unsign(value)))
    assert set(session) == {"csrf"}  # a fresh session, with a new CSRF token


# ---- websocket and lifespan scopes ------------------------------------------------------------------------------

def _edge(inner, sessions: SessionCookies | None = None) -> EdgeMiddleware:
    async def respond(request, exc):
        return Response("error", status_code=500)

    edge = EdgeMiddleware(inner, database=None, respond=respond, limit=10, upload_limit=10, sessions=sessions)
    edge._schema_ok = True  # no database here: taken as at head
    return edge


async def test_lifespan_scopes_pass_through_untouched():
    seen = []

    async def inner(scope, receive, send):
        seen.append((scope, receive, send))

    async def receive():
        return {"type": "lifespan.startup"}

    async def send(message):
        pass

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await _edge(inner, SessionCookies("k" * 32))(scope, receive, send)
    assert seen == [(scope, receive, send)] and scope == {"type": "lifespan", "asgi": {"version": "3.0"}}


async def test_websockets_pass_through_with_their_session():
    sessions = SessionCookies("k" * 32, session_cookie="regwatch_session")
    signed = TimestampSigner("k" * 32).sign(base64.b64encode(json.dumps({"uid": 7}).encode())).decode()
    seen = []

    async def inner(scope, receive, send):
        seen.append((dict(scope["session"]), receive, send, scope.get("state")))

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        pass

    scope = {"type": "websocket", "path": "/graphql", "headers": [(b"cookie", f"regwatch_session={signed}".encode())]}
    await _edge(inner, sessions)(scope, receive, send)
    assert seen == [({"uid": 7}, receive, send, None)]  # the very receive and send: no wrapper, no request id


async def test_an_exception_after_the_response_started_is_logged_and_raised_with_the_status_logged(http_log):
    sent = []

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("half way")

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [(b"x-request-id", RID.encode())]}
    with pytest.raises(RuntimeError, match="half way"):
        await _edge(inner)(scope, receive, send)
    assert [m["status"] for m in sent] == [200] and (b"x-request-id", RID.encode()) in sent[0]["headers"]
    assert [r.getMessage() for r in http_log.records] == [f"unexpected error (request {RID}) GET /x", "request"]
    assert http_log.records[1].status == 200


async def test_above_info_no_access_log_line_is_made_at_all(http_log):
    logging.getLogger("regwatch.http").setLevel(logging.WARNING)

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        pass

    # no method and no client in the scope: building the log line's fields would fail
    await _edge(inner)({"type": "http", "path": "/x", "headers": []}, None, send)
    assert http_log.records == []


async def test_of_two_request_ids_the_last_is_kept_and_a_shared_header_list_is_not_changed():
    shared = [(b"content-type", b"text/plain")]
    sent = []

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": shared})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "client": ("10.0.0.1", 1),
             "headers": [(b"x-request-id", b"first-aaaaaaaa"), (b"x-request-id", b"second-bbbbbbbb")]}
    await _edge(inner)(scope, None, send)
    assert scope["state"]["request_id"] == "second-bbbbbbbb"
    assert sent[0]["headers"][0] == (b"content-type", b"text/plain")
    assert sent[0]["headers"][-1] == (b"x-request-id", b"second-bbbbbbbb")
    assert shared == [(b"content-type", b"text/plain")]
