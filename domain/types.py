"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa

__all__ = ["LOCAL_TZ", "UTCDateTime", "local_today", "table_of", "utcnow"]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def table_of(model: type[Any]) -> sa.Table:
    """A table model's `sa.Table` (SQLModel sets `__table__` on the class but does not declare it for type checkers),
    for Core statements over its typed columns: ``table_of(Warning).c.level``."""
    return cast(sa.Table, model.__table__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today():
    return datetime.now(LOCAL_TZ).date()


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always returned zone-aware (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:  # keyset cursors decode their timestamps by it (TypeDecorator says object)
        return datetime

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass a zone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        """`process_result_value` as one function per value instead of SQLAlchemy's two-level wrapper (a list of 50
        warnings reads ~450 timestamps); a value already in `UTC` is returned as it is."""
        inner = self.impl_instance.result_processor(dialect, coltype)  # SQLite: the stored text parsed first

        def to_utc(value):
            if value is None:
                return None
            tz = value.tzinfo
            if tz is UTC:
                return value
            return value.replace(tzinfo=UTC) if tz is None else value.astimezone(UTC)

        if inner is None:
            # None and UTC values come back as they are (domain.fixed_rows keeps such rows as the driver made them)
            to_utc.keeps_utc = True  # type: ignore[attr-defined]
            return to_utc

        def parsed_to_utc(value):
            return to_utc(inner(value))

        return parsed_to_utc
