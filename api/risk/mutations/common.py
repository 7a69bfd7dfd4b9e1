"""What the risk mutations share: parsing ids."""

from __future__ import annotations

import strawberry

from domain.errors import InvalidInput

__all__ = ["parse_id"]


def parse_id(value: strawberry.ID | str | None, field: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field} must be an id (a number), got {value!r}", field=field, code="bad_id") from exc
