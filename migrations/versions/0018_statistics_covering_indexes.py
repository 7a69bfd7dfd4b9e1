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
filter columns (the closure index partial: only warnings with a closed_at, so issuing a warning never writes it).
The (department_id, dispatched_at) index of 0014 goes: a department's figures read the dispatch index too (as
fast on the bench city, one index fewer to keep per new warning). risk_warning: two indexes replaced, three
added (one partial). warning_feedback gets (warning_id, part, round, outcome,
satisfaction): the precision by level and the satisfaction goal find each warning's latest main round and read its
outcome and rating from that index (feedback rows are written once per round, so the index costs little).
risk_clue gets (received_on, source, status, reporting_department_id, entity_id): the clue volume of a period
counted from the index instead of a lookup of every clue.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
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
CLOSED_WHERE = "closed_at IS NOT NULL"  # partial: a new (open) warning never enters it
FEEDBACK = ["warning_id", "part", "round", "outcome", "satisfaction"]
CLUES = ["received_on", "source", "status", "reporting_department_id", "entity_id"]


def upgrade() -> None:
    with op.batch_alter_table("risk_warning") as batch_op:
        batch_op.drop_index("ix_risk_warning_dispatched")
        batch_op.drop_index("ix_risk_warning_department_dispatched")
        batch_op.create_index("ix_risk_warning_stats_dispatched", DISPATCHED, unique=False)
        batch_op.create_index("ix_risk_warning_stats_closed", CLOSED, unique=False,
                              sqlite_where=sa.text(CLOSED_WHERE), postgresql_where=sa.text(CLOSED_WHERE))
        batch_op.create_index("ix_risk_warning_stats_due", DUE, unique=False)
    with op.batch_alter_table("warning_feedback") as batch_op:
        batch_op.create_index("ix_warning_feedback_stats", FEEDBACK, unique=False)
    with op.batch_alter_table("risk_clue") as batch_op:
        batch_op.create_index("ix_risk_clue_stats", CLUES, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_clue") as batch_op:
        batch_op.drop_index("ix_risk_clue_stats")
    with op.batch_alter_table("warning_feedback") as batch_op:
        batch_op.drop_index("ix_warning_feedback_stats")
    with op.batch_alter_table("risk_warning") as batch_op:
        batch_op.drop_index("ix_risk_warning_stats_due")
        batch_op.drop_index("ix_risk_warning_stats_closed")
        batch_op.drop_index("ix_risk_warning_stats_dispatched")
        batch_op.create_index("ix_risk_warning_dispatched", ["dispatched_at"], unique=False)
        batch_op.create_index("ix_risk_warning_department_dispatched", ["department_id", "dispatched_at"],
                              unique=False)
