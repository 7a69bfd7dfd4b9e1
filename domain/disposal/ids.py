"""The id of a row that is saved (loaded, or flushed after `session.add`): SQLModel declares `id: int | None`."""

from __future__ import annotations

from typing import Protocol

__all__ = ["saved_id"]


class _Row(Protocol):
    id: int | None


def saved_id(row: _Row) -> int:
    """`row.id`, asserted set (it is, once the row is in the database)."""
    assert row.id is not None, f"{type(row).__name__} has no id yet (not flushed)"
    return row.id
