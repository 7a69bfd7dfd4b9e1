"""Supervision data corrections: entity status dates, batch error totals, action trigger (issues 8, 11, 16)

Revision ID: 0008
Revises: 0007

- entity.industry_class_code: the four-digit GB/T 4754 class where the source gave one (industry_code keeps
  the division).
- entity.status_changed_on / entity.deregistered_on: when the status took its value and when the entity left
  the register (吊销/注销), so features can tell whether it was registered at a cut-off date.
- supervision_action.trigger: how an inspection was triggered (random 双随机 / complaint / clue / routine /
  campaign 专项).
- ingestion_batch.errors_total: every error found, though only the first ones are stored as rows.
- ingestion_error.row_number: the file's row (header = row 1) of a rejected record.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("industry_class_code", sqlmodel.sql.sqltypes.AutoString(length=4),
                                      nullable=True))
        batch_op.add_column(sa.Column("status_changed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("deregistered_on", sa.Date(), nullable=True))
    with op.batch_alter_table("supervision_action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    with op.batch_alter_table("ingestion_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("errors_total", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("ingestion_error", schema=None) as batch_op:
        batch_op.add_column(sa.Column("row_number", sa.Integer(), nullable=True))
    # Batches recorded before this revision stored every error row: their total is what they stored.
    op.execute("UPDATE ingestion_batch SET errors_total = (SELECT COUNT(*) FROM ingestion_error e "
               "WHERE e.batch_id = ingestion_batch.id)")


def downgrade() -> None:
    with op.batch_alter_table("ingestion_error", schema=None) as batch_op:
        batch_op.drop_column("row_number")
    with op.batch_alter_table("ingestion_batch", schema=None) as batch_op:
        batch_op.drop_column("errors_total")
    with op.batch_alter_table("supervision_action", schema=None) as batch_op:
        batch_op.drop_column("trigger")
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.drop_column("deregistered_on")
        batch_op.drop_column("status_changed_on")
        batch_op.drop_column("industry_class_code")
