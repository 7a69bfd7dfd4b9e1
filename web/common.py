"""What every page module shares: the caller, page windows and pager links, post-redirect-get."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.identity.actor import ANONYMOUS, Actor
from domain.pagination import PageRequest

__all__ = ["PAGE_SIZE", "actor_of", "page_window", "pager", "redirect_after_post"]

PAGE_SIZE = 20


def actor_of(request: Request) -> Actor:
    return getattr(request.state, "actor", ANONYMOUS)


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


def redirect_after_post(request: Request, url: str) -> Response:
    """Post-redirect-get, for htmx (HX-Redirect) and plain forms (303) alike."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
