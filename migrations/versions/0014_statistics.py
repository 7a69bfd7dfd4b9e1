"""risk_warning: indexes for the statistics dashboard (warnings of a period, city-wide or per department)

Revision ID: 0014
Revises: 0013

Every dashboard figure counts the warnings dispatched in a period; without these the period filter scans the
whole warning table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("risk_warning", schema=None) as batch_op:
        batch_op.create_index("ix_risk_warning_dispatched", ["dispatched_at"], unique=False)
        batch_op.create_index("ix_risk_warning_department_dispatched", ["department_id", "dispatched_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_warning", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_warning_department_dispatched")
        batch_op.drop_index("ix_risk_warning_dispatched")
