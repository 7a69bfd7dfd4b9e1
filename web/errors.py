"""Domain errors → HTTP status for the pages, in one place, by error class (as api/errors.py does for GraphQL)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated

__all__ = ["STATUS_BY_ERROR", "domain_exception", "http_status"]

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Unauthenticated: 401,
    Conflict: 409,
    InvalidInput: 400,
}


def http_status(exc: DomainError) -> int:
    """The status a page answers for `exc`: decided by its class (the nearest one in the table), never its code."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


async def domain_exception(request: Request, exc: Exception) -> Response:
    """The exception handler for a domain error a page did not answer itself."""
    from web.platform.views import error_page  # the error page lives with the other platform pages

    assert isinstance(exc, DomainError)
    return error_page(request, http_status(exc), exc.message)
