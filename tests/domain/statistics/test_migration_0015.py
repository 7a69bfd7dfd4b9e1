"""Migration 0015 on the backend under test: existing warnings get the entity's district and industry (section
rolled up) and their disposal durations; downgrade removes the columns again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from domain.db import sync_url
from domain.schema_version import alembic_config
from tests.support import create_database, drop_database

T0 = datetime(2026, 3, 2, 2, 0)


@pytest.fixture
def url(tmp_path):
    database_url = create_database(tmp_path, "m0015")
    yield database_url
    drop_database(database_url)


def _stamp(engine: sa.Engine, value: datetime) -> object:
    return value if engine.dialect.name == "sqlite" else value.replace(tzinfo=UTC)


def test_backfill_and_downgrade(url):
    cfg = alembic_config(url)
    command.upgrade(cfg, "0014")
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.begin() as c:
            now = _stamp(engine, T0)
            c.execute(sa.text("INSERT INTO department (code, name, level, region_code, active, created_at) "
                              "VALUES ('SZ-SCJG', '苏州市市场监督管理局', 'city', '320500', true, :t)"), {"t": now})
            dept = c.execute(sa.text("SELECT id FROM department")).scalar_one()
            entities = [("91320505MA1TEST001", "13", "320505"), ("91320506MA1TEST002", "C", "320506"),
                        ("91320506MA1TEST003", "99", None), ("91320506MA1TEST004", None, "320508")]
            for uscc, industry, region in entities:
                c.execute(sa.text("INSERT INTO entity (uscc, name, entity_type, industry_code, region_code, status, "
                                  "updated_at) VALUES (:u, :u, 'company', :i, :r, 'active', :t)"),
                          {"u": uscc, "i": industry, "r": region, "t": now})
            ids = [r[0] for r in c.execute(sa.text("SELECT id FROM entity ORDER BY uscc"))]
            received = _stamp(engine, datetime(2026, 3, 2, 4, 30))  # 2.5 h after dispatch
            closed = _stamp(engine, datetime(2026, 3, 5, 2, 0))  # 3 days after dispatch
            for n, entity_id in enumerate(ids):
                c.execute(sa.text(
                    "INSERT INTO risk_warning (code, entity_id, level, source, reasons, explanation, department_id, "
                    "status, dispatched_at, receipt_due_at, disposal_due_at, received_at, closed_at, "
                    "created_by_name, created_at, updated_at, row_version) VALUES (:code, :e, 'red', 'manual', "
                    "'[]', '{}', :d, :s, :t, :t, :t, :rec, :clo, 'x', :t, :t, 1)"),
                    {"code": f"YJ-2026-{n:06d}", "e": entity_id, "d": dept, "t": now,
                     "s": "closed" if n == 0 else "issued", "rec": received if n == 0 else None,
                     "clo": closed if n == 0 else None})
        engine.dispose()
        command.upgrade(cfg, "0015")
        with engine.connect() as c:
            rows = c.execute(sa.text(
                "SELECT e.uscc, w.region_code, w.industry_code, w.industry_section, w.receipt_seconds, "
                "w.closure_seconds FROM risk_warning w JOIN entity e ON e.id = w.entity_id ORDER BY e.uscc")).all()
        assert [tuple(r[:4]) for r in rows] == [
            ("91320505MA1TEST001", "320505", "13", "C"),  # a division rolls up to its section
            ("91320506MA1TEST002", "320506", "C", "C"),  # a section stored as such
            ("91320506MA1TEST003", None, "99", "99"),  # an unknown code stays its own group
            ("91320506MA1TEST004", "320508", None, None),
        ]
        assert rows[0][4] == pytest.approx(2.5 * 3600, abs=1)
        assert rows[0][5] == pytest.approx(3 * 86400, abs=1)
        assert [r[4] for r in rows[1:]] == [None, None, None] and [r[5] for r in rows[1:]] == [None, None, None]
        engine.dispose()
        command.downgrade(cfg, "0014")
        with engine.connect() as c:
            columns = {col["name"] for col in sa.inspect(c).get_columns("risk_warning")}
        assert not {"region_code", "industry_code", "industry_section", "receipt_seconds", "closure_seconds"} & columns
    finally:
        engine.dispose()
