"""Migration 0017 on the backend under test: the department + status index of risk_warning carries the deadline
columns after upgrade, and is the four-column index again after downgrade."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from domain.db import sync_url
from domain.schema_version import alembic_config
from tests.support import create_database, drop_database

INDEX = "ix_risk_warning_department_status_created"


@pytest.fixture
def url(tmp_path):
    database_url = create_database(tmp_path, "m0017")
    yield database_url
    drop_database(database_url)


def _columns(url: str) -> list[str]:
    engine = sa.create_engine(sync_url(url))
    try:
        found = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("risk_warning")}
    finally:
        engine.dispose()
    return list(found[INDEX])


def test_upgrade_and_downgrade(url):
    cfg = alembic_config(url)
    command.upgrade(cfg, "0016")
    assert _columns(url) == ["department_id", "status", "created_at", "id"]
    command.upgrade(cfg, "0017")
    assert _columns(url) == ["department_id", "status", "created_at", "id", "received_at", "receipt_due_at",
                             "disposal_due_at"]
    command.downgrade(cfg, "0016")
    assert _columns(url) == ["department_id", "status", "created_at", "id"]
