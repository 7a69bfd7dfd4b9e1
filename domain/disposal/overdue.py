"""Overdue (超期) is derived, never a state; the sweep records one `overdue` event per deadline and escalates:
notices to the department's lead users (领导/考核人员 of that department) and to the analysts, and (unless
REGWATCH_OVERDUE_ESCALATE=off) the warning is marked escalated (已升级 in the inbox). Runs as the scheduled job
"disposal_overdue_sweep"."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.disposal.ids import saved_id
from domain.disposal.models import WarningDisposal
from domain.identity.actor import SYSTEM
from domain.jobs.service import JobContext, job_handler
from domain.notifications.outbox import notify_users, users_of_departments, users_with_role
from domain.types import LOCAL_TZ, table_of, utcnow
from domain.warnings.models import Warning, WarningEvent
from domain.warnings.overdue import (  # the one rule, re-exported here
    disposal_overdue,
    is_overdue,
    overdue_condition,
    receipt_overdue,
)

__all__ = ["SWEEP_JOB", "SWEEP_MINUTES", "is_overdue", "overdue_condition", "sweep_overdue"]

SWEEP_JOB = "disposal_overdue_sweep"
SWEEP_MINUTES = 10


def _ensure_rows(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    session.execute(insert(table_of(WarningDisposal)).values(
        [{"warning_id": i, "urge_count": 0, "feedback_round": 0, "rework_count": 0, "return_reason": "",
          "updated_at": now} for i in ids]).on_conflict_do_nothing(index_elements=["warning_id"]))


def sweep_overdue(session: Session, now: datetime | None = None, *, escalate: bool = True) -> dict[str, int]:
    """Record what became overdue since the last sweep; idempotent (the mark per deadline is a conditional update,
    so two sweeps at once record each deadline once)."""
    now = now or utcnow()
    found: dict[str, int] = {"receipt": 0, "disposal": 0, "notices": 0}
    analysts = users_with_role(session, ["analyst"])
    warning, disposal = table_of(Warning).c, table_of(WarningDisposal).c  # Core columns: typed, with their key
    for which, condition, due_col, mark_col in (
            ("receipt", receipt_overdue(now), warning.receipt_due_at, disposal.receipt_overdue_for),
            ("disposal", disposal_overdue(now), warning.disposal_due_at, disposal.disposal_overdue_for)):
        stmt = (select(Warning).outerjoin(WarningDisposal, col(WarningDisposal.warning_id) == Warning.id)
                .where(condition, sa.or_(mark_col.is_(None), mark_col != due_col)).order_by(col(Warning.id))
                .limit(5000))
        rows = list(session.exec(stmt).all())
        _ensure_rows(session, [saved_id(w) for w in rows])
        for w in rows:
            due = getattr(w, due_col.key)
            values: dict[str, Any] = {mark_col.key: due, "updated_at": now}
            if escalate:
                values["escalated_at"] = now
            won = cast("sa.CursorResult[Any]", session.execute(sa.update(WarningDisposal).where(
                col(WarningDisposal.warning_id) == w.id, sa.or_(mark_col.is_(None), mark_col != due)).values(**values)
            )).rowcount
            if won != 1:
                continue
            found[which] += 1
            label = "签收" if which == "receipt" else "处置"
            local = due.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
            session.add(WarningEvent(warning_id=saved_id(w), kind="overdue", actor_name=SYSTEM.username, at=now,
                                     comment=f"已超过{label}期限（{local}）",
                                     payload={"deadline": which, "due_at": due.isoformat(), "escalated": escalate}))
            leads = users_of_departments(session, [w.department_id], ["viewer"])
            found["notices"] += notify_users(session, [*leads, *analysts], "overdue",
                                             f"预警 {w.code} 已超过{label}期限", f"{label}期限：{local}", w.id)
            record_audit(session, SYSTEM, "warning.overdue", "risk_warning", w.id,
                         {"deadline": which, "due_at": due.isoformat()})
        session.flush()
    return found


@job_handler(SWEEP_JOB)
def _sweep_job(ctx: JobContext) -> dict[str, Any]:
    from domain.settings import get_settings

    now = datetime.fromisoformat(ctx.params["now"]) if ctx.params.get("now") else None
    escalate = get_settings().overdue_escalate
    with ctx.db.unit_of_work() as session:
        result = sweep_overdue(session, now, escalate=escalate)
    ctx.progress(1, 1, f"超期签收 {result['receipt']} 条，超期处置 {result['disposal']} 条", force=True)
    return result
