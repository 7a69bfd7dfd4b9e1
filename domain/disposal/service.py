"""The disposal workflow (DESIGN.md, "Warning life"): one function per step, each checking who may do it and from
which state, bumping the warning's `row_version` (optimistic concurrency), recording a warning event and an audit
row; the outbox row follows every event automatically (domain/notifications/outbox.py).

```
issued ──receive──▶ in_progress ──submit feedback──▶ feedback_submitted ──close──▶ closed
  │                    ▲                                   │
  │                    └──────────── rework (reason) ──────┘
  └──request return─▶ return_requested ──approve: reassign──▶ issued (other department)
                            └──reject──▶ back where it was, deadlines unchanged
issued / in_progress ──reassign (analyst)──▶ issued (other department)
issued / in_progress / return_requested ──dismiss (analyst)──▶ dismissed
```
Events that change no state: extension request / approval / rejection, urge, assisting departments and their
feedback parts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.disposal.ids import saved_id
from domain.disposal.models import (
    MEASURES,
    OUTCOMES,
    EvidenceFile,
    WarningAssist,
    WarningDisposal,
    WarningExtension,
    WarningFeedback,
)
from domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import can, has_city_wide_scope, require_signed_in
from domain.notifications.outbox import notify_users, users_of_departments
from domain.types import LOCAL_TZ, table_of, utcnow
from domain.warnings.deadlines import WorkdayCalendar, deadline_settings, deadlines_for
from domain.warnings.models import WARNING_STATUSES, Warning, WarningEvent, duration_values

__all__ = [
    "ACTIONS",
    "STALE_MESSAGE",
    "Action",
    "FeedbackInput",
    "add_assisting_department",
    "allowed_actions",
    "approve_extension",
    "approve_return",
    "assisting_departments",
    "close_warning",
    "dismiss_warning",
    "load_for_action",
    "pending_extension",
    "reassign_warning",
    "receive_warning",
    "reject_extension",
    "reject_return",
    "request_extension",
    "request_return",
    "rework_warning",
    "submit_assist_feedback",
    "submit_feedback",
    "urge_warning",
    "visible",
    "visible_warning",
]

STALE_MESSAGE = "已被他人修改，请刷新"
END_OF_DAY = time(23, 59, 59)
MAX_EXTENSION_DAYS = 365


@dataclass(frozen=True)
class Action:
    """One step: who (side: main = handlers of the responsible department, assist = of an assisting department,
    analyst = city-wide analysts), with which permission, from which states."""

    name: str
    label: str
    permission: str
    side: str
    from_statuses: tuple[str, ...]


_HANDLE, _WORK = "warnings.handle", "warnings.work"
_ACTIVE = ("issued", "in_progress")
ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("receive", "签收", _HANDLE, "main", ("issued",)),
    Action("request_return", "申请退回", _HANDLE, "main", _ACTIVE),
    Action("request_extension", "申请延期", _HANDLE, "main", _ACTIVE),
    Action("submit_feedback", "提交处置反馈", _HANDLE, "main", ("in_progress",)),
    Action("assist_feedback", "提交协办反馈", _HANDLE, "assist", _ACTIVE),
    Action("approve_return", "同意退回并改派", _WORK, "analyst", ("return_requested",)),
    Action("reject_return", "驳回退回申请", _WORK, "analyst", ("return_requested",)),
    Action("reassign", "改派", _WORK, "analyst", _ACTIVE),
    Action("add_assist", "增加协办部门", _WORK, "analyst", _ACTIVE),
    Action("approve_extension", "同意延期", _WORK, "analyst", (*_ACTIVE, "return_requested")),
    Action("reject_extension", "驳回延期", _WORK, "analyst", (*_ACTIVE, "return_requested")),
    Action("urge", "督办", _WORK, "analyst", (*_ACTIVE, "return_requested")),
    Action("rework", "退回重办", _WORK, "analyst", ("feedback_submitted",)),
    Action("close", "办结", _WORK, "analyst", ("feedback_submitted",)),
    Action("dismiss", "撤销预警", _WORK, "analyst", (*_ACTIVE, "return_requested")),
)}
_SIDE_WHO = {"main": "责任部门的处置人员", "assist": "协办部门的处置人员", "analyst": "风险研判人员"}


# ---- loading, scope, permission ---------------------------------------------------------------------------------

def assisting_departments(session: Session, warning_id: int) -> list[int]:
    return list(session.exec(select(WarningAssist.department_id).where(WarningAssist.warning_id == warning_id)
                             .order_by(col(WarningAssist.id))).all())


Assists = Callable[[], Sequence[int]]  # the warning's assisting departments, read once when first needed


def _assists_of(session: Session, warning_id: int) -> Assists:
    return functools.cache(lambda: assisting_departments(session, warning_id))


def _may_see(actor: Actor, w: Warning, assists: Assists) -> bool:
    if has_city_wide_scope(actor):
        return True
    return actor.department_id is not None and (actor.department_id == w.department_id
                                                or actor.department_id in assists())


def visible(session: Session, actor: Actor, warning_id: int) -> tuple[Warning, Assists]:
    """`visible_warning` and its assisting departments (read at most once, and only when a check needs them)."""
    require_signed_in(actor)
    w = session.get(Warning, warning_id)
    assists = _assists_of(session, warning_id)
    if w is None or not _may_see(actor, w, assists):
        raise NotFound(f"预警 {warning_id} 不存在或不在本部门范围内", field="id")
    return w, assists


def visible_warning(session: Session, actor: Actor, warning_id: int) -> Warning:
    """The warning if the actor may see it (responsible or assisting department, or city-wide); otherwise not
    found, so guessing ids reveals nothing."""
    return visible(session, actor, warning_id)[0]


def _on_side(actor: Actor, action: Action, w: Warning, assists: Assists) -> bool:
    if not can(actor, action.permission):
        return False
    if action.side == "analyst" or can(actor, "warnings.any_department"):
        return True
    if action.side == "main":
        return actor.department_id == w.department_id
    return actor.department_id is not None and actor.department_id in assists()


def pending_extension(session: Session, warning_id: int) -> WarningExtension | None:
    return session.exec(select(WarningExtension).where(WarningExtension.warning_id == warning_id,
                                                       WarningExtension.status == "pending")).first()


def _state_allows(action: Action, w: Warning, pending: Callable[[], WarningExtension | None]) -> bool:
    if w.status not in action.from_statuses:
        return False
    if action.name in ("approve_extension", "reject_extension"):
        return pending() is not None
    if action.name == "request_extension":
        return pending() is None
    return True


def allowed_actions(session: Session, actor: Actor, w: Warning, assists: Assists | None = None) -> list[Action]:
    """The steps this actor may take on this warning now (the detail page shows exactly these); the assisting
    departments and the pending extension are read once, when a step's check needs them."""
    assists = assists or _assists_of(session, saved_id(w))
    pending = functools.cache(lambda: pending_extension(session, saved_id(w)))
    return [a for a in ACTIONS.values() if _on_side(actor, a, w, assists) and _state_allows(a, w, pending)]


