"""risk models, rules and scores

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import domain.types  # noqa: F401

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('risk_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('expression', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('min_level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_rule')),
    sa.UniqueConstraint('code', name=op.f('uq_risk_rule_code'))
    )
    op.create_table('risk_rule_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('expression', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('min_level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('saved_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('saved_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['risk_rule.id'], name=op.f('fk_risk_rule_revision_rule_id_risk_rule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_rule_revision')),
    sa.UniqueConstraint('rule_id', 'revision', name=op.f('uq_risk_rule_revision_rule_id_revision'))
    )
    op.create_table('model_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('train_from', sa.Date(), nullable=True),
    sa.Column('train_to', sa.Date(), nullable=True),
    sa.Column('validation_cutoff', sa.Date(), nullable=True),
    sa.Column('label_window_days', sa.Integer(), nullable=False),
    sa.Column('label_counts', sa.JSON(), nullable=False),
    sa.Column('data_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('thresholds', sa.JSON(), nullable=False),
    sa.Column('training_summary', sa.JSON(), nullable=False),
    sa.Column('artifact', sa.LargeBinary(), nullable=True),
    sa.Column('trained_by_id', sa.Integer(), nullable=True),
    sa.Column('trained_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_model_version_job_id_job')),
    sa.ForeignKeyConstraint(['trained_by_id'], ['app_user.id'], name=op.f('fk_model_version_trained_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_version')),
    sa.UniqueConstraint('model_name', 'version', name=op.f('uq_model_version_model_name_version'))
    )
    op.create_table('model_alias',
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('set_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('set_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], name=op.f('fk_model_alias_version_id_model_version')),
    sa.PrimaryKeyConstraint('model_name', 'alias', name=op.f('pk_model_alias'))
    )
    op.create_table('model_alias_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', domain.types.UTCDateTime(), nullable=False),
    sa.Column('valid_to', domain.types.UTCDateTime(), nullable=True),
    sa.Column('set_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], name=op.f('fk_model_alias_history_version_id_model_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_alias_history'))
    )
    with op.batch_alter_table('model_alias_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_alias_history_version_id'), ['version_id'], unique=False)

    op.create_table('scoring_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('entities', sa.Integer(), nullable=False),
    sa.Column('level_counts', sa.JSON(), nullable=False),
    sa.Column('drift', sa.JSON(), nullable=False),
    sa.Column('timings', sa.JSON(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('started_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', domain.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_scoring_run_job_id_job')),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], name=op.f('fk_scoring_run_version_id_model_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_run'))
    )
    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scoring_run_version_id'), ['version_id'], unique=False)

    op.create_table('risk_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('model_level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('rules_matched', sa.JSON(), nullable=True),
    sa.Column('contributions', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_risk_score_entity_id_entity')),
    sa.ForeignKeyConstraint(['run_id'], ['scoring_run.id'], name=op.f('fk_risk_score_run_id_scoring_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_score')),
    sa.UniqueConstraint('run_id', 'entity_id', name=op.f('uq_risk_score_run_id_entity_id'))
    )
    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.create_index('ix_risk_score_entity_run', ['entity_id', 'run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_score_entity_run')

    op.drop_table('risk_score')
    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scoring_run_version_id'))

    op.drop_table('scoring_run')
    with op.batch_alter_table('model_alias_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_alias_history_version_id'))

    op.drop_table('model_alias_history')
    op.drop_table('model_alias')
    op.drop_table('model_version')
    op.drop_table('risk_rule_revision')
    op.drop_table('risk_rule')
