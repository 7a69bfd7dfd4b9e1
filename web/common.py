"""What every page module shares: the caller, the unit of work, page windows and pager links, post-redirect-get."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.identity.actor import ANONYMOUS, Actor
from domain.pagination import PageRequest
from web.identity.middleware import safe_next
from web.templating import flash

__all__ = ["PAGE_SIZE", "actor_of", "back_to", "dry_run", "page_window", "pager", "read", "redirect_after_post", "run"]

PAGE_SIZE = 20
T = TypeVar("T")


def actor_of(request: Request) -> Actor:
    return getattr(request.state, "actor", ANONYMOUS)


async def run(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(session, caller, *args)` in one committed unit of work (`Database.run`, mode "commit")."""
    return await request.app.state.db.run(fn, actor_of(request), *args, work="commit", **kwargs)


async def read(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(session, caller, *args)` in one unit of work that only reads (mode "read": nothing is committed)."""
    return await request.app.state.db.run(fn, actor_of(request), *args, work="read", **kwargs)


async def dry_run(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run a change for its validation only (inline validation): the database checks it too, nothing is kept, and
    a clash with someone else's simultaneous change is a Conflict like in a real save (mode "dry_run")."""
    await request.app.state.db.run(fn, actor_of(request), *args, work="dry_run", **kwargs)


def page_window(request: Request, size: int = PAGE_SIZE) -> tuple[int, PageRequest]:
    """The 1-based page number asked for in ?page=, as an offset window."""
    text = request.query_params.get("page", "1")
    number = int(text) if text.isdigit() and int(text) > 0 else 1
    offset = (number - 1) * size
    return number, PageRequest(first=size, after=offset - 1 if offset else None)


def pager(request: Request, number: int, total: int, size: int = PAGE_SIZE, *,
          target: str | None = None) -> dict[str, Any]:
    """Links to the previous and next pages that keep the other query parameters (filters, search);
    with `target`, htmx swaps only that element and pushes the URL."""
    params = {k: v for k, v in request.query_params.items() if k != "page" and v}
    pages = max(1, -(-total // size))

    def link(n: int) -> str:
        return f"{request.url.path}?{urlencode({**params, 'page': n})}"

    return {"number": number, "pages": pages, "total": total, "target": target,
            "previous": link(number - 1) if number > 1 else None,
            "next": link(number + 1) if number < pages else None}


def redirect_after_post(request: Request, url: str, *, message: str | None = None,
                        error: str | None = None) -> Response:
    """Post-redirect-get, for htmx (HX-Redirect on a 200) and plain forms (303) alike — the one way every page
    answers a successful (or refused) post; `message`/`error` are flashed on the page shown next."""
    if message or error:
        flash(request, error or message or "", "error" if error else "success")
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def back_to(request: Request, default: str) -> str:
    """The list page the post came from (keeping its filters and page), if it is under `default`; else `default`."""
    current = request.headers.get("hx-current-url") or request.headers.get("referer") or ""
    parts = urlsplit(current)
    if parts.netloc and parts.netloc != request.url.netloc:
        return default
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path, default) if path.startswith(default) else default