def load_for_action(session: Session, actor: Actor, warning_id: int, action_name: str,
                    expected_version: int | None) -> Warning:
    """Visible, unchanged since the caller saw it, the actor on the right side, the state right — in that order."""
    action = ACTIONS[action_name]
    w, assists = visible(session, actor, warning_id)
    if expected_version is not None and w.row_version != expected_version:
        raise Conflict(f"预警 {w.code} {STALE_MESSAGE}", field="row_version", code="stale")
    if not _on_side(actor, action, w, assists):
        raise Forbidden(f"只有{_SIDE_WHO[action.side]}可以{action.label}（预警 {w.code}）", code="forbidden")
    if w.status not in action.from_statuses:
        allowed = "、".join(WARNING_STATUSES[s] for s in action.from_statuses)
        raise Conflict(f"预警 {w.code} 当前为“{WARNING_STATUSES[w.status]}”，不能{action.label}"
                       f"（仅限{allowed}时）", field="id", code="bad_state")
    if action.name in ("approve_extension", "reject_extension") and pending_extension(session, saved_id(w)) is None:
        raise Conflict(f"预警 {w.code} 没有待审批的延期申请", field="id", code="no_pending_extension")
    if action.name == "request_extension" and pending_extension(session, saved_id(w)) is not None:
        raise Conflict(f"预警 {w.code} 已有待审批的延期申请，请等待研判人员处理", field="id",
                       code="extension_pending")
    return w


