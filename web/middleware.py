"""ASGI middleware: the edge of every HTTP request (request id and access log, security headers, 500s that keep
both, the request body limit, the schema-version guard, the session cookie) and the check of text from the address
bar and forms."""

from __future__ import annotations

import json
import logging
import os
import time
from base64 import b64decode, b64encode
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

import itsdangerous
from itsdangerous.exc import BadSignature
from starlette.datastructures import MutableHeaders, Secret
from starlette.middleware.sessions import Session
from starlette.requests import Request, cookie_parser
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.text import SEARCH_MAX_LENGTH, control_character_message, search_too_long_message

__all__ = [
    "BodyTooLarge",
    "EdgeMiddleware",
    "InputGuardMiddleware",
    "SessionCookies",
    "content_security_policy",
]

log = logging.getLogger("regwatch.http")


def content_security_policy() -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
    """What every response carries unless its view set the header itself."""
    headers = {
        "content-security-policy": content_security_policy(),
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
    }
    if hsts:
        headers["strict-transport-security"] = "max-age=31536000"
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class BodyTooLarge(Exception):
    """Raised from `receive` once a request body passes its limit; the edge middleware answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MB" if n >= 1 << 20 else f"{n / 1024:g} KB" if n >= 1024 else f"{n} 字节"


def _new_request_id() -> str:
    """A random UUID4 as 32 hex digits, like `uuid.uuid4().hex` at a quarter of its cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def _sane_request_id(incoming: bytes | None) -> str:
    if incoming is not None:
        text = incoming.decode("latin-1")
        if 8 <= len(text) <= 64 and text.replace("-", "").isalnum():
            return text
    return _new_request_id()


class SessionCookies:
    """The signed session cookie, as Starlette's SessionMiddleware keeps it (same cookie, same flags, same `Session`
    dict in `scope["session"]`), in two steps the edge middleware calls: `load` before the app, `store` on the app's
    response start. A response the edge makes itself (413, 503, the 500 page) never touches the cookie, as before when
    the session middleware sat inside the request-id, security-header, error, body-limit and schema-guard layers."""

    def __init__(self, secret_key: str | Secret, *, session_cookie: str = "session",
                 max_age: int | None = 14 * 24 * 60 * 60, path: str = "/",
                 same_site: Literal["lax", "strict", "none"] = "lax", https_only: bool = False,
                 domain: str | None = None) -> None:
        self.signer = itsdangerous.TimestampSigner(str(secret_key))
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.path = path
        self.security_flags = "httponly; samesite=" + same_site
        if https_only:  # Secure flag can be used with HTTPS only
            self.security_flags += "; secure"
        if domain is not None:
            self.security_flags += f"; domain={domain}"

    def load(self, scope: Scope, cookie_headers: list[bytes] | None) -> bool:
        """Put the session into the scope; True when the request brought none (or a badly signed one)."""
        if cookie_headers:
            cookies: dict[str, str] = {}
            for header in cookie_headers:
                cookies.update(cookie_parser(header.decode("latin-1")))
            if self.session_cookie in cookies:
                try:
                    data = self.signer.unsign(cookies[self.session_cookie].encode("utf-8"), max_age=self.max_age)
                except BadSignature:
                    pass
                else:
                    scope["session"] = Session(json.loads(b64decode(data)))
                    return False
        scope["session"] = Session()
        return True

    def store(self, message: Message, session: Session, initial_empty: bool) -> None:
        """Vary and Set-Cookie on a response start, exactly when Starlette's SessionMiddleware adds them."""
        if not (session.accessed or session.modified):  # the view never looked at it: nothing to say
            return
        message.setdefault("headers", [])
        headers = MutableHeaders(scope=message)
        if session.accessed:
            headers.add_vary_header("Cookie")
        if session.modified and session:
            data = self.signer.sign(b64encode(json.dumps(session).encode("utf-8")))
            max_age = f"Max-Age={self.max_age}; " if self.max_age is not None else ""
            headers.append("Set-Cookie", f"{self.session_cookie}={data.decode('utf-8')}; path={self.path}; "
                                         f"{max_age}{self.security_flags}")
        elif session.modified and not initial_empty:  # the session has been cleared
            headers.append("Set-Cookie", f"{self.session_cookie}=null; path={self.path}; "
                                         f"expires=Thu, 01 Jan 1970 00:00:00 GMT; {self.security_flags}")


