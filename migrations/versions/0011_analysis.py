"""Supervision analysis, indicator sets, evaluations, reports (issue 16)

Revision ID: 0011
Revises: 0010

indicator_set (versioned: code + version unique) and its indicator rows; evaluation_run (a set applied to a
period) and evaluation_result (one department's values, scores, total, rank, grade, previous total/rank);
analysis_report (the archive of generated reports, files under REGWATCH_VAR_DIR). Seeds the default indicator
set (domain/evaluation/defaults.py) as version 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import domain.types  # noqa: F401

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    indicator_set = op.create_table('indicator_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('grade_bands', sa.JSON(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_set')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_indicator_set_code_version'))
    )
    indicator = op.create_table('indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('floor', sa.Float(), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['indicator_set.id'], name=op.f('fk_indicator_set_id_indicator_set')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator')),
    sa.UniqueConstraint('set_id', 'metric', name=op.f('uq_indicator_set_id_metric'))
    )
    op.create_index(op.f('ix_indicator_set_id'), 'indicator', ['set_id'], unique=False)
    op.create_table('evaluation_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('department_count', sa.Integer(), nullable=False),
    sa.Column('previous_run_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_evaluation_run_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['previous_run_id'], ['evaluation_run.id'],
                            name=op.f('fk_evaluation_run_previous_run_id_evaluation_run')),
    sa.ForeignKeyConstraint(['set_id'], ['indicator_set.id'], name=op.f('fk_evaluation_run_set_id_indicator_set')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_run'))
    )
    op.create_index('ix_evaluation_run_period_created', 'evaluation_run', ['period', 'created_at'], unique=False)
    op.create_index(op.f('ix_evaluation_run_set_id'), 'evaluation_run', ['set_id'], unique=False)
    op.create_table('analysis_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('docx_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('html_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('docx_bytes', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('evaluation_run_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('generated_by_id', sa.Integer(), nullable=True),
    sa.Column('generated_by_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('generated_at', domain.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evaluation_run_id'], ['evaluation_run.id'],
                            name=op.f('fk_analysis_report_evaluation_run_id_evaluation_run')),
    sa.ForeignKeyConstraint(['generated_by_id'], ['app_user.id'], name=op.f('fk_analysis_report_generated_by_id_app_user')),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_analysis_report_job_id_job')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_report'))
    )
    op.create_index('ix_analysis_report_period_generated', 'analysis_report', ['period', 'generated_at'], unique=False)
    op.create_table('evaluation_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('metric_values', sa.JSON(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('grade', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('previous_total', sa.Float(), nullable=True),
    sa.Column('previous_rank', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_evaluation_result_department_id_department')),
    sa.ForeignKeyConstraint(['run_id'], ['evaluation_run.id'], name=op.f('fk_evaluation_result_run_id_evaluation_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_result')),
    sa.UniqueConstraint('run_id', 'department_id', name=op.f('uq_evaluation_result_run_id_department_id'))
    )
    op.create_index('ix_evaluation_result_department_run', 'evaluation_result', ['department_id', 'run_id'],
                    unique=False)
    _seed_default_set(indicator_set, indicator)


def _seed_default_set(indicator_set: sa.Table, indicator: sa.Table) -> None:
    from domain.evaluation.defaults import DEFAULT_GRADE_BANDS, DEFAULT_INDICATORS, DEFAULT_SET

    op.bulk_insert(indicator_set, [{
        "id": 1, "code": DEFAULT_SET["code"], "version": 1, "name": DEFAULT_SET["name"],
        "description": DEFAULT_SET["description"], "grade_bands": DEFAULT_GRADE_BANDS, "is_current": True,
        "created_by_name": "system", "created_at": datetime.now(UTC)}])
    op.bulk_insert(indicator, [
        {"set_id": 1, "position": n, "metric": i["metric"], "weight": float(i["weight"]), "target": i["target"],
         "floor": i["floor"], "direction": i["direction"], "rule": i["rule"], "bands": i.get("bands", [])}
        for n, i in enumerate(DEFAULT_INDICATORS)])
    if op.get_bind().dialect.name == "postgresql":  # explicit id 1: move the sequence past it
        op.execute("SELECT setval(pg_get_serial_sequence('indicator_set', 'id'), 1)")


def downgrade() -> None:
    op.drop_index('ix_evaluation_result_department_run', table_name='evaluation_result')
    op.drop_table('evaluation_result')
    op.drop_index('ix_analysis_report_period_generated', table_name='analysis_report')
    op.drop_table('analysis_report')
    op.drop_index(op.f('ix_evaluation_run_set_id'), table_name='evaluation_run')
    op.drop_index('ix_evaluation_run_period_created', table_name='evaluation_run')
    op.drop_table('evaluation_run')
    op.drop_index(op.f('ix_indicator_set_id'), table_name='indicator')
    op.drop_table('indicator')
    op.drop_table('indicator_set')