def _bump(session: Session, w: Warning, values: dict[str, Any] | None = None) -> None:
    """UPDATE … WHERE row_version = seen: of two simultaneous steps exactly one changes the row."""
    table = table_of(Warning)
    values = {**(values or {}), **duration_values(w, values or {})}  # receipt/closure seconds follow their stamps
    written = {**values, "row_version": w.row_version + 1, "updated_at": utcnow()}
    try:
        done = cast("sa.CursorResult[Any]", session.execute(
            sa.update(table).where(table.c.id == w.id, table.c.row_version == w.row_version)
            .values(**written))).rowcount
    except sa.exc.OperationalError as exc:  # SQLite: the other writer held the lock past the busy timeout
        raise Conflict(f"预警 {w.code} {STALE_MESSAGE}", field="row_version", code="stale") from exc
    if done != 1:
        raise Conflict(f"预警 {w.code} {STALE_MESSAGE}", field="row_version", code="stale")
    if any(isinstance(v, sa.sql.ClauseElement) for v in written.values()):
        session.refresh(w)  # a value computed by the database: read it back
        return
    # the row is what it was when loaded (its row version matched) plus what was just written: no read-back
    for key, value in written.items():
        set_committed_value(w, key, value)


def _disposal(session: Session, warning_id: int) -> WarningDisposal:
    row = session.get(WarningDisposal, warning_id)
    if row is None:
        row = WarningDisposal(warning_id=warning_id)
        session.add(row)
    row.updated_at = utcnow()
    return row


def _event(session: Session, actor: Actor, w: Warning, kind: str, *, from_status: str | None = None,
           to_status: str | None = None, comment: str = "", payload: dict[str, Any] | None = None,
           at: datetime | None = None) -> WarningEvent:
    event = WarningEvent(warning_id=saved_id(w), kind=kind, from_status=from_status, to_status=to_status,
                         actor_id=actor.user_id, actor_name=actor.username, department_id=actor.department_id,
                         at=at or utcnow(), comment=comment[:2000], payload=payload or {})
    session.add(event)
    session.flush()
    return event


def _step(session: Session, actor: Actor, w: Warning, kind: str, *, to_status: str | None = None,
          values: dict[str, Any] | None = None, comment: str = "", payload: dict[str, Any] | None = None,
          audit: dict[str, Any] | None = None) -> WarningEvent:
    """Change the warning (status and `values`) under its row version, then its event and audit row."""
    before = w.status
    changes = dict(values or {})
    if to_status is not None:
        changes["status"] = to_status
    _bump(session, w, changes)
    event = _event(session, actor, w, kind, from_status=before if to_status else None, to_status=to_status,
                   comment=comment, payload=payload)
    record_audit(session, actor, f"warning.{kind}", "risk_warning", w.id, {
        **({"status": [before, to_status]} if to_status else {}), **(audit or {}),
        **({"comment": comment} if comment else {}), "row_version": w.row_version})
    return event


def _reason(text: str | None, what: str, *, field_name: str = "reason", required: bool = True,
            max_len: int = 1000) -> str:
    value = (text or "").strip()
    if required and not value:
        raise InvalidInput(f"请填写{what}", field=field_name, code="required")
    if len(value) > max_len:
        raise InvalidInput(f"{what}最多 {max_len} 个字符（当前 {len(value)} 个）", field=field_name, code="too_long")
    return value


def _department(session: Session, department_id: int | None, w: Warning) -> Department:
    if department_id is None:
        raise InvalidInput("请选择改派的部门", field="department_id", code="required")
    dept = session.get(Department, department_id)
    if dept is None or not dept.active:
        raise InvalidInput(f"部门 {department_id} 不存在或已停用", field="department_id", code="unknown_department")
    if dept.id == w.department_id:
        raise InvalidInput(f"预警已在“{dept.name}”，请选择其他部门", field="department_id", code="same_department")
    return dept


def _redispatch(session: Session, w: Warning, department_id: int) -> dict[str, Any]:
    """A reassignment is a new dispatch: both deadlines run again from now, as the warning's level sets them."""
    now = utcnow()
    receipt_due, disposal_due = deadlines_for(w.level, now, deadline_settings(session),
                                              WorkdayCalendar.load(session))
    session.execute(sa.delete(WarningAssist).where(col(WarningAssist.warning_id) == w.id,
                                                   col(WarningAssist.department_id) == department_id))
    return {"department_id": department_id, "routing_rule_id": None, "dispatched_at": now,
            "receipt_due_at": receipt_due, "disposal_due_at": disposal_due, "received_at": None}


