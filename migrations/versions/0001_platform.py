"""platform: identity, audit, jobs, reference and supervision tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 03:05:50.904271
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import domain.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('client_addr', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_log_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_occurred_at'), ['occurred_at'], unique=False)

    op.create_table('department',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['department.id'], name=op.f('fk_department_parent_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department')),
    sa.UniqueConstraint('code', name=op.f('uq_department_code'))
    )
    op.create_table('industry',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('parent_code', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_industry'))
    )
    with op.batch_alter_table('industry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_industry_parent_code'), ['parent_code'], unique=False)

    op.create_table('region',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('parent_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_parent_code'), ['parent_code'], unique=False)

    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_app_user_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_department_id'), ['department_id'], unique=False)

    op.create_table('supervision_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('legal_basis', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_supervision_item_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_item')),
    sa.UniqueConstraint('code', name=op.f('uq_supervision_item_code'))
    )
    with op.batch_alter_table('supervision_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_item_department_id'), ['department_id'], unique=False)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', domain.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_api_token_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('data_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('expected_feeds', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_data_source_department_id_department')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_data_source_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_source')),
    sa.UniqueConstraint('code', name=op.f('uq_data_source_code'))
    )
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=True),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('started_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('finished_at', domain.types.UTCDateTime(), nullable=True),
    sa.Column('heartbeat_at', domain.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_job_created_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_status'), ['status'], unique=False)

    op.create_table('entity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('entity_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('industry_code', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
    sa.Column('registered_capital', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['data_source.id'], name=op.f('fk_entity_source_id_data_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity')),
    sa.UniqueConstraint('uscc', name=op.f('uq_entity_uscc'))
    )
    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entity_industry_code'), ['industry_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_entity_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_entity_region_code'), ['region_code'], unique=False)

    op.create_table('ingestion_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', domain.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_ingestion_batch_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_ingestion_batch_job_id_job')),
    sa.ForeignKeyConstraint(['source_id'], ['data_source.id'], name=op.f('fk_ingestion_batch_source_id_data_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingestion_batch'))
    )
    with op.batch_alter_table('ingestion_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingestion_batch_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ingestion_batch_source_id'), ['source_id'], unique=False)

    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('responded_on', sa.Date(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_complaint_entity_id_entity')),
    sa.ForeignKeyConstraint(['source_id'], ['data_source.id'], name=op.f('fk_complaint_source_id_data_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_complaint_source_id_external_id'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_entity_received', ['entity_id', 'received_on'], unique=False)

    op.create_table('credit_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('listed_on', sa.Date(), nullable=False),
    sa.Column('removed_on', sa.Date(), nullable=True),
    sa.Column('authority', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_credit_record_entity_id_entity')),
    sa.ForeignKeyConstraint(['source_id'], ['data_source.id'], name=op.f('fk_credit_record_source_id_data_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_record')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_credit_record_source_id_external_id'))
    )
    with op.batch_alter_table('credit_record', schema=None) as batch_op:
        batch_op.create_index('ix_credit_record_entity_listed', ['entity_id', 'listed_on'], unique=False)

    op.create_table('ingestion_error',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('record_index', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['ingestion_batch.id'], name=op.f('fk_ingestion_error_batch_id_ingestion_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingestion_error'))
    )
    with op.batch_alter_table('ingestion_error', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingestion_error_batch_id'), ['batch_id'], unique=False)

    op.create_table('supervision_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('penalty_amount', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('document_number', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('officers', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_supervision_action_department_id_department')),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_supervision_action_entity_id_entity')),
    sa.ForeignKeyConstraint(['item_id'], ['supervision_item.id'], name=op.f('fk_supervision_action_item_id_supervision_item')),
    sa.ForeignKeyConstraint(['source_id'], ['data_source.id'], name=op.f('fk_supervision_action_source_id_data_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_action')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_supervision_action_source_id_external_id'))
    )
    with op.batch_alter_table('supervision_action', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_action_department_started', ['department_id', 'started_on'], unique=False)
        batch_op.create_index('ix_supervision_action_entity_started', ['entity_id', 'started_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_action_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('supervision_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_action_item_id'))
        batch_op.drop_index('ix_supervision_action_entity_started')
        batch_op.drop_index('ix_supervision_action_department_started')

    op.drop_table('supervision_action')
    with op.batch_alter_table('ingestion_error', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingestion_error_batch_id'))

    op.drop_table('ingestion_error')
    with op.batch_alter_table('credit_record', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_record_entity_listed')

    op.drop_table('credit_record')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_entity_received')

    op.drop_table('complaint')
    with op.batch_alter_table('ingestion_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingestion_batch_source_id'))
        batch_op.drop_index(batch_op.f('ix_ingestion_batch_created_at'))

    op.drop_table('ingestion_batch')
    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entity_region_code'))
        batch_op.drop_index(batch_op.f('ix_entity_name'))
        batch_op.drop_index(batch_op.f('ix_entity_industry_code'))

    op.drop_table('entity')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_status'))
        batch_op.drop_index(batch_op.f('ix_job_kind'))

    op.drop_table('job')
    op.drop_table('data_source')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('supervision_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_item_department_id'))

    op.drop_table('supervision_item')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_department_id'))

    op.drop_table('app_user')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_parent_code'))

    op.drop_table('region')
    with op.batch_alter_table('industry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_industry_parent_code'))

    op.drop_table('industry')
    op.drop_table('department')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_occurred_at'))
        batch_op.drop_index('ix_audit_log_object')
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
