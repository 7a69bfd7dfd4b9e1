"""Who is calling, once per request: the session cookie or a bearer token, re-read from the database.

Also enforces CSRF on state-changing requests that ride on the session cookie, and sends anonymous
visitors of the pages to the login page. Sits inside the edge middleware (web/middleware.py), which reads the
session cookie into the scope.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.db import Database
from domain.identity.actor import ANONYMOUS, Actor
from domain.identity.models import User
from domain.identity.sessions import session_actor
from domain.identity.tokens import token_actor

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PENDING_TOKEN",
    "TOKEN_CHECKED_BY_VIEW",
    "IdentityMiddleware",
    "end_session",
    "safe_next",
    "start_session",
    "token_refusal",
]

SESSION_USER, SESSION_VERSION, SESSION_AUTH_AT, SESSION_CSRF = "uid", "sv", "at", "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_PATHS = frozenset({"/login", "/healthz", "/readyz", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Paths whose view checks a bearer token itself (api/view.py: GraphQL over HTTP), in the request's own unit of work;
# the token waits in the request state under PENDING_TOKEN and the caller is anonymous until the view has read it.
TOKEN_CHECKED_BY_VIEW = frozenset({"/graphql"})
PENDING_TOKEN = "pending_bearer_token"
TOKEN_PROBLEMS = {
    "unknown": "令牌无效 (invalid token)",
    "revoked": "令牌已撤销 (token revoked)",
    "expired": "令牌已过期 (token expired)",
    "inactive_user": "令牌所属用户已停用 (the token's user is deactivated)",
    "malformed": "Authorization 头格式应为 Bearer <token> (expected Authorization: Bearer <token>)",
}


def start_session(request: Request, user: User) -> None:
    """Sign `user` in on this browser: a fresh session with a new CSRF token."""
    flashes = request.session.get("_flashes")
    request.session.clear()
    request.session.update({SESSION_USER: user.id, SESSION_VERSION: user.session_version,
                            SESSION_AUTH_AT: int(time.time()), SESSION_CSRF: secrets.token_urlsafe(32)})
    if flashes:
        request.session["_flashes"] = flashes


def renew_session_version(request: Request, version: int) -> None:
    """Keep this browser signed in after a change (own password) that ended the user's other sessions."""
    request.session[SESSION_VERSION] = version


def end_session(request: Request) -> None:
    request.session.clear()
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return default
    if parts.path in ("/login", "/logout"):
        return default
    return target


