"""Relay connections: one generic Connection type and one function to build it from a domain Page."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from domain.errors import InvalidInput
from domain.pagination import Page, PageRequest

__all__ = ["Connection", "Edge", "PageInfo", "build_connection", "page_request"]

T = TypeVar("T")
_PREFIX = "cursor:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str | None, field: str) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(_PREFIX):
            raise ValueError
        offset = int(text[len(_PREFIX):])
        if offset < 0:
            raise ValueError
        return offset
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{field} is not a cursor this API gave out", field=field, code="bad_cursor") from exc


def page_request(first: int | None = None, after: str | None = None, last: int | None = None,
                 before: str | None = None) -> PageRequest:
    return PageRequest(first=first, after=decode_cursor(after, "after"), last=last,
                       before=decode_cursor(before, "before"))


@strawberry.type(description="Where a page sits in the whole list (分页信息).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list, Relay style (分页列表).")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Items in the whole list (总数).")

    @strawberry.field(description="The nodes of this page, without edges.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def build_connection(page: Page[Any], to_node: Callable[[Any], T]) -> Connection[T]:
    edges = [Edge(cursor=encode_cursor(page.offset + i), node=to_node(item)) for i, item in enumerate(page.items)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total,
    )
