"""Migration 0016: the per-source record counters, backfilled from the records already held."""

import pytest
import sqlalchemy as sa
from pytest_alembic import Config as AlembicTestConfig
from pytest_alembic.plugin.fixtures import alembic_runner  # noqa: F401  (plugin auto-collection is off)

from domain.db import sync_url
from domain.schema_version import ROOT
from tests.support import create_database, drop_database


@pytest.fixture
def alembic_config():
    return AlembicTestConfig(config_options={"file": str(ROOT / "alembic.ini"),
                                             "script_location": str(ROOT / "migrations")})


@pytest.fixture
def alembic_engine(tmp_path):
    url = create_database(tmp_path, "counts")
    engine = sa.create_engine(sync_url(url))
    yield engine
    engine.dispose()
    drop_database(url)


def test_0016_counts_the_records_each_source_already_holds(alembic_runner, alembic_engine):  # noqa: F811
    alembic_runner.migrate_up_to("0015")
    now = "2026-01-01 00:00:00"
    with alembic_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO department (id, code, name, level, region_code, active, created_at) "
                             "VALUES (1, 'D', '部门', 'city', '320500', true, :now)"), {"now": now})
        conn.execute(sa.text("INSERT INTO data_source (id, code, name, kind, expected_feeds, stale_after_days, "
                             "description, active, created_at) VALUES "
                             "(1, 'A', '甲', 'manual', '[]', 7, '', true, :now), "
                             "(2, 'B', '乙', 'manual', '[]', 7, '', true, :now), "
                             "(3, 'C', '丙', 'manual', '[]', 7, '', true, :now)"), {"now": now})
        for n, source in enumerate([1, 1, 2, None]):
            conn.execute(sa.text("INSERT INTO entity (id, uscc, name, entity_type, status, source_id, updated_at) "
                                 "VALUES (:id, :u, '企业', 'enterprise', 'active', :s, :now)"),
                         {"id": n + 1, "u": f"U{n}", "s": source, "now": now})
        for n, source in enumerate([1, 2, 2, 2]):
            conn.execute(sa.text("INSERT INTO supervision_action (source_id, external_id, kind, department_id, "
                                 "entity_id, started_on, updated_at) VALUES (:s, :x, 'inspection', 1, 1, "
                                 "'2025-01-01', :now)"), {"s": source, "x": f"X{n}", "now": now})
        conn.execute(sa.text("INSERT INTO complaint (source_id, external_id, entity_id, received_on, channel, "
                             "category, updated_at) VALUES (3, 'C1', 2, '2025-01-01', '12345', '价格', :now)"),
                     {"now": now})
        conn.execute(sa.text("INSERT INTO credit_record (source_id, external_id, entity_id, kind, listed_on, "
                             "updated_at) VALUES (1, 'K1', 2, 'abnormal_operation', '2025-01-01', :now)"),
                     {"now": now})
    alembic_runner.migrate_up_one()
    with alembic_engine.connect() as conn:
        counts = {(sid, kind): n for sid, kind, n in conn.execute(
            sa.text("SELECT source_id, kind, records FROM source_record_count"))}
    assert counts == {(1, "entities"): 2, (2, "entities"): 1, (1, "actions"): 1, (2, "actions"): 3,
                      (3, "complaints"): 1, (1, "credit"): 1}
    alembic_runner.migrate_down_one()
    with alembic_engine.connect() as conn:
        assert "source_record_count" not in sa.inspect(conn).get_table_names()
