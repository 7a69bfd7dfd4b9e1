"""UTCDateTime: stored in UTC, read back zone-aware in UTC on both databases (its own result processor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from domain.types import UTCDateTime


def test_timestamps_come_back_as_the_same_instant_in_utc(db):
    table = sa.Table("utc_probe", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("at", UTCDateTime, nullable=True))
    shanghai = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
    values = [shanghai, datetime(2026, 6, 30, 23, 59, tzinfo=UTC),
              datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5))), None]
    table.create(db.engine)
    try:
        with db.engine.begin() as conn:
            conn.execute(table.insert(), [{"id": i, "at": v} for i, v in enumerate(values)])
        with db.engine.connect() as conn:
            got = [row.at for row in conn.execute(sa.select(table.c.at).order_by(table.c.id))]
    finally:
        table.drop(db.engine)
    assert got == values  # the same instants (aware datetimes compare by instant)
    assert all(v is None or v.tzinfo is UTC for v in got)  # and always in UTC itself
    assert got[0].hour == 0 and got[0].minute == 30 and got[0].microsecond == 123456


def test_postgresql_sessions_run_in_utc_whatever_the_server_zone(db):
    if db.backend != "postgresql":
        pytest.skip("SQLite keeps no zone: UTCDateTime stores naive UTC text")
    with db.engine.connect() as conn:
        server = conn.exec_driver_sql("SELECT boot_val FROM pg_settings WHERE name = 'TimeZone'").scalar()
        zone = conn.exec_driver_sql("SHOW TimeZone").scalar()
        now = conn.exec_driver_sql("SELECT now()").scalar()
    assert zone == "UTC", (zone, server)  # this machine's server default is Etc/UTC (production may be Asia/Shanghai)
    assert now.tzinfo is UTC  # psycopg's own UTC: UTCDateTime returns such values untouched
