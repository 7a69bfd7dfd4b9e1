"""ASGI middleware: request id and access log, security headers, 500s that keep both, the request body limit, the
schema-version guard, and the check of text from the address bar and forms."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, unquote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.text import SEARCH_MAX_LENGTH, control_character_message, search_too_long_message

__all__ = [
    "BodyLimitMiddleware",
    "BodyTooLarge",
    "InputGuardMiddleware",
    "RequestContextMiddleware",
    "SecurityHeadersMiddleware",
    "ServerErrorGuard",
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


class RequestContextMiddleware:
    """Gives every request an id (kept from X-Request-ID when sane), returns it, logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client") or ("-", 0)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "client": client[0],
                },
            )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": content_security_policy(),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SchemaGuardMiddleware:
    """Refuse to serve (503) a database behind the code's migrations; health probes still answer."""

    EXEMPT = ("/healthz", "/readyz", "/static/")

    def __init__(self, app: ASGIApp, *, database) -> None:
        self.app = app
        self.db = database
        self._ok = False

    async def _check(self) -> str | None:
        from domain.schema_version import current_revision, head_revision

        head = head_revision()
        async with self.db.async_engine.connect() as conn:
            current = await conn.run_sync(current_revision)
        if current == head:
            self._ok = True  # once at head it stays there for this process
            return None
        return f"数据库版本为 {current or '空'}，程序需要 {head}：请先运行 `regwatch migrate`。"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._ok or scope["type"] != "http" or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        problem = await self._check()
        if problem is None:
            await self.app(scope, receive, send)
            return
        from starlette.responses import PlainTextResponse

        log.error("refusing to serve: %s", problem)
        await PlainTextResponse(problem, status_code=503)(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised from `receive` once a request body passes its limit; BodyLimitMiddleware answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MB" if n >= 1 << 20 else f"{n / 1024:g} KB" if n >= 1024 else f"{n} 字节"


class BodyLimitMiddleware:
    """Refuse request bodies over a limit while they stream in, before authentication, CSRF or any parsing.

    A `Content-Length` over the limit is refused at once without reading a byte; a chunked or lying body is counted
    as it is received and refused (413) as soon as it passes the limit, so no more than the limit is ever buffered.
    Paths in `upload_paths` (file imports) get `upload_limit` instead of `limit`.
    """

    def __init__(self, app: ASGIApp, *, limit: int, upload_limit: int, upload_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    def limit_for(self, path: str) -> int:
        return self.upload_limit if path in self.upload_paths else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
                break
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(scope, send, 400, "Content-Length 头无效 (invalid Content-Length header)",
                                   "bad_request", None)
                return
            if int(declared) > limit:
                await self._refuse(scope, send, 413, None, "body_too_large", limit)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge as exc:
            if started:  # the app answered before reading the rest; nothing more to say
                return
            await self._refuse(scope, send, 413, None, "body_too_large", exc.limit)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, message: str | None, code: str,
                      limit: int | None) -> None:
        if message is None and limit is not None:
            message = (f"请求内容过大：此地址最多接受 {_size(limit)} (request body larger than {limit} bytes; "
                       "see REGWATCH_MAX_BODY_BYTES / REGWATCH_MAX_UPLOAD_BYTES)")
        extensions: dict[str, object] = {"code": code}
        if limit is not None:
            extensions["limit"] = limit
        body = json.dumps({"errors": [{"message": message, "extensions": extensions}]},
                          ensure_ascii=False).encode()
        log.info("refused request body: %s %s (%s)", scope.get("method"), scope.get("path"), code)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


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


class ServerErrorGuard:
    """An unexpected exception becomes the 500 page here, inside the request-id and security-header middleware, so
    a 500 carries them like every other response; the exception is logged with the request id."""

    def __init__(self, app: ASGIApp, *, respond: Callable[[Request, Exception], Awaitable[Response]]) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception as exc:
            request_id = scope.get("state", {}).get("request_id")
            log.error("unexpected error (request %s) %s %s", request_id, scope.get("method"), scope.get("path"),
                      exc_info=exc)
            if started:
                raise
            response = await self.respond(Request(scope, receive), exc)
            await response(scope, receive, send)
