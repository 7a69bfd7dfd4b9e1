"""分析报告: a generated analysis report of a period, archived with its files under REGWATCH_VAR_DIR."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = ["AnalysisReport"]


class AnalysisReport(SQLModel, table=True):
    __tablename__ = "analysis_report"
    __table_args__ = (sa.Index("ix_analysis_report_period_generated", "period", "generated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=32)
    period_start: date
    period_end: date  # exclusive
    title: str = Field(max_length=200)
    docx_path: str = Field(max_length=500)  # relative to the var dir
    html_path: str = Field(max_length=500)
    docx_bytes: int = Field(default=0)
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # headline figures
    evaluation_run_id: int | None = Field(default=None, foreign_key="evaluation_run.id")
    job_id: int | None = Field(default=None, foreign_key="job.id")
    generated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    generated_by_name: str = Field(default="system", max_length=64)
    generated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
