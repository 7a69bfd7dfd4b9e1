"""supervision data and ingestion: data source freshness settings; GB/T 2260 and GB/T 4754 reference data

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import domain.types  # noqa: F401

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("data_source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stale_after_days", sa.Integer(), server_default="7", nullable=False))
        batch_op.add_column(sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500),
                                      server_default="", nullable=False))
    # Reference data ships with the code (domain/reference/data); `regwatch reference load` refreshes it.
    from domain.reference.service import load_reference_data

    load_reference_data(op.get_bind())


def downgrade() -> None:
    op.execute("DELETE FROM industry")
    op.execute("DELETE FROM region")
    with op.batch_alter_table("data_source", schema=None) as batch_op:
        batch_op.drop_column("description")
        batch_op.drop_column("stale_after_days")
