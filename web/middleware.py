"""ASGI middleware: request id and access log, security headers, the request body limit, the schema-version guard."""

from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "BodyLimitMiddleware",
    "BodyTooLarge",
    "RequestContextMiddleware",
    "SecurityHeadersMiddleware",
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
