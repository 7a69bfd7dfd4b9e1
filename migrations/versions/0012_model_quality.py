"""Risk model quality and the risk home: calibration mapping, backtest summary column (issues 10, 11, 12)

Revision ID: 0012
Revises: 0011

- model_version.calibration: the mapping from the booster's raw scores to calibrated probabilities
  ({method: platt, a, b} or {method: isotonic, x, y}); NULL for versions trained before calibration, whose
  scores stay raw.
- scoring_run.backtest: a backtest's summary (window, outcomes, ROC-AUC, per-level entities and outcomes,
  whether the date lies inside the version's training window) in its own column. Earlier backtests kept it
  in `drift` and a nested `level_counts`: moved here, and their `level_counts` becomes {level: entities}
  like every other run's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_runs = sa.table("scoring_run", sa.column("id", sa.Integer), sa.column("role", sa.String),
                 sa.column("level_counts", sa.JSON), sa.column("drift", sa.JSON), sa.column("backtest", sa.JSON))


def _loads(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


def upgrade() -> None:
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calibration", sa.JSON(), nullable=True))
    with op.batch_alter_table("scoring_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backtest", sa.JSON(), nullable=True))
    conn = op.get_bind()
    for run_id, counts, drift in conn.execute(sa.select(_runs.c.id, _runs.c.level_counts, _runs.c.drift)
                                              .where(_runs.c.role == "backtest")).all():
        counts, drift = _loads(counts), _loads(drift)
        levels = {k: v for k, v in counts.items() if isinstance(v, dict)}
        flat = {k: int(v.get("entities", 0)) if isinstance(v, dict) else v for k, v in counts.items()}
        conn.execute(_runs.update().where(_runs.c.id == run_id).values(
            backtest={**drift, "levels": levels}, level_counts=flat, drift={}))


def downgrade() -> None:
    conn = op.get_bind()
    for run_id, backtest in conn.execute(sa.select(_runs.c.id, _runs.c.backtest)
                                         .where(_runs.c.role == "backtest")).all():
        summary = _loads(backtest)
        levels = summary.pop("levels", {})
        summary.pop("in_training_window", None)
        conn.execute(_runs.update().where(_runs.c.id == run_id).values(drift=summary, level_counts=levels))
    with op.batch_alter_table("scoring_run", schema=None) as batch_op:
        batch_op.drop_column("backtest")
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.drop_column("calibration")
