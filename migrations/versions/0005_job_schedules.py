"""job schedules

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 03:44:55.227704
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import domain.types  # noqa: F401

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('daily_at', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('interval_minutes', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('last_run_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('last_job_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['last_job_id'], ['job.id'], name=op.f('fk_job_schedule_last_job_id_job')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_schedule')),
    sa.UniqueConstraint('name', name=op.f('uq_job_schedule_name'))
    )
    with op.batch_alter_table('job_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_schedule_next_run_at'), ['next_run_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('job_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_schedule_next_run_at'))

    op.drop_table('job_schedule')
