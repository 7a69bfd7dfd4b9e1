"""scoring_run.score_summary: the run's mean score and score histogram, written when the run finishes

Revision ID: 0019
Revises: 0018

The statistics dashboard's model figures show the champion's score distribution (20 bins) and each run's mean
score. They were read from risk_score on first use in every server process: a grouped pass over the run's
1,000,000 scores (0.4–0.6 s at 1M entities) on the first dashboard view after each start or run. The engine now
writes them when it stores the run (from the scores it holds in memory), and the dashboard reads them from the
run's row. Runs stored before this migration have none: their figures are read from risk_score once per process,
as before. A nullable JSON column; no data is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scoring_run") as batch_op:
        batch_op.add_column(sa.Column("score_summary", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scoring_run") as batch_op:
        batch_op.drop_column("score_summary")