def _notify_department(session: Session, w: Warning, department_ids: Sequence[int | None], kind: str, title: str,
                       body: str = "", roles: Sequence[str] = ("handler",)) -> int:
    ids = [d for d in department_ids if d is not None]
    return notify_users(session, users_of_departments(session, ids, roles), kind, title, body, w.id)


# ---- the steps ----------------------------------------------------------------------------------------------------

def receive_warning(session: Session, actor: Actor, warning_id: int, *, row_version: int | None = None,
                    comment: str = "") -> Warning:
    """签收: the responsible department takes the warning on; the receipt deadline was running since dispatch."""
    w = load_for_action(session, actor, warning_id, "receive", row_version)
    now = utcnow()
    _step(session, actor, w, "receive", to_status="in_progress", values={"received_at": now},
          comment=_reason(comment, "签收意见", field_name="comment", required=False),
          payload={"late": now > w.receipt_due_at})
    return w


def request_return(session: Session, actor: Actor, warning_id: int, reason: str, *,
                   row_version: int | None = None) -> Warning:
    """申请退回 (退单): not our jurisdiction — a request with a reason that an analyst decides; the clock runs on."""
    w = load_for_action(session, actor, warning_id, "request_return", row_version)
    text = _reason(reason, "退回理由（为何不属于本部门职责）")
    previous = w.status
    d = _disposal(session, saved_id(w))
    d.return_from_status, d.return_reason = previous, text
    _step(session, actor, w, "return_request", to_status="return_requested", comment=text,
          payload={"from_department_id": w.department_id})
    return w


def approve_return(session: Session, actor: Actor, warning_id: int, department_id: int | None, *,
                   comment: str = "", row_version: int | None = None) -> Warning:
    """同意退回: the analyst agrees and reassigns the warning to the right department."""
    w = load_for_action(session, actor, warning_id, "approve_return", row_version)
    dept = _department(session, department_id, w)
    text = _reason(comment, "改派说明", field_name="comment", required=False)
    old = w.department_id
    values = _redispatch(session, w, saved_id(dept))
    d = _disposal(session, saved_id(w))
    d.return_from_status = None
    _step(session, actor, w, "return_approve", to_status="issued", values=values, comment=text,
          payload={"from_department_id": old, "to_department_id": dept.id, "return_reason": d.return_reason},
          audit={"department_id": [old, dept.id]})
    _notify_department(session, w, [dept.id], "dispatch", f"预警 {w.code} 已改派至本部门，请及时签收", text)
    return w


def reject_return(session: Session, actor: Actor, warning_id: int, reason: str, *,
                  row_version: int | None = None) -> Warning:
    """驳回退回: back to the same department in the state it was in; deadlines unchanged."""
    w = load_for_action(session, actor, warning_id, "reject_return", row_version)
    text = _reason(reason, "驳回理由")
    d = _disposal(session, saved_id(w))
    back = d.return_from_status or ("in_progress" if w.received_at else "issued")
    d.return_from_status = None
    _step(session, actor, w, "return_reject", to_status=back, comment=text)
    _notify_department(session, w, [w.department_id], "return_rejected",
                       f"预警 {w.code} 的退回申请被驳回，请继续处置", text)
    return w


def reassign_warning(session: Session, actor: Actor, warning_id: int, department_id: int | None, reason: str, *,
                     row_version: int | None = None) -> Warning:
    """改派: the analyst sends the warning to another department (a new dispatch)."""
    w = load_for_action(session, actor, warning_id, "reassign", row_version)
    dept = _department(session, department_id, w)
    text = _reason(reason, "改派理由")
    old = w.department_id
    values = _redispatch(session, w, saved_id(dept))
    _step(session, actor, w, "reassign", to_status="issued", values=values, comment=text,
          payload={"from_department_id": old, "to_department_id": dept.id},
          audit={"department_id": [old, dept.id]})
    _notify_department(session, w, [dept.id], "dispatch", f"预警 {w.code} 已改派至本部门，请及时签收", text)
    return w


