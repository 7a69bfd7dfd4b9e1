"""regwatch disposal: the overdue sweep and webhook delivery once, from the console."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from domain.settings import reset_settings
from domain.types import utcnow
from tests.domain.disposal.support import make_warning, make_world


def regwatch(*args: str):
    from cli import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path, db):
    monkeypatch.setenv("REGWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("REGWATCH_VAR_DIR", str(tmp_path))
    reset_settings()
    yield
    reset_settings()


def test_sweep_and_deliver(cli_env, db):
    world = make_world(db)
    make_warning(db, world.dept_a, dispatched_at=utcnow() - timedelta(days=3), receipt_days=1, disposal_days=2)
    swept = regwatch("disposal", "sweep-overdue")
    assert swept.exit_code == 0, swept.output
    assert "超期签收 1 条，超期处置 1 条" in swept.output
    assert "超期签收 0 条" in regwatch("disposal", "sweep-overdue").output  # once per deadline
    delivered = regwatch("disposal", "deliver")
    assert delivered.exit_code == 0 and "分发 3 条事件" in delivered.output  # issue + two overdue events
