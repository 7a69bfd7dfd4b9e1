"""risk_warning: covering indexes for the statistics dashboard (each chart counted from an index alone)

Revision ID: 0018
Revises: 0017

Every chart of the dashboard is one statement over the warnings of a period. With the index on dispatched_at
alone each of them read every row of the period from the table (about 52,000 wide rows for a year on the
100,000-warning bench city, per chart). The dispatch index now carries every column the charts read — the group
keys (status, level, source, department, district, industry), what overdue is derived from (received_at and the
deadlines, closed_at), the disposal durations and the id (to join the feedback) — so they are counted from the
index: an index-only scan on PostgreSQL (once vacuumed), a covering index on SQLite. The trend counts closures by
their date and overdue warnings by their deadline: two narrow indexes led by those dates, with the status and the
filter columns. One index replaced, two added. warning_feedback gets (warning_id, part, round, outcome,
satisfaction): the precision by level and the satisfaction goal find each warning's latest main round and read its
outcome and rating from that index (feedback rows are written once per round, so the index costs little).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCOPE = ["department_id", "region_code", "industry_section", "industry_code"]
DISPATCHED = ["dispatched_at", "status", "level", "source", *_SCOPE, "received_at", "receipt_due_at",
              "disposal_due_at", "closed_at", "receipt_seconds", "closure_seconds", "id"]
CLOSED = ["closed_at", "status", *_SCOPE]
DUE = ["disposal_due_at", "status", "closed_at", *_SCOPE]
FEEDBACK = ["warning_id", "part", "round", "outcome", "satisfaction"]


def upgrade() -> None:
    with op.batch_alter_table("risk_warning") as batch_op:
        batch_op.drop_index("ix_risk_warning_dispatched")
        batch_op.create_index("ix_risk_warning_stats_dispatched", DISPATCHED, unique=False)
        batch_op.create_index("ix_risk_warning_stats_closed", CLOSED, unique=False)
        batch_op.create_index("ix_risk_warning_stats_due", DUE, unique=False)
    with op.batch_alter_table("warning_feedback") as batch_op:
        batch_op.create_index("ix_warning_feedback_stats", FEEDBACK, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("warning_feedback") as batch_op:
        batch_op.drop_index("ix_warning_feedback_stats")
    with op.batch_alter_table("risk_warning") as batch_op:
        batch_op.drop_index("ix_risk_warning_stats_due")
        batch_op.drop_index("ix_risk_warning_stats_closed")
        batch_op.drop_index("ix_risk_warning_stats_dispatched")
        batch_op.create_index("ix_risk_warning_dispatched", ["dispatched_at"], unique=False)