def add_assisting_department(session: Session, actor: Actor, warning_id: int, department_id: int | None, *,
                             comment: str = "", row_version: int | None = None) -> Warning:
    """增加协办部门: another department gives its part of the feedback beside the responsible one."""
    w = load_for_action(session, actor, warning_id, "add_assist", row_version)
    if department_id is None:
        raise InvalidInput("请选择协办部门", field="department_id", code="required")
    dept = session.get(Department, department_id)
    if dept is None or not dept.active:
        raise InvalidInput(f"部门 {department_id} 不存在或已停用", field="department_id", code="unknown_department")
    if dept.id == w.department_id:
        raise InvalidInput(f"“{dept.name}”是责任部门，不能同时作为协办部门", field="department_id",
                           code="is_responsible")
    if dept.id in assisting_departments(session, saved_id(w)):
        raise InvalidInput(f"“{dept.name}”已是协办部门", field="department_id", code="already_assisting")
    session.add(WarningAssist(warning_id=saved_id(w), department_id=saved_id(dept), added_by_name=actor.username))
    _step(session, actor, w, "assist_add", comment=_reason(comment, "说明", field_name="comment", required=False),
          payload={"department_id": dept.id, "department_name": dept.name}, audit={"assist_department_id": dept.id})
    _notify_department(session, w, [dept.id], "assist", f"本部门被指定为预警 {w.code} 的协办部门", comment)
    return w


@dataclass
class FeedbackInput:
    """处置反馈: measures taken, outcome, description, evidence, and the department's satisfaction (1–5)."""

    measures: list[str] = field(default_factory=list)
    outcome: str | None = None
    description: str = ""
    satisfaction: int | None = None
    satisfaction_comment: str = ""
    evidence_ids: list[int] = field(default_factory=list)


def _validate_feedback(session: Session, actor: Actor, w: Warning, data: FeedbackInput, *,
                       main: bool) -> tuple[list[str], str, str]:
    errors: list[FieldError] = []
    measures = list(dict.fromkeys(m.strip() for m in data.measures if m and m.strip()))
    unknown = [m for m in measures if m not in MEASURES]
    if not measures:
        errors.append(FieldError("measures", "required", "请至少选择一项处置措施"))
    elif unknown:
        errors.append(FieldError("measures", "bad_choice", f"未知的处置措施：{'、'.join(unknown)}（可选："
                                 + "、".join(f"{k}（{v}）" for k, v in MEASURES.items()) + "）"))
    if main or data.outcome:
        if not data.outcome:
            errors.append(FieldError("outcome", "required", "请选择核查结果（风险属实、部分属实或风险不实）"))
        elif data.outcome not in OUTCOMES:
            errors.append(FieldError("outcome", "bad_choice", f"核查结果“{data.outcome}”无效，可选："
                                     + "、".join(f"{k}（{v}）" for k, v in OUTCOMES.items())))
    description = (data.description or "").strip()
    if len(description) < 5:
        errors.append(FieldError("description", "too_short",
                                 f"请填写处置情况说明，至少 5 个字（当前 {len(description)} 个）"))
    elif len(description) > 4000:
        errors.append(FieldError("description", "too_long",
                                 f"处置情况说明最多 4000 个字（当前 {len(description)} 个）"))
    if main:
        if data.satisfaction is None:
            errors.append(FieldError("satisfaction", "required", "请为本条预警的准确性打分（1–5 分）"))
        elif not 1 <= data.satisfaction <= 5:
            errors.append(FieldError("satisfaction", "out_of_range", f"满意度须为 1–5 分，收到 {data.satisfaction}"))
    comment = (data.satisfaction_comment or "").strip()
    if len(comment) > 1000:
        errors.append(FieldError("satisfaction_comment", "too_long",
                                 f"评价意见最多 1000 个字（当前 {len(comment)} 个）"))
    ids = sorted(set(data.evidence_ids))
    if ids:
        files = {f.id: f for f in session.exec(select(EvidenceFile).where(col(EvidenceFile.id).in_(ids))).all()}
        bad = [i for i in ids if i not in files or files[i].warning_id != w.id or files[i].feedback_id is not None
               or (actor.department_id is not None and files[i].department_id != actor.department_id
                   and not can(actor, "warnings.any_department"))]
        if bad:
            errors.append(FieldError("evidence_ids", "bad_evidence",
                                     f"证明材料 {'、'.join(map(str, bad))} "
                                     "不属于本预警的待提交材料（可能已提交或不存在）"))
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)
    return measures, description, comment


def _attach(session: Session, ids: Sequence[int], feedback_id: int) -> None:
    if ids:
        session.execute(sa.update(EvidenceFile).where(col(EvidenceFile.id).in_(list(ids)),
                                                       col(EvidenceFile.feedback_id).is_(None))
                        .values(feedback_id=feedback_id))


