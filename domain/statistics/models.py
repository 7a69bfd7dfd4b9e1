"""Indexes the statistics read: warnings counted by the period they were dispatched in (city-wide or one
department's), closed in or due in. The warning table itself belongs to domain/warnings; its dashboard indexes live
here, beside the queries that need them (migrations 0014, 0018). A department's, district's or section's figures
read the same dispatch index (its range filtered by the column it carries): faster on the bench city than a
narrower index on that column with a lookup of every row.

Each chart is one statement over one of these, and each index carries every column its statements read (the
group keys, the filters, what overdue is derived from, the durations), so a chart is counted from the index
alone: an index-only scan on PostgreSQL (once vacuumed), a covering index on SQLite — never the wide warning rows.
"""

from __future__ import annotations

import sqlalchemy as sa

from domain.disposal.models import WarningFeedback
from domain.warnings.models import RiskClue, Warning

__all__ = ["STATISTICS_INDEXES", "STATS_CLOSED", "STATS_CLUES", "STATS_DISPATCHED", "STATS_DUE", "STATS_FEEDBACK"]

_warning = Warning.__table__  # type: ignore[attr-defined]
_SCOPE = ("department_id", "region_code", "industry_section", "industry_code")
# the period's warnings by dispatch: every grouping, the overdue rule, the disposal durations, the id (feedback)
STATS_DISPATCHED = ("dispatched_at", "status", "level", "source", *_SCOPE, "received_at", "receipt_due_at",
                    "disposal_due_at", "closed_at", "receipt_seconds", "closure_seconds", "id")
STATS_CLOSED = ("closed_at", "status", *_SCOPE)  # the trend's closures by their date
STATS_DUE = ("disposal_due_at", "status", "closed_at", *_SCOPE)  # the trend's overdue by their deadline
CLOSED_WHERE = "closed_at IS NOT NULL"
STATS_FEEDBACK = ("warning_id", "part", "round", "outcome", "satisfaction")
STATS_CLUES = ("received_on", "source", "status", "reporting_department_id", "entity_id")  # clue volume
STATISTICS_INDEXES = (
    sa.Index("ix_risk_warning_stats_dispatched", *(_warning.c[c] for c in STATS_DISPATCHED)),
    # only closed (and withdrawn) warnings: a new warning never enters it (`closed_at >= :lo` implies NOT NULL)
    sa.Index("ix_risk_warning_stats_closed", *(_warning.c[c] for c in STATS_CLOSED),
             sqlite_where=sa.text(CLOSED_WHERE), postgresql_where=sa.text(CLOSED_WHERE)),
    sa.Index("ix_risk_warning_stats_due", *(_warning.c[c] for c in STATS_DUE)),
    # a warning's latest main feedback round, its outcome and rating (precision, satisfaction) without the rows
    sa.Index("ix_warning_feedback_stats", *(WarningFeedback.__table__.c[c]  # type: ignore[attr-defined]
                                            for c in STATS_FEEDBACK)),
    # the clues received in a period by source and status (and the department / entity filters)
    sa.Index("ix_risk_clue_stats", *(RiskClue.__table__.c[c] for c in STATS_CLUES)),  # type: ignore[attr-defined]
)