def _problem(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def token_refusal(problem: str) -> Response:
    """The 401 for a bearer token that is malformed, unknown, revoked, expired or whose user is deactivated."""
    return _problem(401, TOKEN_PROBLEMS.get(problem, TOKEN_PROBLEMS["unknown"]), "unauthenticated",
                    {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{problem}"'})


class IdentityMiddleware:
    def __init__(self, app: ASGIApp, *, database: Database, session_max_age: int) -> None:
        self.app = app
        self.db = database
        self.max_age = session_max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(PUBLIC_PREFIXES) \
                or scope["path"] in ("/healthz", "/readyz"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        request_id = state.get("request_id")
        client_addr = (scope.get("client") or (None, 0))[0]
        headers = Headers(scope=scope)
        session: dict[str, Any] = scope.get("session", {})

        authorization = headers.get("authorization")
        via = "anonymous"
        actor: Actor = ANONYMOUS.with_request(request_id, client_addr)
        if authorization:
            scheme, _, credential = authorization.partition(" ")
            problem = "malformed" if scheme.lower() != "bearer" or not credential.strip() else None
            if (problem is None and scope["type"] == "http" and scope["path"] in TOKEN_CHECKED_BY_VIEW
                    and scope["method"] in ("GET", "POST")):
                # checked by the view in the unit of work of the request itself (one worker-thread hop, one
                # session): the token is re-read there before anything runs, and refused as here
                state[PENDING_TOKEN] = credential
                via = "token"
            elif problem is None:
                check = await self.db.run(token_actor, credential, request_id=request_id, client_addr=client_addr)
                problem = check.problem
                if check.actor is not None:
                    actor, via = check.actor, "token"
            if problem is not None:
                await self._refuse_token(scope, receive, send, problem)
                return
        else:
            actor, via = await self._session_actor(session, actor, request_id, client_addr)
            if SESSION_CSRF not in session:
                session[SESSION_CSRF] = secrets.token_urlsafe(32)
            state["csrf_token"] = session[SESSION_CSRF]
        state["actor"] = actor
        state["auth_via"] = via

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if via != "token" and method in UNSAFE_METHODS and self._needs_csrf(scope, via):
            ok, receive = await self._csrf_ok(scope, receive, headers, session.get(SESSION_CSRF))
            if not ok:
                await self._csrf_refused(scope, receive, send)
                return
        if not actor.is_authenticated and PENDING_TOKEN not in state and self._needs_login(scope, headers):
            await self._to_login(scope, headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _session_actor(self, session: dict[str, Any], anonymous: Actor, request_id: str | None,
                             client_addr: str | None) -> tuple[Actor, str]:
        user_id, version = session.get(SESSION_USER), session.get(SESSION_VERSION)
        auth_at = session.get(SESSION_AUTH_AT)
        if user_id is None:
            return anonymous, "anonymous"
        if not isinstance(auth_at, int) or time.time() - auth_at > self.max_age:
            _drop_auth(session)  # expired: the cookie may be re-signed on every response, the login time is not
            return anonymous, "anonymous"
        actor = await self.db.run(session_actor, int(user_id), int(version or 0), request_id=request_id,
                                  client_addr=client_addr)
        if actor is None:
            _drop_auth(session)
            return anonymous, "anonymous"
        return actor, "session"

    @staticmethod
    def _needs_csrf(scope: Scope, via: str) -> bool:
        # Anonymous GraphQL calls carry no ambient authority (serverInfo only); pages always need the token,
        # the login form included (login CSRF).
        return via == "session" or scope["path"] != "/graphql"

    @staticmethod
    async def _csrf_ok(scope: Scope, receive: Receive, headers: Headers, expected: str | None) -> tuple[bool, Receive]:
        if not expected:
            return False, receive
        sent = headers.get(CSRF_HEADER)
        if sent is not None:
            return secrets.compare_digest(sent.encode(), expected.encode()), receive
        content_type = headers.get("content-type", "")
        if not content_type.startswith(FORM_TYPES):
            return False, receive
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = await _read_body(receive)  # a small form: the body limit in front bounds it
            replay = _replay(body, receive)
            values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(CSRF_FIELD, [])
        else:
            value, replay = await _multipart_csrf(content_type, receive)
            values = [value] if value is not None else []
        ok = bool(values) and secrets.compare_digest(values[0].encode(), expected.encode())
        return ok, replay

    async def _csrf_refused(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        message = "CSRF 校验失败：请求缺少有效的 CSRF 令牌。请刷新页面后重试。"
        if "text/html" in request.headers.get("accept", "") and scope["path"] != "/graphql":
            from web.platform.views import error_page

            response = error_page(request, 403, message)
        else:
            response = _problem(403, message + " (CSRF token missing or invalid)", "csrf")
        await response(scope, receive, send)

    @staticmethod
    async def _refuse_token(scope: Scope, receive: Receive, send: Send, problem: str) -> None:
        await token_refusal(problem)(scope, receive, send)

    @staticmethod
    def _needs_login(scope: Scope, headers: Headers) -> bool:
        path = scope["path"]
        if path in PUBLIC_PATHS:
            return False
        if path == "/graphql":
            # GraphQL answers anonymous callers itself; only the GraphiQL page in a browser goes to login.
            return (scope["method"] == "GET" and "text/html" in headers.get("accept", "")
                    and b"query=" not in scope.get("query_string", b""))
        return True

    @staticmethod
    def _to_login(scope: Scope, headers: Headers) -> Response:
        if headers.get("hx-request") == "true":
            current = headers.get("hx-current-url", "")
            parts = urlsplit(current)
            back = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
            return Response(status_code=401, headers={"HX-Redirect": f"/login?next={quote(back, safe='/')}"})
        query = scope.get("query_string", b"").decode("latin-1")
        back = safe_next(scope["path"] + (f"?{query}" if query else ""))
        target = "/login" if back == "/" else f"/login?next={quote(back, safe='/')}"
        if scope["method"] in ("GET", "HEAD"):
            return RedirectResponse(target, status_code=303)
        return Response(json.dumps({"errors": [{"message": "请先登录 (sign in first)",
                                                "extensions": {"code": "unauthenticated"}}]}),
                        status_code=401, media_type="application/json")


def _drop_auth(session: dict[str, Any]) -> None:
    for key in (SESSION_USER, SESSION_VERSION, SESSION_AUTH_AT):
        session.pop(key, None)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


CSRF_SCAN_LIMIT = 64 * 1024  # the token field comes first in our forms; never read further into an upload for it


async def _multipart_csrf(content_type: str, receive: Receive) -> tuple[str | None, Receive]:
    """The CSRF token of a multipart form, read from the stream only as far as the token field (or the first file,
    or `CSRF_SCAN_LIMIT` bytes), so an upload is never buffered here; what was read is replayed to the view."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    chunks: list[bytes] = []
    more = True
    if not boundary:
        return None, receive
    part: dict[str, Any] = {}
    found: dict[str, Any] = {"value": None, "stop": False}

    def on_part_begin() -> None:
        part.clear()
        part.update(header=b"", value=b"", disposition=b"", data=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part["value"] += data[start:end]

    def on_header_end() -> None:
        if part["header"].lower() == b"content-disposition":
            part["disposition"] = part["value"]
        part["header"], part["value"] = b"", b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(part["disposition"])
        part["name"] = options.get(b"name", b"").decode("latin-1")
        if b"filename" in options:
            found["stop"] = True  # a file before the token: no token to be found without reading the file

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.get("name") == CSRF_FIELD and len(part["data"]) < 1024:
            part["data"].extend(data[start:end])

    def on_part_end() -> None:
        if part.get("name") == CSRF_FIELD and found["value"] is None:
            found["value"] = part["data"].decode("latin-1")
            found["stop"] = True

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end})
    read = 0
    try:
        while more and not found["stop"] and read < CSRF_SCAN_LIMIT:
            message: Message = await receive()
            if message["type"] != "http.request":
                more = False
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            read += len(chunk)
            more = message.get("more_body", False)
            parser.write(chunk)
    except Exception:  # a malformed body: no token; the view (if it ever runs) reports the form itself
        found["value"] = None
    consumed = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": consumed, "more_body": more}
        return await receive()

    return found["value"], replay


def _replay(body: bytes, receive: Receive) -> Receive:
    done = False

    async def replay() -> Message:
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
