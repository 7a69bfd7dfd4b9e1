"""Disposal workflow, feedback, evidence, outbox and webhooks (issue 14)

Revision ID: 0010
Revises: 0009

warning_disposal (return origin, urge count, overdue marks per deadline), warning_assist (协办),
warning_feedback (main and assisting parts), warning_extension (延期申请), evidence_file;
outbox_event, webhook_subscription / webhook_delivery / webhook_attempt, notification.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import domain.types  # noqa: F401

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('departments', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', domain.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_event'))
    )
    op.create_index('ix_outbox_event_dispatched', 'outbox_event', ['dispatched_at', 'id'], unique=False)
    op.create_table('webhook_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('event_kinds', sa.JSON(), nullable=False),
    sa.Column('department_ids', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscription')),
    sa.UniqueConstraint('name', name=op.f('uq_webhook_subscription_name'))
    )
    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('delivered_at', domain.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox_event.id'], name=op.f('fk_webhook_delivery_outbox_id_outbox_event')),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id'], name=op.f('fk_webhook_delivery_subscription_id_webhook_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_webhook_delivery_idempotency_key'))
    )
    op.create_index('ix_webhook_delivery_status_next', 'webhook_delivery', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhook_delivery_subscription_created', 'webhook_delivery', ['subscription_id', 'created_at', 'id'], unique=False)
    op.create_table('webhook_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id'], name=op.f('fk_webhook_attempt_delivery_id_webhook_delivery')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt'))
    )
    op.create_index(op.f('ix_webhook_attempt_delivery_id'), 'webhook_attempt', ['delivery_id'], unique=False)
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', domain.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_user_id_app_user')),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warning.id'], name=op.f('fk_notification_warning_id_risk_warning')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_index('ix_notification_user_read', 'notification', ['user_id', 'read_at', 'id'], unique=False)
    op.create_table('warning_assist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('added_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('added_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_warning_assist_department_id_department')),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warning.id'], name=op.f('fk_warning_assist_warning_id_risk_warning')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_assist')),
    sa.UniqueConstraint('warning_id', 'department_id', name=op.f('uq_warning_assist_warning_id_department_id'))
    )
    op.create_index('ix_warning_assist_department', 'warning_assist', ['department_id', 'warning_id'], unique=False)
    op.create_table('warning_disposal',
    sa.Column('warning_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('return_from_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('return_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('urge_count', sa.Integer(), nullable=False),
    sa.Column('feedback_round', sa.Integer(), nullable=False),
    sa.Column('rework_count', sa.Integer(), nullable=False),
    sa.Column('receipt_overdue_for', domain.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disposal_overdue_for', domain.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', domain.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warning.id'], name=op.f('fk_warning_disposal_warning_id_risk_warning')),
    sa.PrimaryKeyConstraint('warning_id', name=op.f('pk_warning_disposal'))
    )
    op.create_table('warning_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('previous_due_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_due_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requested_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('decided_at', domain.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_warning_extension_department_id_department')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'], name=op.f('fk_warning_extension_requested_by_id_app_user')),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warning.id'], name=op.f('fk_warning_extension_warning_id_risk_warning')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_extension'))
    )
    op.create_index('ix_warning_extension_warning_status', 'warning_extension', ['warning_id', 'status'], unique=False)
    op.create_table('warning_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('part', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('measures', sa.JSON(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('satisfaction_comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('submitted_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_warning_feedback_department_id_department')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['app_user.id'], name=op.f('fk_warning_feedback_submitted_by_id_app_user')),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warning.id'], name=op.f('fk_warning_feedback_warning_id_risk_warning')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_feedback'))
    )
    op.create_index('ix_warning_feedback_part_submitted', 'warning_feedback', ['part', 'submitted_at'], unique=False)
    op.create_index('ix_warning_feedback_warning_submitted', 'warning_feedback', ['warning_id', 'submitted_at', 'id'], unique=False)
    op.create_table('evidence_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('uploaded_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_evidence_file_department_id_department')),
    sa.ForeignKeyConstraint(['feedback_id'], ['warning_feedback.id'], name=op.f('fk_evidence_file_feedback_id_warning_feedback')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_evidence_file_uploaded_by_id_app_user')),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warning.id'], name=op.f('fk_evidence_file_warning_id_risk_warning')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_file')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_evidence_file_stored_name'))
    )
    op.create_index(op.f('ix_evidence_file_feedback_id'), 'evidence_file', ['feedback_id'], unique=False)
    op.create_index('ix_evidence_file_warning', 'evidence_file', ['warning_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_evidence_file_warning', table_name='evidence_file')
    op.drop_index(op.f('ix_evidence_file_feedback_id'), table_name='evidence_file')
    op.drop_table('evidence_file')
    op.drop_index('ix_warning_feedback_warning_submitted', table_name='warning_feedback')
    op.drop_index('ix_warning_feedback_part_submitted', table_name='warning_feedback')
    op.drop_table('warning_feedback')
    op.drop_index('ix_warning_extension_warning_status', table_name='warning_extension')
    op.drop_table('warning_extension')
    op.drop_table('warning_disposal')
    op.drop_index('ix_warning_assist_department', table_name='warning_assist')
    op.drop_table('warning_assist')
    op.drop_index('ix_notification_user_read', table_name='notification')
    op.drop_table('notification')
    op.drop_index(op.f('ix_webhook_attempt_delivery_id'), table_name='webhook_attempt')
    op.drop_table('webhook_attempt')
    op.drop_index('ix_webhook_delivery_subscription_created', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_status_next', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_table('webhook_subscription')
    op.drop_index('ix_outbox_event_dispatched', table_name='outbox_event')
    op.drop_table('outbox_event')
