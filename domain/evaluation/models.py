"""监管效能评价: versioned indicator sets (评价指标体系), evaluation runs (评价) and each department's result."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = ["EvaluationResult", "EvaluationRun", "Indicator", "IndicatorSet"]


class IndicatorSet(SQLModel, table=True):
    """评价指标体系: one version of a named set; editing makes a new version, runs keep the one they used."""

    __tablename__ = "indicator_set"
    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32)
    version: int = Field(default=1)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    # [{"grade": "优秀", "min": 90}, ...] highest first; a total below every band gets the last grade
    grade_bands: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    is_current: bool = Field(default=True)  # the newest version of its code
    created_by_name: str = Field(default="system", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Indicator(SQLModel, table=True):
    """评价指标: a metric with a weight, target, floor, direction and scoring rule."""

    __tablename__ = "indicator"
    __table_args__ = (sa.UniqueConstraint("set_id", "metric"),)

    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="indicator_set.id", index=True)
    position: int = Field(default=0)
    metric: str = Field(max_length=32)
    weight: float
    target: float
    floor: float
    direction: str = Field(default="higher", max_length=8)  # higher / lower is better
    rule: str = Field(default="linear", max_length=8)  # linear / bands
    # rule "bands": [{"bound": 0.9, "percent": 100}, ...]; the first band the value reaches earns that share
    bands: list[Any] = Field(default_factory=list, sa_type=sa.JSON)


class EvaluationRun(SQLModel, table=True):
    """评价: an indicator set applied to one period."""

    __tablename__ = "evaluation_run"
    __table_args__ = (sa.Index("ix_evaluation_run_period_created", "period", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="indicator_set.id", index=True)
    period: str = Field(max_length=32)
    period_start: date
    period_end: date  # exclusive
    as_of: date
    department_count: int = Field(default=0)
    previous_run_id: int | None = Field(default=None, foreign_key="evaluation_run.id")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_by_name: str = Field(default="system", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EvaluationResult(SQLModel, table=True):
    """One department's result in a run: metric values, indicator scores, total, rank, grade, change."""

    __tablename__ = "evaluation_result"
    __table_args__ = (sa.UniqueConstraint("run_id", "department_id"),
                      sa.Index("ix_evaluation_result_department_run", "department_id", "run_id"))

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evaluation_run.id")
    department_id: int = Field(foreign_key="department.id")
    metric_values: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # metric -> value (None: no data)
    scores: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # metric -> points (None: no data)
    total: float | None = Field(default=None)
    rank: int | None = Field(default=None)
    grade: str = Field(default="", max_length=16)
    previous_total: float | None = Field(default=None)
    previous_rank: int | None = Field(default=None)
