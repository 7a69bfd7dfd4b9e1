"""The GraphQL HTTP endpoint: Strawberry's ASGI view with our context, GraphiQL and GraphQL-over-HTTP media types."""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from cross_web import HTTPException
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from api.context import Context
from api.prepared import ENABLED as PREPARED_ENABLED
from api.prepared import PreparedQueries
from domain.db import call_in, inline_work
from domain.identity.actor import ANONYMOUS
from domain.identity.tokens import TokenCheck, token_actor
from web.identity.middleware import PENDING_TOKEN, token_refusal

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
        context = getattr(request.state, "graphql_context", None)
        if context is None:  # no bearer token checked by `_authenticate` (a cookie, or no one)
            state = request.app.state
            context = Context(request=request, response=response, db=state.db, settings=state.settings)
            request.state.graphql_context = context
        context.response = response
        context.actor = getattr(request.state, "actor", ANONYMOUS)
        context.request_id = getattr(request.state, "request_id", None)
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

    def encode_json(self, data: object) -> str:
        """Responses (HTTP and WebSocket frames) through orjson: a 50-row page's body in ~4 µs instead of json's
        ~70 µs. Non-ASCII text goes out as UTF-8 instead of \\u escapes. What orjson refuses (an integer beyond 64
        bits in a JSON scalar) goes through json as before."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    @staticmethod
    def encode_json_bytes(data: object) -> bytes:
        """`encode_json` as the response body's bytes: orjson's own UTF-8, not decoded to text to be encoded again
        (WebSocket frames and Strawberry's own responses keep `encode_json`'s text)."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

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
        if _streams(request):  # subscriptions over HTTP stream from the event loop, as before
            response = await self._respond(request)
        else:
            await request.body()  # read here, as it streams in (the body limit in front counts it)
            response = await request.app.state.db.in_worker(_serve_in_thread, self, request)
        is_json = response.headers.get("content-type", "").startswith("application/json")
        if is_json and wants_graphql_response(request):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if getattr(request.state, "graphql_request_error", False) and response.status_code == 200:
                response.status_code = 400
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        """The whole request: the bearer token the identity middleware left to us, then Strawberry's run, then the
        request's session closed."""
        try:
            pending = request.scope.get("state", {}).pop(PENDING_TOKEN, None)
            if pending is not None:
                problem = self._authenticate(request, pending)
                if problem is not None:
                    return token_refusal(problem)
            try:
                response = await self._prepared(request)
                if response is None:
                    response = await self.run(request)
            except HTTPException as exc:
                status = exc.status_code
                if request.method == "GET" and "not allowed when using GET" in exc.reason:
                    status = 405  # GraphQL over HTTP: mutations must not run over GET
                response = Response(json.dumps({"errors": [{"message": exc.reason}]}), status_code=status,
                                    media_type="application/json")
                if status == 405:
                    response.headers["allow"] = "POST"
            return response
        finally:
            context = getattr(request.state, "graphql_context", None)
            if context is not None:
                await context.close()

    async def _prepared(self, request: Request) -> Response | None:
        """A POST of a query text that `api.prepared` may run (parsed, limited, validated before; a query), answered
        without Strawberry's request and operation pipelines; None sends the request through them."""
        prepared: PreparedQueries | None = getattr(self.schema, "prepared", None)
        if prepared is None or not PREPARED_ENABLED or request.method != "POST" or _streams(request):
            return None
        if "application/json" not in request.headers.get("content-type", ""):
            return None
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None  # the full pipeline reports what is wrong with it
        if type(data) is not dict:
            return None
        query, variables, operation_name = data.get("query"), data.get("variables"), data.get("operationName")
        if (type(query) is not str or (variables is not None and type(variables) is not dict)
                or (operation_name is not None and type(operation_name) is not str)
                or data.get("extensions") is not None):
            return None
        context = await self.get_context(request, None)
        text = prepared.lookup(query, operation_name, variables, anonymous=not context.actor.is_authenticated)
        if text is None:
            return None
        result = await prepared.execute(text, context=context, variables=variables, operation_name=operation_name)
        return Response(self.encode_json_bytes(await self.process_result(request, result)),
                        media_type="application/json")

    def _authenticate(self, request: Request, credential: str) -> str | None:
        """Check the bearer token in the request's own session (the first statement of its unit of work): a
        revoked, expired or deactivated one fails here as in the identity middleware. None when the caller is in."""
        state = request.app.state
        context = Context(request=request, response=None, db=state.db, settings=state.settings)
        request.state.graphql_context = context  # its session is the request's; closed with it
        client_addr = (request.scope.get("client") or (None, 0))[0]
        # in this worker thread (the request's one hop), on the session its reads will use
        check = call_in(context.session(), _check_token, (credential, getattr(request.state, "request_id", None),
                                                           client_addr), {}, "read")
        if check.actor is None:
            return check.problem or "unknown"
        request.state.actor = check.actor
        return None


def _check_token(session: Session, credential: str, request_id: str | None, client_addr: str | None) -> TokenCheck:
    check = token_actor(session, credential, request_id=request_id, client_addr=client_addr)
    if check.wrote:  # last_used_at refreshed (at most once a minute): kept, whatever the request does next
        session.commit()
    return check


def _streams(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "multipart/mixed" in accept or "text/event-stream" in accept


class _ThreadLoop(threading.local):
    """One event loop per worker thread, reused by the requests that thread serves, closed when the thread ends."""

    loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        if self.loop is None or self.loop.is_closed():
            self.loop = asyncio.new_event_loop()
            weakref.finalize(threading.current_thread(), self.loop.close)
        return self.loop


_loops = _ThreadLoop()


def _serve_in_thread(view: GraphQLView, request: Request) -> Response:
    """A GraphQL request in this worker thread from start to end: authentication, parsing, validation, execution
    and every database read in one unit of work (`inline_work`: the reads run here, not in yet another thread)."""
    with inline_work():
        return _loops.get().run_until_complete(view._respond(request))
