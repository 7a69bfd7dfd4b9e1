"""Warning disposal figures per department (处理率、超期率、满意度), read from the warning and disposal tables.

Those modules are built alongside this one: their models are imported lazily and the tables looked up in the
database, so the analysis answers "no data" (None) rather than a made-up number while they are not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.analysis.periods import Period
from domain.types import utcnow

__all__ = ["DISPOSAL_UNAVAILABLE", "DisposalFigures", "DisposalRates", "disposal_by_department", "feedback_model",
           "warning_model"]

DISPOSAL_UNAVAILABLE = "暂无数据（处置模块未上线）"
DISPOSED_STATUSES = ("feedback_submitted", "closed")
SATISFIED_AT = 4  # satisfaction 1–5; 4 and 5 count as satisfied (满意)


class DisposalRates:
    """处理率 and 超期率 of anything that counts warnings, disposed and overdue ones (analysis and statistics)."""

    warnings: int
    disposed: int
    overdue: int

    @property
    def disposal_rate(self) -> float | None:
        return self.disposed / self.warnings if self.warnings else None

    @property
    def overdue_rate(self) -> float | None:
        return self.overdue / self.warnings if self.warnings else None


@dataclass
class DisposalFigures(DisposalRates):
    warnings: int = 0
    disposed: int = 0
    overdue: int = 0
    rated: int = 0
    satisfied: int = 0
    satisfaction_sum: float = 0.0

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    @property
    def satisfaction_avg(self) -> float | None:
        return self.satisfaction_sum / self.rated if self.rated else None


def warning_model() -> Any | None:
    try:
        from domain.warnings.models import Warning
    except ImportError:
        return None
    return Warning


def feedback_model() -> Any | None:
    """The disposal module's feedback table: the one with a warning and a satisfaction score."""
    try:
        import domain.disposal.models as models  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    for obj in vars(models).values():
        table = getattr(obj, "__table__", None)
        if isinstance(obj, type) and table is not None and {"warning_id", "satisfaction"} <= set(table.c.keys()):
            return obj
    return None


def _has_table(session: Session, name: str) -> bool:
    return sa.inspect(session.connection()).has_table(name)


def disposal_by_department(session: Session, period: Period,
                           department_ids: list[int] | None = None) -> dict[int, DisposalFigures] | None:
    """Figures for warnings dispatched in the period, by responsible department; None when there is no module."""
    warning = warning_model()
    if warning is None or not _has_table(session, warning.__tablename__):
        return None
    lo, hi = period.utc_bounds()
    now = utcnow()
    w = warning.__table__.c
    base = [w.dispatched_at >= lo, w.dispatched_at < hi, w.status != "dismissed"]
    if department_ids is not None:
        base.append(w.department_id.in_(department_ids))

    def n(cond: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    overdue = sa.or_(sa.and_(w.closed_at.is_(None), w.status.not_in(DISPOSED_STATUSES), w.disposal_due_at < now),
                     sa.and_(w.closed_at.is_not(None), w.closed_at > w.disposal_due_at))
    figures: dict[int, DisposalFigures] = {}
    for dept, total, disposed, late in session.execute(
            sa.select(w.department_id, sa.func.count(), n(w.status.in_(DISPOSED_STATUSES)), n(overdue))
            .where(*base).group_by(w.department_id)):
        figures[dept] = DisposalFigures(warnings=total, disposed=disposed, overdue=late)
    feedback = feedback_model()
    if feedback is not None and _has_table(session, feedback.__tablename__):
        f = feedback.__table__.c
        rated_rows = [f.satisfaction.is_not(None), *([f.part == "main"] if "part" in f else [])]
        joined = feedback.__table__.join(warning.__table__, f.warning_id == w.id)
        if "round" in f:  # after rework a warning has several rounds of feedback: its latest one counts
            latest = (sa.select(f.warning_id, sa.func.max(f.round).label("round")).where(*rated_rows)
                      .group_by(f.warning_id).subquery())
            joined = joined.join(latest, sa.and_(latest.c.warning_id == f.warning_id, latest.c.round == f.round))
        rows = session.execute(
            sa.select(w.department_id, sa.func.count(), n(f.satisfaction >= SATISFIED_AT), sa.func.sum(f.satisfaction))
            .select_from(joined).where(*base, *rated_rows).group_by(w.department_id))
        for dept, rated, satisfied, total_score in rows:
            fig = figures.setdefault(dept, DisposalFigures())
            fig.rated, fig.satisfied, fig.satisfaction_sum = rated, satisfied, float(total_score or 0)
    return figures
