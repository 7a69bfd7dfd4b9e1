"""Overdue (超期) is derived, never a state; the sweep records one `overdue` event per deadline and escalates:
notices to the department's lead users (领导/考核人员 of that department) and to the analysts, and (unless
REGWATCH_OVERDUE_ESCALATE=off) the warning is marked escalated (已升级 in the inbox). Runs as the scheduled job
"disposal_overdue_sweep"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from domain.audit.models import AuditLog
from domain.disposal.models import WarningDisposal
from domain.identity.actor import SYSTEM
from domain.jobs.service import JobContext, job_handler
from domain.notifications.models import Notification
from domain.notifications.outbox import users_of_departments, users_with_role
from domain.types import LOCAL_TZ, table_of, utcnow
from domain.warnings.models import Warning, WarningEvent
from domain.warnings.overdue import (  # the one rule, re-exported here
    disposal_overdue,
    is_overdue,
    overdue_condition,
    receipt_overdue,
)

__all__ = ["SWEEP_BATCH", "SWEEP_JOB", "SWEEP_MINUTES", "is_overdue", "overdue_condition", "sweep_overdue"]

SWEEP_JOB = "disposal_overdue_sweep"
SWEEP_MINUTES = 10
SWEEP_BATCH = 2000  # warnings per deadline kind and transaction


def _ensure_rows(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    session.execute(insert(table_of(WarningDisposal)).values(
        [{"warning_id": i, "urge_count": 0, "feedback_round": 0, "rework_count": 0, "return_reason": "",
          "updated_at": now} for i in ids]).on_conflict_do_nothing(index_elements=["warning_id"]))


def sweep_overdue(session: Session, now: datetime | None = None, *, escalate: bool = True,
                  limit: int = SWEEP_BATCH) -> dict[str, int]:
    """Record what became overdue since the last sweep, at most `limit` warnings per deadline kind; idempotent (the
    mark per deadline is one conditional update, so two sweeps at once record each deadline once).

    Set-based: per deadline kind one SELECT of the candidates, one insert of their missing disposal rows, one
    conditional UPDATE … RETURNING of those whose mark this sweep set, then their events, notices and audit rows
    in batched inserts (the events through the ORM, so the outbox listener writes theirs; SQLite's ORM inserts
    them one by one to learn their ids) — otherwise the same statements for 1 or 2,000 warnings (a first sweep
    over a backlog used to cost a dozen statements per warning). `more` (1): candidates were left past `limit`."""
    now = now or utcnow()
    found: dict[str, int] = {"receipt": 0, "disposal": 0, "notices": 0}
    more = False
    analysts = users_with_role(session, ["analyst"])
    leads: dict[int | None, list[Any]] | None = None
    warning, disposal = table_of(Warning).c, table_of(WarningDisposal).c  # Core columns: typed, with their key
    for which, condition, due_col, mark_col in (
            ("receipt", receipt_overdue(now), warning.receipt_due_at, disposal.receipt_overdue_for),
            ("disposal", disposal_overdue(now), warning.disposal_due_at, disposal.disposal_overdue_for)):
        rows = session.execute(
            sa.select(warning.id, warning.code, warning.department_id, due_col)
            .select_from(table_of(Warning).outerjoin(table_of(WarningDisposal), disposal.warning_id == warning.id))
            .where(condition, sa.or_(mark_col.is_(None), mark_col != due_col)).order_by(warning.id)
            .limit(limit + 1)).all()
        more = more or len(rows) > limit
        rows = rows[:limit]
        if not rows:
            continue
        ids = [r.id for r in rows]
        _ensure_rows(session, ids)
        due_now = sa.select(due_col).where(warning.id == disposal.warning_id).scalar_subquery()
        values: dict[str, Any] = {mark_col.key: due_now, "updated_at": now}
        if escalate:
            values["escalated_at"] = now
        won = set(session.execute(
            sa.update(table_of(WarningDisposal))
            .where(disposal.warning_id.in_(ids), sa.or_(mark_col.is_(None), mark_col != due_now))
            .values(**values).returning(disposal.warning_id)).scalars())
        rows = [r for r in rows if r.id in won]
        if not rows:
            continue
        if leads is None:  # the departments' lead users, once per sweep
            leads = {}
            for user in users_of_departments(session, sorted({r.department_id for r in rows}), ["viewer"]):
                leads.setdefault(user.department_id, []).append(user)
        label = "签收" if which == "receipt" else "处置"
        notices: list[dict[str, Any]] = []
        audits: list[dict[str, Any]] = []  # as record_audit writes them, in one executemany (no ids needed back)
        for r in rows:
            due = getattr(r, due_col.key)
            local = due.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
            session.add(WarningEvent(warning_id=r.id, kind="overdue", actor_name=SYSTEM.username, at=now,
                                     comment=f"已超过{label}期限（{local}）",
                                     payload={"deadline": which, "due_at": due.isoformat(), "escalated": escalate}))
            audits.append({"occurred_at": now, "actor_id": None, "actor_name": SYSTEM.username,
                           "action": "warning.overdue", "object_type": "risk_warning", "object_id": str(r.id),
                           "changes": {"deadline": which, "due_at": due.isoformat()}, "request_id": None,
                           "client_addr": None})
            readers = {u.id for u in [*leads.get(r.department_id, []), *analysts] if u.id is not None}
            notices += [{"user_id": uid, "kind": "overdue", "warning_id": r.id,
                         "title": f"预警 {r.code} 已超过{label}期限"[:200], "body": f"{label}期限：{local}"}
                        for uid in sorted(readers)]
        session.execute(sa.insert(AuditLog), audits)
        if notices:
            session.execute(sa.insert(Notification), notices)
        found[which] += len(rows)
        found["notices"] += len(notices)
        session.flush()
    if more:
        found["more"] = 1
    return found


@job_handler(SWEEP_JOB)
def _sweep_job(ctx: JobContext) -> dict[str, Any]:
    from domain.settings import get_settings

    now = datetime.fromisoformat(ctx.params["now"]) if ctx.params.get("now") else None
    escalate = get_settings().overdue_escalate
    result = {"receipt": 0, "disposal": 0, "notices": 0}
    while True:  # a backlog in batches, each its own short transaction (SQLite's write lock is held per batch)
        with ctx.db.unit_of_work() as session:
            batch = sweep_overdue(session, now, escalate=escalate)
        for key in result:
            result[key] += batch[key]
        if not batch.get("more"):
            break
    ctx.progress(1, 1, f"超期签收 {result['receipt']} 条，超期处置 {result['disposal']} 条", force=True)
    return result
