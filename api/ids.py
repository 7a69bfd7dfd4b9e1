"""The one parser of GraphQL ids: every resolver turns a `strawberry.ID` into a row id here."""

from __future__ import annotations

import strawberry

from domain.errors import InvalidInput

__all__ = ["parse_id"]


def parse_id(value: strawberry.ID | str | int | None, field: str = "id") -> int:
    """A positive integer id, or an InvalidInput (code bad_id) naming the field as the client spelled it."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or int(text) <= 0:
        raise InvalidInput(f"{field} 应为正整数编号，收到“{value}”", field=field, code="bad_id")
    return int(text)
