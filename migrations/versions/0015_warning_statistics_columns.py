"""risk_warning: the entity's district and industry as issued, and the disposal durations, for the statistics

Revision ID: 0015
Revises: 0014

The dashboard's district and industry charts joined every warning of a period to a million entities, and the
disposal ranking computed two durations per row for its medians. A warning now records, when it is issued, the
entity's district (`region_code`), industry code (`industry_code`) and that code's GB/T 4754 section
(`industry_section`: the section letter; the code itself when it belongs to no known section), and the disposal
steps keep `receipt_seconds` (dispatch to receipt) and `closure_seconds` (dispatch to closure). Existing rows are
filled from the entity and the timestamps here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The section of a stored industry code: a division's parent, a leading letter ("C", "C13"), else the code itself.
SECTION_SQL = ("coalesce((SELECT industry.parent_code FROM industry WHERE industry.code = risk_warning.industry_code "
               "AND industry.level = 'division'), CASE WHEN substr(risk_warning.industry_code, 1, 1) BETWEEN 'A' AND "
               "'Z' THEN substr(risk_warning.industry_code, 1, 1) ELSE risk_warning.industry_code END)")


def _seconds(later: str, earlier: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"extract(epoch FROM {later} - {earlier})"
    return f"(julianday({later}) - julianday({earlier})) * 86400.0"


def upgrade() -> None:
    with op.batch_alter_table("risk_warning", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("industry_code", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("industry_section", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("receipt_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("closure_seconds", sa.Float(), nullable=True))
    op.execute("UPDATE risk_warning SET "
               "region_code = (SELECT entity.region_code FROM entity WHERE entity.id = risk_warning.entity_id), "
               "industry_code = (SELECT entity.industry_code FROM entity WHERE entity.id = risk_warning.entity_id)")
    op.execute(f"UPDATE risk_warning SET industry_section = {SECTION_SQL} WHERE industry_code IS NOT NULL")
    op.execute(f"UPDATE risk_warning SET receipt_seconds = {_seconds('received_at', 'dispatched_at')} "
               "WHERE received_at IS NOT NULL")
    op.execute(f"UPDATE risk_warning SET closure_seconds = {_seconds('closed_at', 'dispatched_at')} "
               "WHERE closed_at IS NOT NULL")
    with op.batch_alter_table("risk_warning", schema=None) as batch_op:
        batch_op.create_index("ix_risk_warning_region_dispatched", ["region_code", "dispatched_at"], unique=False)
        batch_op.create_index("ix_risk_warning_section_dispatched", ["industry_section", "dispatched_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_warning", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_warning_section_dispatched")
        batch_op.drop_index("ix_risk_warning_region_dispatched")
        batch_op.drop_column("closure_seconds")
        batch_op.drop_column("receipt_seconds")
        batch_op.drop_column("industry_section")
        batch_op.drop_column("industry_code")
        batch_op.drop_column("region_code")
