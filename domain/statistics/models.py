"""Indexes the statistics read: warnings counted by the period they were dispatched in (city-wide or one
department's). The warning table itself belongs to domain/warnings; its dashboard indexes live here, beside the
queries that need them (migration 0014)."""

from __future__ import annotations

import sqlalchemy as sa

from domain.warnings.models import Warning

__all__ = ["STATISTICS_INDEXES"]

_warning = Warning.__table__  # type: ignore[attr-defined]
STATISTICS_INDEXES = (
    sa.Index("ix_risk_warning_dispatched", _warning.c.dispatched_at),
    sa.Index("ix_risk_warning_department_dispatched", _warning.c.department_id, _warning.c.dispatched_at),
)
