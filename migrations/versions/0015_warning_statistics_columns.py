"""risk_warning: the entity's district and industry as issued, and the disposal durations, for the statistics

Revision ID: 0015
Revises: 0014

The dashboard's district and industry charts joined every warning of a period to a million entities, and the
disposal ranking computed two durations per row for its medians. A warning now records, when it is issued, the
entity's district (`region_code`), industry code (`industry_code`) and that code's GB/T 4754 section
(`industry_section`: the section letter; the code itself when it belongs to no known section), and the disposal
steps keep `receipt_seconds` (dispatch to receipt) and `closure_seconds` (dispatch to closure). Existing rows are
filled from the entity and the timestamps here. warning_event gets (kind, warning_id): the ranking counts the rare
kinds (退单, 督办) of a period's warnings from those events, not by probing every warning's events.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _section(code: str) -> str:
    """SQL: the section of an industry code — a division's parent, a leading letter ("C", "C13"), else the code."""
    return (f"coalesce((SELECT industry.parent_code FROM industry WHERE industry.code = {code} AND industry.level = "
            f"'division'), CASE WHEN substr({code}, 1, 1) BETWEEN 'A' AND 'Z' THEN substr({code}, 1, 1) "
            f"ELSE {code} END)")


def _seconds(later: str, earlier: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"extract(epoch FROM {later} - {earlier})"
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"  # julianday keeps ~ms


def _backfill() -> None:
    """One pass over the warnings (every extra UPDATE rewrites each row and its index entries again)."""
    durations = (f"receipt_seconds = CASE WHEN received_at IS NOT NULL THEN "
                 f"{_seconds('received_at', 'dispatched_at')} END, "
                 f"closure_seconds = CASE WHEN closed_at IS NOT NULL THEN {_seconds('closed_at', 'dispatched_at')} END")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"UPDATE risk_warning SET region_code = entity.region_code, industry_code = entity.industry_code, "
                   f"industry_section = {_section('entity.industry_code')}, {durations} "
                   f"FROM entity WHERE entity.id = risk_warning.entity_id")
        return
    of_entity = "(SELECT entity.{} FROM entity WHERE entity.id = risk_warning.entity_id)"
    op.execute(f"UPDATE risk_warning SET region_code = {of_entity.format('region_code')}, "
               f"industry_code = {of_entity.format('industry_code')}, "
               f"industry_section = {_section(of_entity.format('industry_code'))}, {durations}")


def upgrade() -> None:
    with op.batch_alter_table("risk_warning", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("industry_code", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("industry_section", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("receipt_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("closure_seconds", sa.Float(), nullable=True))
    _backfill()
    with op.batch_alter_table("risk_warning", schema=None) as batch_op:
        batch_op.create_index("ix_risk_warning_region_dispatched", ["region_code", "dispatched_at"], unique=False)
        batch_op.create_index("ix_risk_warning_section_dispatched", ["industry_section", "dispatched_at"],
                              unique=False)
    with op.batch_alter_table("warning_event", schema=None) as batch_op:
        batch_op.create_index("ix_warning_event_kind_warning", ["kind", "warning_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("warning_event", schema=None) as batch_op:
        batch_op.drop_index("ix_warning_event_kind_warning")
    with op.batch_alter_table("risk_warning", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_warning_section_dispatched")
        batch_op.drop_index("ix_risk_warning_region_dispatched")
        batch_op.drop_column("closure_seconds")
        batch_op.drop_column("receipt_seconds")
        batch_op.drop_column("industry_section")
        batch_op.drop_column("industry_code")
        batch_op.drop_column("region_code")