def submit_feedback(session: Session, actor: Actor, warning_id: int, data: FeedbackInput, *,
                    row_version: int | None = None) -> WarningFeedback:
    """提交处置反馈: the responsible department's whole feedback; the warning waits for the analyst's review."""
    w = load_for_action(session, actor, warning_id, "submit_feedback", row_version)
    measures, description, comment = _validate_feedback(session, actor, w, data, main=True)
    d = _disposal(session, saved_id(w))
    d.feedback_round += 1
    fb = WarningFeedback(warning_id=saved_id(w), department_id=w.department_id, part="main", round=d.feedback_round,
                         measures=measures, outcome=data.outcome, description=description,
                         satisfaction=data.satisfaction, satisfaction_comment=comment,
                         submitted_by_id=actor.user_id, submitted_by_name=actor.username)
    session.add(fb)
    session.flush()
    _attach(session, data.evidence_ids, saved_id(fb))
    _step(session, actor, w, "feedback", to_status="feedback_submitted", comment=description[:500],
          payload={"feedback_id": fb.id, "round": fb.round, "measures": measures, "outcome": data.outcome,
                   "satisfaction": data.satisfaction, "evidence": len(set(data.evidence_ids))},
          audit={"feedback_id": fb.id, "outcome": data.outcome, "measures": measures})
    return fb


def submit_assist_feedback(session: Session, actor: Actor, warning_id: int, data: FeedbackInput, *,
                           row_version: int | None = None) -> WarningFeedback:
    """协办反馈: an assisting department's part; the responsible department still submits the whole."""
    w = load_for_action(session, actor, warning_id, "assist_feedback", row_version)
    measures, description, comment = _validate_feedback(session, actor, w, data, main=False)
    dept = actor.department_id
    if dept is None or dept not in assisting_departments(session, saved_id(w)):
        raise Forbidden("只有协办部门的处置人员可以提交协办反馈", code="forbidden")
    d = _disposal(session, saved_id(w))
    fb = WarningFeedback(warning_id=saved_id(w), department_id=dept, part="assist", round=d.feedback_round + 1,
                         measures=measures, outcome=data.outcome, description=description,
                         satisfaction=data.satisfaction, satisfaction_comment=comment,
                         submitted_by_id=actor.user_id, submitted_by_name=actor.username)
    session.add(fb)
    session.flush()
    _attach(session, data.evidence_ids, saved_id(fb))
    _step(session, actor, w, "assist_feedback", comment=description[:500],
          payload={"feedback_id": fb.id, "measures": measures, "outcome": data.outcome},
          audit={"feedback_id": fb.id})
    _notify_department(session, w, [w.department_id], "assist_feedback",
                       f"预警 {w.code} 收到协办部门反馈", description[:200])
    return fb


def _local_end_of(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=LOCAL_TZ)


def request_extension(session: Session, actor: Actor, warning_id: int, new_due: date | None, reason: str, *,
                      row_version: int | None = None) -> WarningExtension:
    """延期申请: a later disposal deadline (a local date; due at its end) with a reason, for the analyst to decide."""
    w = load_for_action(session, actor, warning_id, "request_extension", row_version)
    if new_due is None:
        raise InvalidInput("请选择申请延期至的日期", field="new_due_date", code="required")
    current = w.disposal_due_at.astimezone(LOCAL_TZ).date()
    if new_due <= current:
        raise InvalidInput(f"延期日期须晚于当前处置期限 {current.isoformat()}，收到 {new_due.isoformat()}",
                           field="new_due_date", code="not_later")
    if new_due > current + timedelta(days=MAX_EXTENSION_DAYS):
        raise InvalidInput(f"延期最长 {MAX_EXTENSION_DAYS} 天（至 {(current + timedelta(days=365)).isoformat()}）",
                           field="new_due_date", code="too_far")
    text = _reason(reason, "延期理由")
    ext = WarningExtension(warning_id=saved_id(w), department_id=w.department_id, previous_due_at=w.disposal_due_at,
                           requested_due_at=_local_end_of(new_due), reason=text, requested_by_id=actor.user_id,
                           requested_by_name=actor.username)
    session.add(ext)
    session.flush()
    _step(session, actor, w, "extension_request", comment=text,
          payload={"extension_id": ext.id, "requested_due_at": ext.requested_due_at.isoformat(),
                   "previous_due_at": w.disposal_due_at.isoformat()},
          audit={"extension_id": ext.id, "requested_due_at": ext.requested_due_at.isoformat()})
    return ext


