"""ASGI middleware: request id and access log, security headers, and the schema-version guard."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestContextMiddleware", "SecurityHeadersMiddleware", "content_security_policy"]

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