class _Exchange:
    """One HTTP request at the edge: its id, what was answered, and the one `send` and one `receive` wrapper the
    app below is given."""

    __slots__ = ("edge", "limit", "raw_receive", "raw_send", "received", "request_id", "scope", "session_was_empty",
                 "stamp", "started", "started_at", "status")

    def __init__(self, edge: EdgeMiddleware, scope: Scope, receive: Receive, send: Send, request_id: str,
                 limit: int) -> None:
        self.edge = edge
        self.scope = scope
        self.raw_receive = receive
        self.raw_send = send
        self.request_id = request_id
        self.stamp = (b"x-request-id", request_id.encode("latin-1"))
        self.status = 500  # what the access log says when nothing was answered
        self.started = False
        self.limit = limit
        self.received = 0
        self.session_was_empty = True
        self.started_at = time.perf_counter()

    async def receive(self) -> Message:
        """The request body as it streams in, counted: past the limit is `BodyTooLarge`, never buffered further."""
        message = await self.raw_receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise BodyTooLarge(self.limit)
        return message

    async def send(self, message: Message) -> None:
        """The app's response: the session cookie, then the security headers and the request id."""
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            sessions = self.edge.sessions
            if sessions is not None:
                sessions.store(message, self.scope["session"], self.session_was_empty)
            self._stamp(message)
        await self.raw_send(message)

    async def send_own(self, message: Message) -> None:
        """A response of the edge itself (503, the 500 page): security headers and request id, no session cookie."""
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            self._stamp(message)
        await self.raw_send(message)

    def _stamp(self, message: Message) -> None:
        """A new header list (a view's Response keeps its own): the response's headers, the security headers it
        did not set itself, the request id."""
        edge = self.edge
        raw = message.get("headers") or ()
        for name, _ in raw:
            if name in edge.security_names:  # the view set one itself: add only the others
                present = {name for name, _ in raw}
                headers = [*raw, *(header for header in edge.security if header[0] not in present), self.stamp]
                break
        else:
            headers = [*raw, *edge.security, self.stamp]
        message["headers"] = headers


