"""Composition root: wires domain, ml, api and web into one ASGI application."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.schema import build_schema
from api.view import GraphQLView
from domain.db import Database
from domain.errors import DomainError
from domain.jobs.runner import JobRunner
from domain.jobs.schedule import ensure_schedule, list_schedules
from domain.settings import Settings, get_settings
from domain.warnings.auto_issue import issue_after_scoring
from ml import jobs as risk_jobs  # noqa: F401  (registers the train/score/backtest job handlers)
from ml import runs as risk_runs
from reports import jobs as report_jobs
from web.analysis import views as analysis_views
from web.audit import views as audit_views
from web.disposal import views as disposal_views
from web.identity import views as identity_views
from web.identity.middleware import IdentityMiddleware
from web.integration import views as integration_views
from web.jobs import views as job_views
from web.logging import configure_logging
from web.middleware import EdgeMiddleware, InputGuardMiddleware, SessionCookies
from web.platform import views as platform_views
from web.risk import views as risk_views
from web.statistics import views as statistics_views
from web.supervision import views as supervision_views
from web.templating import STATIC_DIR, templates
from web.warnings import views as warning_views

__all__ = ["create_app"]

# After each committed scoring run: automatic warnings from the champion's scores (issue 13).
if issue_after_scoring not in risk_runs._AFTER_SCORING:
    risk_runs._AFTER_SCORING.append(issue_after_scoring)

SESSION_COOKIE = "regwatch_session"
# file uploads: REGWATCH_MAX_UPLOAD_BYTES instead of REGWATCH_MAX_BODY_BYTES
UPLOAD_PATHS = ("/imports", *disposal_views.UPLOAD_PATHS)


class CachedStaticFiles(StaticFiles):
    """Vendored assets carry a version in their URL, so browsers may keep them a day."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


async def render_graphiql(request: Request) -> Response:
    return templates.TemplateResponse(request, "graphiql.html", {
        "request": request, "csrf_token": getattr(request.state, "csrf_token", ""), "graphql_endpoint": "/graphql"})


def _schedule_daily_scoring(db: Database, settings: Settings) -> None:
    """Keep the daily scoring timetable in the database in line with REGWATCH_SCORE_DAILY_AT."""
    try:
        with db.unit_of_work() as session:
            if settings.score_daily_at:
                ensure_schedule(session, name="daily_score", kind="score", daily_at=settings.score_daily_at)
            else:
                for row in list_schedules(session):
                    if row.name == "daily_score":
                        row.enabled = False
    except Exception:  # a database behind its migrations is reported by /readyz, not here
        logging.getLogger("regwatch").warning("could not update the daily scoring schedule", exc_info=True)


def _schedule_half_year_report(db: Database, settings: Settings) -> None:
    """The half-yearly analysis report (checked daily; generates once a closed half year lacks a report)."""
    try:
        with db.unit_of_work() as session:
            report_jobs.ensure_report_schedule(session, var_dir=settings.var_dir)
    except Exception:  # a database behind its migrations is reported by /readyz, not here
        logging.getLogger("regwatch").warning("could not update the analysis report schedule", exc_info=True)


GC_YOUNG_THRESHOLD = 20_000


def tune_collector() -> None:
    """In a serving process, once it has started: what lives as long as the process (modules, the schema, the
    engines' caches, a few hundred thousand objects) is moved out of the cyclic collector's way (`gc.freeze`, after
    a collection so no garbage is frozen), and the youngest generation is collected every 20,000 allocations instead
    of every 700. A 50-row list request allocates several thousand objects; with the defaults it paid for about ten
    young collections and, every few requests, a full one over the whole heap — 5–7 % of a list request's CPU on the
    warnings list (bench.api). Reference counting still frees almost everything at once; only cycles wait longer."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def create_app(settings: Settings | None = None, *, run_jobs: bool = True, database: Database | None = None,
               schema: Any = None) -> Starlette:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    db = database or Database(settings.database_url)
    runner = JobRunner(db, heartbeat_seconds=settings.job_heartbeat_seconds,
                       stale_seconds=settings.job_stale_seconds) if run_jobs else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pump = None
        if runner:
            _schedule_daily_scoring(db, settings)
            _schedule_half_year_report(db, settings)
            runner.start()
            pump = disposal_views.start_background(db)  # outbox -> webhooks and live subscribers
            tune_collector()
        try:
            yield
        finally:
            if pump:
                pump.stop()
            if runner:
                runner.stop()
            await db.adispose()

    graphql = GraphQLView(schema or build_schema(settings), render_ide=render_graphiql)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),  # subscriptions (graphql-transport-ws)
        Mount("/static", CachedStaticFiles(directory=str(STATIC_DIR)), name="static"),
        *platform_views.routes,
        *identity_views.routes,
        *audit_views.routes,
        *job_views.routes,
        *risk_views.routes,
        *supervision_views.routes,
        *warning_views.routes,
        *disposal_views.routes,
        *integration_views.routes,
        *statistics_views.routes,
        *analysis_views.routes,
    ]
    middleware = [
        # The client address: X-Forwarded-For is believed only from REGWATCH_TRUSTED_PROXIES (none by default).
        *([Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))]
          if settings.trusted_proxies else []),
        # One layer, one send and one receive wrapper: the request id and access log, the security headers, the 500
        # page (both of those on it, as on the 413s and the 503), the body size before anything reads a byte of it
        # (sessions, identity, CSRF, GraphQL, forms), the schema-version guard, then the signed session cookie.
        Middleware(EdgeMiddleware, database=db, respond=platform_views.server_error, hsts=settings.is_prod,
                   limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes, upload_paths=UPLOAD_PATHS,
                   sessions=SessionCookies(settings.secret_key, session_cookie=SESSION_COOKIE,
                                           max_age=settings.session_max_age, same_site="lax",
                                           https_only=settings.is_prod)),
        Middleware(IdentityMiddleware, database=db, session_max_age=settings.session_max_age),
        # Control characters in the path, query or form fields, over-long searches: a 400 naming the field.
        Middleware(InputGuardMiddleware, respond=platform_views.error_page),
    ]
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            404: platform_views.http_exception,
            405: platform_views.http_exception,
            403: platform_views.http_exception,
            400: platform_views.http_exception,
            DomainError: platform_views.domain_exception,
            500: platform_views.server_error,
        },
    )
    app.state.settings = settings
    app.state.db = db
    app.state.job_runner = runner
    return app
