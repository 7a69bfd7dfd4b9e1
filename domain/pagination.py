"""One way to page through a query: offset windows with a total, in exactly two SQL statements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from domain.errors import InvalidInput

__all__ = ["DEFAULT_PAGE_SIZE", "Page", "PageRequest", "fetch_page"]

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class PageRequest:
    """A window as Relay asks for it, with cursors already decoded to offsets."""

    first: int | None = None
    after: int | None = None  # offset of the item the window starts after
    last: int | None = None
    before: int | None = None  # offset of the item the window ends before

    def validate(self, max_size: int) -> None:
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and value < 0:
                raise InvalidInput(f"{name} must not be negative", field=name, code="page_size_negative")
            if value is not None and value > max_size:
                raise InvalidInput(
                    f"{name} is {value}, above the maximum page size of {max_size}; ask for fewer and page on",
                    field=name, code="page_size_too_large")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int  # offset of items[0]
    has_next: bool
    has_previous: bool


def window(total: int, req: PageRequest) -> tuple[int, int]:
    """[start, end) of the requested window within `total` items."""
    start = 0 if req.after is None else min(total, req.after + 1)
    end = total if req.before is None else max(start, min(total, req.before))
    if req.first is not None:
        end = min(end, start + req.first)
    if req.last is not None:
        start = max(start, end - req.last)
    if req.first is None and req.last is None:
        end = min(end, start + DEFAULT_PAGE_SIZE)
    return start, end


def fetch_page(session: Session, stmt: sa.Select[Any], req: PageRequest, *, max_size: int,
               scalars: bool = True) -> Page[Any]:
    """Count, then fetch the window. `stmt` must carry a deterministic ORDER BY."""
    req.validate(max_size)
    total = session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    start, end = window(total, req)
    rows: list[Any] = []
    if end > start:
        result = session.execute(stmt.offset(start).limit(end - start))
        rows = list(result.scalars() if scalars else result.all())
    return Page(items=rows, total=total, offset=start, has_next=end < total, has_previous=start > 0)