class EdgeMiddleware:
    """Everything an HTTP request meets before identity, in one layer with one `send` and one `receive` wrapper.

    In this order: an id for the request (kept from X-Request-ID when sane, returned as X-Request-ID, one access-log
    line when it ends); a `Content-Length` over the body limit (413) or not a number (400) refused before a byte is
    read; a database behind the code's migrations refused (503; health probes and static files still answer; once at
    head it stays there for the process); the session cookie read; then the app, whose body is counted as it streams
    in and refused (413) as soon as it passes the limit. Paths in `upload_paths` (file imports) get `upload_limit`.
    Every response carries the security headers (unless the view set one itself) and the request id, the 413s, the
    503 and the 500 page included; an unexpected exception is logged with the request id and becomes `respond`'s 500
    page when nothing was answered yet. Websocket and lifespan scopes pass through (websockets get the session).
    """

    SCHEMA_EXEMPT = ("/healthz", "/readyz", "/static/")

    def __init__(self, app: ASGIApp, *, database: Any, respond: Callable[[Request, Exception], Awaitable[Response]],
                 limit: int, upload_limit: int, upload_paths: tuple[str, ...] = (), hsts: bool = False,
                 sessions: SessionCookies | None = None) -> None:
        self.app = app
        self.db = database
        self.respond = respond
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths
        self.security = security_headers(hsts=hsts)
        self.security_names = frozenset(name for name, _ in self.security)
        self.sessions = sessions
        self._schema_ok = False

    def limit_for(self, path: str) -> int:
        return self.upload_limit if path in self.upload_paths else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and self.sessions is not None:
                self.sessions.load(scope, [v for k, v in scope["headers"] if k == b"cookie"])
            await self.app(scope, receive, send)
            return
        incoming = declared = None
        cookies: list[bytes] | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value  # the last one, as before
            elif name == b"content-length":
                if declared is None:
                    declared = value
            elif name == b"cookie":
                if cookies is None:
                    cookies = [value]
                else:
                    cookies.append(value)
        request_id = _sane_request_id(incoming)
        scope.setdefault("state", {})["request_id"] = request_id
        exchange = _Exchange(self, scope, receive, send, request_id, self.limit_for(scope["path"]))
        try:
            await self._guarded(exchange, declared, cookies)
        finally:
            self._log_access(exchange)

    async def _guarded(self, exchange: _Exchange, declared: bytes | None, cookies: list[bytes] | None) -> None:
        """The request, with an unexpected exception logged and answered by the 500 page."""
        scope = exchange.scope
        try:
            await self._serve(exchange, declared, cookies)
        except Exception as exc:
            log.error("unexpected error (request %s) %s %s", exchange.request_id, scope.get("method"),
                      scope.get("path"), exc_info=exc)
            if exchange.started:
                raise
            response = await self.respond(Request(scope, exchange.raw_receive), exc)
            await response(scope, exchange.raw_receive, exchange.send_own)

    async def _serve(self, exchange: _Exchange, declared: bytes | None, cookies: list[bytes] | None) -> None:
        scope = exchange.scope
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(exchange, 400, "Content-Length 头无效 (invalid Content-Length header)",
                                   "bad_request", None)
                return
            if int(declared) > exchange.limit:
                await self._refuse(exchange, 413, None, "body_too_large", exchange.limit)
                return
        if not self._schema_ok and not scope["path"].startswith(self.SCHEMA_EXEMPT):
            problem = await self._schema_problem()
            if problem is not None:
                log.error("refusing to serve: %s", problem)
                await PlainTextResponse(problem, status_code=503)(scope, exchange.raw_receive, exchange.send_own)
                return
        if self.sessions is not None:
            exchange.session_was_empty = self.sessions.load(scope, cookies)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except BodyTooLarge as exc:
            if exchange.started:  # the app answered before reading the rest; nothing more to say
                return
            await self._refuse(exchange, 413, None, "body_too_large", exc.limit)

    async def _schema_problem(self) -> str | None:
        """None when the database is at the code's head revision (remembered: it stays there for this process)."""
        from domain.schema_version import current_revision, head_revision

        head = head_revision()
        async with self.db.async_engine.connect() as conn:
            current = await conn.run_sync(current_revision)
        if current == head:
            self._schema_ok = True
            return None
        return f"数据库版本为 {current or '空'}，程序需要 {head}：请先运行 `regwatch migrate`。"

    @staticmethod
    async def _refuse(exchange: _Exchange, status: int, message: str | None, code: str, limit: int | None) -> None:
        scope = exchange.scope
        if message is None and limit is not None:
            message = (f"请求内容过大：此地址最多接受 {_size(limit)} (request body larger than {limit} bytes; "
                       "see REGWATCH_MAX_BODY_BYTES / REGWATCH_MAX_UPLOAD_BYTES)")
        extensions: dict[str, object] = {"code": code}
        if limit is not None:
            extensions["limit"] = limit
        body = json.dumps({"errors": [{"message": message, "extensions": extensions}]},
                          ensure_ascii=False).encode()
        log.info("refused request body: %s %s (%s)", scope.get("method"), scope.get("path"), code)
        await exchange.send_own({"type": "http.response.start", "status": status,
                                 "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                             (b"content-length", str(len(body)).encode()),
                                             (b"connection", b"close")]})
        await exchange.raw_send({"type": "http.response.body", "body": body})

    @staticmethod
    def _log_access(exchange: _Exchange) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        scope = exchange.scope
        client = scope.get("client") or ("-", 0)
        log.info(
            "request",
            extra={
                "request_id": exchange.request_id,
                "method": scope["method"],
                "path": scope["path"],
                "status": exchange.status,
                "duration_ms": round((time.perf_counter() - exchange.started_at) * 1000, 1),
                "client": client[0],
            },
        )


ErrorResponder = Callable[[Request, int, str], Response]
SEARCH_PARAMS = frozenset({"q", "search", "actor", "object_id"})


class InputGuardMiddleware:
    """Text from the address bar and from forms, checked once for every page before a view sees it: a control
    character (NUL and the like) in the path, a query parameter or a form field, or a search string longer than
    `SEARCH_MAX_LENGTH`, is a 400 that names the field — the same on both databases, never a 500.

    GraphQL checks its own arguments and variables (api/limits.py); multipart bodies (file uploads) are the
    importer's to judge, row by row.
    """

    EXEMPT = ("/graphql", "/static/")

    def __init__(self, app: ASGIApp, *, respond: ErrorResponder) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        problem = self._address_problem(scope)
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        if problem is None and content_type.startswith(b"application/x-www-form-urlencoded"):
            body = await _read_all(receive)
            problem = _form_problem(body)
            receive = _replaying(body, receive)
        if problem is not None:
            log.info("refused input: %s %s (%s)", scope.get("method"), scope["path"], problem)
            await self.respond(Request(scope, receive), 400, problem)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _address_problem(scope: Scope) -> str | None:
        path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        problem = control_character_message(unquote(path), "访问地址", "path")
        if problem:
            return problem
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"):
            problem = control_character_message(value, f"参数 {name} ", name) or control_character_message(
                name, "参数名", "parameter name")
            if problem is None and name in SEARCH_PARAMS:
                problem = search_too_long_message(value, "搜索内容", name, SEARCH_MAX_LENGTH)
            if problem:
                return problem
        return None


def _form_problem(body: bytes) -> str | None:
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                                 errors="replace"):
        problem = control_character_message(value, f"字段 {name} ", name)
        if problem:
            return problem
    return None


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