def approve_extension(session: Session, actor: Actor, warning_id: int, *, comment: str = "",
                      row_version: int | None = None) -> WarningExtension:
    """同意延期: the disposal deadline moves to the date asked for."""
    w = load_for_action(session, actor, warning_id, "approve_extension", row_version)
    ext = pending_extension(session, saved_id(w))
    assert ext is not None
    text = _reason(comment, "审批意见", field_name="comment", required=False)
    ext.status, ext.decided_by_name, ext.decided_at, ext.decision_comment = "approved", actor.username, utcnow(), text
    old = w.disposal_due_at
    _step(session, actor, w, "extension_approve", values={"disposal_due_at": ext.requested_due_at}, comment=text,
          payload={"extension_id": ext.id, "from": old.isoformat(), "to": ext.requested_due_at.isoformat()},
          audit={"disposal_due_at": [old.isoformat(), ext.requested_due_at.isoformat()]})
    _notify_department(session, w, [w.department_id], "extension_approved",
                       f"预警 {w.code} 的延期申请已批准", text)
    return ext


def reject_extension(session: Session, actor: Actor, warning_id: int, reason: str, *,
                     row_version: int | None = None) -> WarningExtension:
    """驳回延期: the deadline stays."""
    w = load_for_action(session, actor, warning_id, "reject_extension", row_version)
    ext = pending_extension(session, saved_id(w))
    assert ext is not None
    text = _reason(reason, "驳回理由")
    ext.status, ext.decided_by_name, ext.decided_at, ext.decision_comment = "rejected", actor.username, utcnow(), text
    _step(session, actor, w, "extension_reject", comment=text, payload={"extension_id": ext.id},
          audit={"extension_id": ext.id})
    _notify_department(session, w, [w.department_id], "extension_rejected",
                       f"预警 {w.code} 的延期申请被驳回", text)
    return ext


def urge_warning(session: Session, actor: Actor, warning_id: int, comment: str = "", *,
                 row_version: int | None = None) -> Warning:
    """督办: an event and a notice to the department's handlers (and assisting ones); counted."""
    w = load_for_action(session, actor, warning_id, "urge", row_version)
    text = _reason(comment, "督办意见", field_name="comment", required=False)
    d = _disposal(session, saved_id(w))
    d.urge_count += 1
    _step(session, actor, w, "urge", comment=text, payload={"count": d.urge_count})
    _notify_department(session, w, [w.department_id, *assisting_departments(session, saved_id(w))], "urge",
                       f"预警 {w.code} 被督办（第 {d.urge_count} 次），请尽快处置", text)
    return w


def rework_warning(session: Session, actor: Actor, warning_id: int, reason: str, *,
                   row_version: int | None = None) -> Warning:
    """退回重办: the analyst rejects the feedback with a reason; the department works on."""
    w = load_for_action(session, actor, warning_id, "rework", row_version)
    text = _reason(reason, "退回重办的理由")
    d = _disposal(session, saved_id(w))
    d.rework_count += 1
    _step(session, actor, w, "rework", to_status="in_progress", comment=text, payload={"count": d.rework_count})
    _notify_department(session, w, [w.department_id], "rework", f"预警 {w.code} 的处置反馈被退回重办", text)
    return w


def close_warning(session: Session, actor: Actor, warning_id: int, comment: str = "", *,
                  row_version: int | None = None) -> Warning:
    """办结: the analyst accepts the feedback; its outcome becomes the warning's training label."""
    w = load_for_action(session, actor, warning_id, "close", row_version)
    text = _reason(comment, "办结意见", field_name="comment", required=False)
    _step(session, actor, w, "close", to_status="closed", values={"closed_at": utcnow()}, comment=text)
    return w


def dismiss_warning(session: Session, actor: Actor, warning_id: int, reason: str, *,
                    row_version: int | None = None) -> Warning:
    """撤销预警: the analyst withdraws it (issued in error, duplicate …) with a reason."""
    w = load_for_action(session, actor, warning_id, "dismiss", row_version)
    text = _reason(reason, "撤销理由")
    _step(session, actor, w, "dismiss", to_status="dismissed", values={"closed_at": utcnow()}, comment=text)
    _notify_department(session, w, [w.department_id], "dismiss", f"预警 {w.code} 已被撤销", text)
    return w
