"""Risk clues, warnings, routing, deadlines, working-day calendar (issue 13)

Revision ID: 0009
Revises: 0008

risk_warning with its hot-list indexes (department + status + created, status + created, level + created, entity)
and a partial unique index that allows one open warning per entity; warning_event (the trace, 留痕);
warning_code_sequence (YJ-<year>-<n> numbers under a row lock); risk_clue (unique per data source + external id);
routing_rule; warning_deadline_setting; workday_override.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import domain.types  # noqa: F401

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.create_index('ix_risk_score_run_score', ['run_id', 'score', 'level', 'entity_id'], unique=False)

    op.create_table('warning_code_sequence',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_warning_code_sequence'))
    )
    op.create_table('warning_deadline_setting',
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('receipt_days', sa.Integer(), nullable=False),
    sa.Column('receipt_day_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('disposal_days', sa.Integer(), nullable=False),
    sa.Column('disposal_day_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('updated_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('level', name=op.f('pk_warning_deadline_setting'))
    )
    op.create_table('workday_override',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('updated_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_workday_override'))
    )
    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('industry_prefix', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('updated_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_routing_rule_department_id_department')),
    sa.ForeignKeyConstraint(['item_id'], ['supervision_item.id'], name=op.f('fk_routing_rule_item_id_supervision_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule'))
    )
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.create_index('ix_routing_rule_kind_priority', ['kind', 'priority'], unique=False)

    op.create_table('risk_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('model_version_id', sa.Integer(), nullable=True),
    sa.Column('scoring_run_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('routing_rule_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('dispatched_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('receipt_due_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('disposal_due_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('received_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('closed_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_risk_warning_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_risk_warning_department_id_department')),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_risk_warning_entity_id_entity')),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_version.id'], name=op.f('fk_risk_warning_model_version_id_model_version')),
    sa.ForeignKeyConstraint(['routing_rule_id'], ['routing_rule.id'], name=op.f('fk_risk_warning_routing_rule_id_routing_rule')),
    sa.ForeignKeyConstraint(['scoring_run_id'], ['scoring_run.id'], name=op.f('fk_risk_warning_scoring_run_id_scoring_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_warning')),
    sa.UniqueConstraint('code', name=op.f('uq_risk_warning_code'))
    )
    with op.batch_alter_table('risk_warning', schema=None) as batch_op:
        batch_op.create_index('ix_risk_warning_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_risk_warning_department_created', ['department_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_risk_warning_department_status_created', ['department_id', 'status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_risk_warning_entity_created', ['entity_id', 'created_at'], unique=False)
        batch_op.create_index('ix_risk_warning_level_created', ['level', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_risk_warning_status_created', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_risk_warning_status_disposal_due', ['status', 'disposal_due_at'], unique=False)
        batch_op.create_index('uq_risk_warning_open_entity', ['entity_id'], unique=True, sqlite_where=sa.text("status IN ('issued', 'in_progress', 'return_requested', 'feedback_submitted')"), postgresql_where=sa.text("status IN ('issued', 'in_progress', 'return_requested', 'feedback_submitted')"))

    op.create_table('risk_clue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('uscc', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('entity_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('entity_problem', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('reporting_department_id', sa.Integer(), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('judged_by_id', sa.Integer(), nullable=True),
    sa.Column('judged_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('judged_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('judgement_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_risk_clue_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['source_id'], ['data_source.id'], name=op.f('fk_risk_clue_source_id_data_source')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['risk_clue.id'], name=op.f('fk_risk_clue_duplicate_of_id_risk_clue')),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_risk_clue_entity_id_entity')),
    sa.ForeignKeyConstraint(['item_id'], ['supervision_item.id'], name=op.f('fk_risk_clue_item_id_supervision_item')),
    sa.ForeignKeyConstraint(['judged_by_id'], ['app_user.id'], name=op.f('fk_risk_clue_judged_by_id_app_user')),
    sa.ForeignKeyConstraint(['reporting_department_id'], ['department.id'], name=op.f('fk_risk_clue_reporting_department_id_department')),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warning.id'], name=op.f('fk_risk_clue_warning_id_risk_warning')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_clue')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_risk_clue_source_id_external_id'))
    )
    with op.batch_alter_table('risk_clue', schema=None) as batch_op:
        batch_op.create_index('ix_risk_clue_department_received', ['reporting_department_id', 'received_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_clue_duplicate_of_id'), ['duplicate_of_id'], unique=False)
        batch_op.create_index('ix_risk_clue_entity_category_received', ['entity_id', 'category', 'received_on'], unique=False)
        batch_op.create_index('ix_risk_clue_received', ['received_on', 'id'], unique=False)
        batch_op.create_index('ix_risk_clue_status_received', ['status', 'received_on', 'id'], unique=False)
        batch_op.create_index('ix_risk_clue_uscc', ['uscc'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_clue_warning_id'), ['warning_id'], unique=False)

    op.create_table('warning_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_warning_event_actor_id_app_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_warning_event_department_id_department')),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warning.id'], name=op.f('fk_warning_event_warning_id_risk_warning')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_event'))
    )
    with op.batch_alter_table('warning_event', schema=None) as batch_op:
        batch_op.create_index('ix_warning_event_warning_at', ['warning_id', 'at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('warning_event', schema=None) as batch_op:
        batch_op.drop_index('ix_warning_event_warning_at')

    op.drop_table('warning_event')
    with op.batch_alter_table('risk_clue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_clue_warning_id'))
        batch_op.drop_index('ix_risk_clue_uscc')
        batch_op.drop_index('ix_risk_clue_status_received')
        batch_op.drop_index('ix_risk_clue_received')
        batch_op.drop_index('ix_risk_clue_entity_category_received')
        batch_op.drop_index(batch_op.f('ix_risk_clue_duplicate_of_id'))
        batch_op.drop_index('ix_risk_clue_department_received')

    op.drop_table('risk_clue')
    with op.batch_alter_table('risk_warning', schema=None) as batch_op:
        batch_op.drop_index('uq_risk_warning_open_entity', sqlite_where=sa.text("status IN ('issued', 'in_progress', 'return_requested', 'feedback_submitted')"), postgresql_where=sa.text("status IN ('issued', 'in_progress', 'return_requested', 'feedback_submitted')"))
        batch_op.drop_index('ix_risk_warning_status_disposal_due')
        batch_op.drop_index('ix_risk_warning_status_created')
        batch_op.drop_index('ix_risk_warning_level_created')
        batch_op.drop_index('ix_risk_warning_entity_created')
        batch_op.drop_index('ix_risk_warning_department_status_created')
        batch_op.drop_index('ix_risk_warning_department_created')
        batch_op.drop_index('ix_risk_warning_created')

    op.drop_table('risk_warning')
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_rule_kind_priority')

    op.drop_table('routing_rule')
    op.drop_table('workday_override')
    op.drop_table('warning_deadline_setting')
    op.drop_table('warning_code_sequence')
    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_score_run_score')
