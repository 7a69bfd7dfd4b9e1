"""risk_warning: the department + status index also carries the three deadline columns

Revision ID: 0017
Revises: 0016

The inbox counts every tab of a department in one grouped statement, each group with its overdue warnings
(`domain.warnings.overdue`: status, received_at, receipt_due_at, disposal_due_at). With the index on
(department_id, status, created_at, id) alone that count read every one of the department's rows from the table
(about 2,000 pages for 3,200 warnings on the 100,000-warning bench city). The same index with the deadline
columns appended answers it from the index (an index-only scan on PostgreSQL, a covering index on SQLite), and
still serves the inbox's window (department, status, newest first) as its prefix. Same number of indexes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_risk_warning_department_status_created"


def upgrade() -> None:
    with op.batch_alter_table("risk_warning") as batch_op:
        batch_op.drop_index(_NAME)
        batch_op.create_index(_NAME, ["department_id", "status", "created_at", "id", "received_at",
                                      "receipt_due_at", "disposal_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_warning") as batch_op:
        batch_op.drop_index(_NAME)
        batch_op.create_index(_NAME, ["department_id", "status", "created_at", "id"], unique=False)
