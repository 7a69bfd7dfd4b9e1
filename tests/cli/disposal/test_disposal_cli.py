"""regwatch disposal: the overdue sweep and webhook delivery once, from the console."""

from __future__ import annotations

from datetime import timedelta

from domain.types import utcnow
from tests.cli.factories import regwatch
from tests.domain.disposal.support import make_warning, make_world


def test_sweep_and_deliver(cli_env, db):
    world = make_world(db)
    make_warning(db, world.dept_a, dispatched_at=utcnow() - timedelta(days=3), receipt_days=1, disposal_days=2)
    swept = regwatch("disposal", "sweep-overdue")
    assert swept.exit_code == 0, swept.output
    assert "超期签收 1 条，超期处置 1 条" in swept.output
    assert "超期签收 0 条" in regwatch("disposal", "sweep-overdue").output  # once per deadline
    delivered = regwatch("disposal", "deliver")
    assert delivered.exit_code == 0 and "分发 3 条事件" in delivered.output  # issue + two overdue events
