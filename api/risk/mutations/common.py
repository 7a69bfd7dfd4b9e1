"""What the risk mutations share: parsing ids."""

from __future__ import annotations

import strawberry

from domain.errors import InvalidInput

__all__ = ["parse_id"]


def parse_id(value: strawberry.ID | str | None, field: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field} 应为编号（数字），收到“{value}”", field=field, code="bad_id") from exc
