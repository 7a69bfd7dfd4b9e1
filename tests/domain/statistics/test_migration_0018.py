"""Migration 0018 on the backend under test: the dashboard's covering indexes after upgrade (the dispatch index
widened, the closure and deadline indexes, the feedback index), the single-column dispatch index again after
downgrade — and the migrated indexes are the ones the models declare."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from domain.db import sync_url
from domain.schema_version import alembic_config
from domain.statistics.models import STATS_CLOSED, STATS_CLUES, STATS_DISPATCHED, STATS_DUE, STATS_FEEDBACK
from tests.support import create_database, drop_database


@pytest.fixture
def url(tmp_path):
    database_url = create_database(tmp_path, "m0018")
    yield database_url
    drop_database(database_url)


def _indexes(url: str, table: str) -> dict[str, list[str]]:
    engine = sa.create_engine(sync_url(url))
    try:
        return {i["name"]: list(i["column_names"]) for i in sa.inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()


def test_upgrade_and_downgrade(url):
    cfg = alembic_config(url)
    command.upgrade(cfg, "0017")
    before = _indexes(url, "risk_warning")
    assert before["ix_risk_warning_dispatched"] == ["dispatched_at"]
    assert before["ix_risk_warning_department_dispatched"] == ["department_id", "dispatched_at"]
    assert "ix_risk_warning_stats_dispatched" not in before
    command.upgrade(cfg, "0018")
    after = _indexes(url, "risk_warning")
    assert "ix_risk_warning_dispatched" not in after
    assert after["ix_risk_warning_stats_dispatched"] == list(STATS_DISPATCHED)
    assert after["ix_risk_warning_stats_closed"] == list(STATS_CLOSED)
    assert after["ix_risk_warning_stats_due"] == list(STATS_DUE)
    assert "ix_risk_warning_department_dispatched" not in after  # a department's figures read the dispatch index
    assert len(after) == len(before) + 1
    assert _indexes(url, "warning_feedback")["ix_warning_feedback_stats"] == list(STATS_FEEDBACK)
    assert _indexes(url, "risk_clue")["ix_risk_clue_stats"] == list(STATS_CLUES)
    command.downgrade(cfg, "0017")
    assert _indexes(url, "risk_warning") == before
    assert "ix_warning_feedback_stats" not in _indexes(url, "warning_feedback")
    assert "ix_risk_clue_stats" not in _indexes(url, "risk_clue")
