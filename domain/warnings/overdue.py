"""超期 (overdue), defined once: a warning past its receipt deadline while not yet received, or past its disposal
deadline while its feedback is not yet given. Derived, never a state; the receipt clock runs from dispatch, so not
receiving never stops it. Lists, the inbox, the sweep and the statistics all use these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from domain.warnings.models import Warning

__all__ = ["DISPOSAL_OPEN", "RECEIPT_OPEN", "disposal_overdue", "is_overdue", "overdue_condition",
           "receipt_overdue"]

RECEIPT_OPEN = ("issued", "return_requested")  # not yet received: the receipt clock runs from dispatch
DISPOSAL_OPEN = ("issued", "in_progress", "return_requested")  # feedback not yet given


def receipt_overdue(now: datetime) -> Any:
    return sa.and_(col(Warning.status).in_(RECEIPT_OPEN), col(Warning.received_at).is_(None),
                   col(Warning.receipt_due_at) < now)


def disposal_overdue(now: datetime) -> Any:
    return sa.and_(col(Warning.status).in_(DISPOSAL_OPEN), col(Warning.disposal_due_at) < now)


def overdue_condition(now: datetime) -> Any:
    """SQL: the warning is past its receipt or disposal deadline now (the inbox's 已超期 tab, the lists' filter)."""
    return sa.or_(receipt_overdue(now), disposal_overdue(now))


def is_overdue(w: Warning, now: datetime) -> bool:
    """The same rule as `overdue_condition`, for a loaded warning."""
    return ((w.status in RECEIPT_OPEN and w.received_at is None and w.receipt_due_at < now)
            or (w.status in DISPOSAL_OPEN and w.disposal_due_at < now))
