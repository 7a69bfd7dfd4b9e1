"""Relay connections: one generic Connection type, the request from GraphQL arguments, a Connection from a Page.

`page_request(first, after, last, before, info=info)` decodes the opaque cursors and asks for the total only when
the selection under the list field contains `totalCount` (fragments included), so an unasked count never runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from domain.pagination import Page, PageRequest
from domain.pagination import decode_cursor as _decode
from domain.pagination import encode_cursor as _encode

__all__ = ["Connection", "Edge", "PageInfo", "build_connection", "decode_cursor", "encode_cursor", "node_asks",
           "page_request", "selects_field"]

T = TypeVar("T")


def encode_cursor(offset: int) -> str:
    """The cursor of an item by its offset (nested windows and offset-only lists)."""
    return _encode(offset)


def decode_cursor(cursor: str | None, field: str) -> Any:
    """The offset or keyset behind a cursor; InvalidInput(code="bad_cursor") for anything else."""
    return _decode(cursor, field)


def node_asks(selection_set: SelectionSetNode | None, name: str, fragments: dict[str, Any]) -> bool:
    """Whether a graphql-core selection set (through fragments) asks for `name`."""
    return _asks(selection_set, name, fragments, set())


def selects_field(info: Any, name: str) -> bool:
    """Whether the current field's selection (through fragments) asks for `name` (the schema name, camelCase).

    Read from graphql-core's own nodes: Strawberry's `info.selected_fields` converts the whole selection below the
    field, arguments and variables included, on every call (a list resolver asking whether `totalCount` is
    selected paid for converting its 50-row page's whole selection)."""
    raw = info._raw_info
    return any(_asks(node.selection_set, name, raw.fragments, set()) for node in raw.field_nodes)


def _asks(selection_set: SelectionSetNode | None, name: str, fragments: dict[str, Any], seen: set[str]) -> bool:
    if selection_set is None:
        return False
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            if sel.name.value == name:
                return True
        elif isinstance(sel, InlineFragmentNode):
            if _asks(sel.selection_set, name, fragments, seen):
                return True
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
            seen.add(sel.name.value)  # validation refuses cycles; a spread read twice answers the same
            fragment = fragments.get(sel.name.value)
            if fragment is not None and _asks(fragment.selection_set, name, fragments, seen):
                return True
    return False


def page_request(first: int | None = None, after: str | None = None, last: int | None = None,
                 before: str | None = None, *, info: Any = None) -> PageRequest:
    """The domain's PageRequest; with `info`, the total is counted only when `totalCount` is selected."""
    count = True if info is None else selects_field(info, "totalCount")
    return PageRequest(first=first, after=decode_cursor(after, "after"), last=last,
                       before=decode_cursor(before, "before"), count=count)


@strawberry.type(description="Where a page sits in the whole list (分页信息).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    _page: strawberry.Private[Page[Any]]
    _index: strawberry.Private[int]

    @strawberry.field
    def cursor(self) -> str:
        """Encoded only when selected (most clients read nodes and pageInfo)."""
        return self._page.cursor(self._index)


def _edges(root: Any) -> list[Edge[Any]]:
    """A connection's edges, built only when selected (most clients read nodes and pageInfo)."""
    page = root._page
    return [Edge(node=node, _page=page, _index=i) for i, node in enumerate(root._nodes)]


def _nodes(root: Any) -> list[Any]:
    return root._nodes  # type: ignore[no-any-return]


@strawberry.type(description="A page of a list, Relay style (分页列表).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(resolver=_edges)
    page_info: PageInfo
    total_count: int = strawberry.field(description="Items in the whole list (总数).")
    nodes: list[T] = strawberry.field(resolver=_nodes, description="The nodes of this page, without edges.")
    _page: strawberry.Private[Page[Any]]
    _nodes: strawberry.Private[list[Any]]


class _PageInfoOf(PageInfo):
    """A page's PageInfo whose cursors are encoded only when they are read (a nested window, or a client reading
    `nodes` alone, never asks for them: two encodings a list saved)."""

    __slots__ = ("_page", "_size", "has_next_page", "has_previous_page")

    def __init__(self, page: Page[Any], size: int) -> None:  # not the dataclass's __init__
        self._page, self._size = page, size
        self.has_next_page, self.has_previous_page = page.has_next, page.has_previous

    @property
    def start_cursor(self) -> str | None:  # type: ignore[override]
        return self._page.cursor(0) if self._size else None

    @property
    def end_cursor(self) -> str | None:  # type: ignore[override]
        return self._page.cursor(self._size - 1) if self._size else None


def build_connection(page: Page[Any], to_node: Callable[[Any], T]) -> Connection[T]:
    nodes = [to_node(item) for item in page.items]
    return Connection(
        page_info=_PageInfoOf(page, len(nodes)),
        # only None when totalCount was not selected, so never read
        total_count=page.total if page.total is not None else -1,
        _page=page,
        _nodes=nodes,
    )
