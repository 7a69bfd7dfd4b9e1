"""source_record_count: each data source's records per kind, kept by the ingestion merge

Revision ID: 0016
Revises: 0015

The sources page (/sources, `integrationStatus`, `regwatch sources list`) counted every source's records in four
tables on each view (300,000 rows at 100,000 entities: 211 ms). The ingestion merge — the one path that inserts
entities, actions, complaints and credit records or moves an entity to another source — now keeps a counter per
(source, kind) in its own transaction; existing rows are counted here once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = {"entities": "entity", "actions": "supervision_action", "complaints": "complaint",
           "credit": "credit_record"}


def upgrade() -> None:
    op.create_table(
        "source_record_count",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["data_source.id"],
                                name=op.f("fk_source_record_count_source_id_data_source")),
        sa.PrimaryKeyConstraint("source_id", "kind", name=op.f("pk_source_record_count")),
    )
    for kind, table in _TABLES.items():
        op.execute(f"INSERT INTO source_record_count (source_id, kind, records) "
                   f"SELECT source_id, '{kind}', COUNT(*) FROM {table} WHERE source_id IS NOT NULL GROUP BY source_id")


def downgrade() -> None:
    op.drop_table("source_record_count")
