"""The GraphQL HTTP endpoint: Strawberry's ASGI view with our context, GraphiQL and GraphQL-over-HTTP media types."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from api.context import Context
from domain.identity.actor import ANONYMOUS

__all__ = ["GRAPHQL_RESPONSE_JSON", "GraphQLView"]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def wants_graphql_response(request: Request) -> bool:
    """True when the client accepts application/graphql-response+json (the newer GraphQL-over-HTTP media type)."""
    return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")


class GraphQLView(GraphQL):
    def __init__(self, schema: Any, *, render_ide: Callable[[Request], Awaitable[Response]]) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True, multipart_uploads_enabled=False)
        self._render_ide = render_ide

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        state = request.app.state
        context = Context(
            request=request,
            response=response,
            db=state.db,
            settings=state.settings,
            actor=getattr(request.state, "actor", ANONYMOUS),
            request_id=getattr(request.state, "request_id", None),
        )
        request.state.graphql_context = context
        return context

    def decode_json(self, data: str | bytes) -> object:
        """JSON that is malformed or nested too deeply for the parser is the caller's mistake: a 400, never a 500."""
        try:
            return json.loads(data)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"请求体不是合法的 JSON：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg} "
                                     "(unable to parse request body as JSON)") from exc
        except RecursionError as exc:
            raise HTTPException(400, "请求体 JSON 嵌套过深 (request body JSON is nested too deeply)") from exc
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "请求体不是 UTF-8 编码的 JSON (request body is not UTF-8 JSON)") from exc

    async def render_graphql_ide(self, request: Request) -> Response:
        return await self._render_ide(request)

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:  # type: ignore[override]
        data = await super().process_result(request, result)
        # A document that failed to parse or validate never executed: no "data" entry at all.
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            request.state.graphql_request_error = True
            data.pop("data", None)
        return data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            status = exc.status_code
            if request.method == "GET" and "not allowed when using GET" in exc.reason:
                status = 405  # GraphQL over HTTP: mutations must not run over GET
            response = Response(json.dumps({"errors": [{"message": exc.reason}]}), status_code=status,
                                media_type="application/json")
            if status == 405:
                response.headers["allow"] = "POST"
        finally:
            context = getattr(request.state, "graphql_context", None)
            if context is not None:
                await context.close()
        is_json = response.headers.get("content-type", "").startswith("application/json")
        if is_json and wants_graphql_response(request):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if getattr(request.state, "graphql_request_error", False) and response.status_code == 200:
                response.status_code = 400
        await response(scope, receive, send)
