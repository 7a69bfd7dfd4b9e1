"""The disposal workflow as a specification: every step, who may take it, from which state, what it records."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.disposal import service as d
from domain.disposal.models import WarningExtension, WarningFeedback
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.notifications.models import Notification, OutboxEvent
from domain.types import LOCAL_TZ
from domain.warnings.models import Warning, WarningEvent
from tests.domain.disposal.support import make_warning, make_world

TODAY = datetime.now(LOCAL_TZ).date()
LATER, L1, L2, L3 = (TODAY + timedelta(days=n) for n in (60, 30, 40, 50))
FEEDBACK = d.FeedbackInput(measures=["onsite_inspection", "rectification_order"], outcome="confirmed",
                           description="现场检查发现消防通道堵塞，已责令整改。", satisfaction=4,
                           satisfaction_comment="预警准确")


@pytest.fixture
def world(db):
    return make_world(db)


def run(db, fn, *args, **kwargs):
    with db.unit_of_work() as s:
        return fn(s, *args, **kwargs)


def events(db, wid):
    with db.unit_of_work("read") as s:
        return [(e.kind, e.from_status, e.to_status) for e in
                s.exec(select(WarningEvent).where(WarningEvent.warning_id == wid).order_by(WarningEvent.id))]


def status(db, wid):
    with db.unit_of_work("read") as s:
        return s.get(Warning, wid)


def test_receive_feedback_rework_resubmit_close_records_every_step(db, world):
    w = make_warning(db, world.dept_a)
    run(db, d.receive_warning, world.handler_a, w.id, row_version=1)
    run(db, d.submit_feedback, world.handler_a, w.id, FEEDBACK)
    run(db, d.rework_warning, world.analyst, w.id, "未附整改照片，请补充")
    run(db, d.submit_feedback, world.handler_a, w.id, FEEDBACK)
    run(db, d.close_warning, world.analyst, w.id, "同意办结")
    assert events(db, w.id) == [
        ("issue", None, "issued"), ("receive", "issued", "in_progress"),
        ("feedback", "in_progress", "feedback_submitted"), ("rework", "feedback_submitted", "in_progress"),
        ("feedback", "in_progress", "feedback_submitted"), ("close", "feedback_submitted", "closed")]
    final = status(db, w.id)
    assert final.status == "closed" and final.closed_at is not None and final.received_at is not None
    assert final.row_version == 6
    with db.unit_of_work("read") as s:
        audits = [a.action for a in s.exec(select(AuditLog).where(AuditLog.object_type == "risk_warning"))]
        assert audits == ["warning.receive", "warning.feedback", "warning.rework", "warning.feedback",
                          "warning.close"]
        outbox = [(o.kind, o.department_id) for o in s.exec(select(OutboxEvent).order_by(OutboxEvent.id))]
        assert outbox == [("issue", world.dept_a), ("receive", world.dept_a), ("feedback", world.dept_a),
                          ("rework", world.dept_a), ("feedback", world.dept_a), ("close", world.dept_a)]
        rounds = [f.round for f in s.exec(select(WarningFeedback).order_by(WarningFeedback.id))]
        assert rounds == [1, 2]
        assert s.exec(select(Notification).where(Notification.kind == "rework")).all()  # both handlers told


# every action: a state it is legal from, and how to call it
def _call(name, world, wid):
    calls = {
        "receive": lambda s, a: d.receive_warning(s, a, wid),
        "request_return": lambda s, a: d.request_return(s, a, wid, "不属于本部门职责"),
        "request_extension": lambda s, a: d.request_extension(s, a, wid, LATER, "需要补充检测"),
        "submit_feedback": lambda s, a: d.submit_feedback(s, a, wid, FEEDBACK),
        "assist_feedback": lambda s, a: d.submit_assist_feedback(s, a, wid, FEEDBACK),
        "approve_return": lambda s, a: d.approve_return(s, a, wid, world.dept_b),
        "reject_return": lambda s, a: d.reject_return(s, a, wid, "属于本部门职责"),
        "reassign": lambda s, a: d.reassign_warning(s, a, wid, world.dept_b, "职责调整"),
        "add_assist": lambda s, a: d.add_assisting_department(s, a, wid, world.dept_b),
        "approve_extension": lambda s, a: d.approve_extension(s, a, wid),
        "reject_extension": lambda s, a: d.reject_extension(s, a, wid, "理由不充分"),
        "urge": lambda s, a: d.urge_warning(s, a, wid, "请加快"),
        "rework": lambda s, a: d.rework_warning(s, a, wid, "材料不全"),
        "close": lambda s, a: d.close_warning(s, a, wid),
        "dismiss": lambda s, a: d.dismiss_warning(s, a, wid, "重复预警"),
    }
    return calls[name]


def _prepare(db, world, name):
    """A warning of department A in a state the action is legal from."""
    action = d.ACTIONS[name]
    w = make_warning(db, world.dept_a, status=action.from_statuses[0])
    if name in ("approve_return", "reject_return"):
        with db.unit_of_work() as s:
            from domain.disposal.models import WarningDisposal
            s.add(WarningDisposal(warning_id=w.id, return_from_status="issued", return_reason="x"))
    if name in ("approve_extension", "reject_extension"):
        run(db, d.request_extension, world.handler_a, w.id, LATER, "需要补充检测")
    if name == "assist_feedback":
        run(db, d.add_assisting_department, world.analyst, w.id, world.dept_b)
    return w


ROLE_EXPECTATIONS = {
    # who: (main side, assist side, analyst side)
    "handler_a": ("ok", Forbidden, Forbidden),
    "handler_b": (NotFound, "ok", NotFound),  # B sees A's warning only when assisting
    "analyst": (Forbidden, Forbidden, "ok"),
    "viewer": (Forbidden, Forbidden, Forbidden),
    "admin": ("ok", "ok", "ok"),
}


@pytest.mark.parametrize("who", list(ROLE_EXPECTATIONS))
@pytest.mark.parametrize("name", list(d.ACTIONS))
def test_every_action_by_every_role(db, world, name, who):
    w = _prepare(db, world, name)
    side = {"main": 0, "assist": 1, "analyst": 2}[d.ACTIONS[name].side]
    expected = ROLE_EXPECTATIONS[who][side]
    actor = getattr(world, who)
    if who == "admin" and name == "assist_feedback":
        expected = Forbidden  # an assisting part is a department's; admins have none
    if who == "handler_b" and name == "assist_feedback":
        expected = "ok"
    elif who == "handler_b" and side != 1 and name == "assist_feedback":
        expected = NotFound
    before = status(db, w.id).row_version
    if expected == "ok":
        run(db, _call(name, world, w.id), actor)
        assert status(db, w.id).row_version == before + 1
    else:
        with pytest.raises(expected):
            run(db, _call(name, world, w.id), actor)
        assert status(db, w.id).row_version == before  # nothing half-written


@pytest.mark.parametrize("name", list(d.ACTIONS))
def test_every_action_refused_from_a_state_it_does_not_start_from(db, world, name):
    action = d.ACTIONS[name]
    wrong = next(s for s in ("closed", "feedback_submitted", "issued") if s not in action.from_statuses)
    w = make_warning(db, world.dept_a, status=wrong)
    if name == "assist_feedback":
        run(db, d.add_assisting_department, world.analyst, make_warning(db, world.dept_a).id, world.dept_b)
    actor = world.admin if action.side != "assist" else world.handler_b
    with pytest.raises((Conflict, NotFound)) as info:
        run(db, _call(name, world, w.id), actor)
    if isinstance(info.value, Conflict):
        assert "不能" in info.value.message and info.value.code == "bad_state"


def test_return_request_rejected_goes_back_with_deadlines_unchanged(db, world):
    w = make_warning(db, world.dept_a)
    run(db, d.receive_warning, world.handler_a, w.id)
    run(db, d.request_return, world.handler_a, w.id, "属于应急管理局职责")
    assert status(db, w.id).status == "return_requested"
    run(db, d.reject_return, world.analyst, w.id, "经核查属于市场监管职责")
    after = status(db, w.id)
    assert after.status == "in_progress" and after.department_id == world.dept_a
    assert (after.receipt_due_at, after.disposal_due_at) == (w.receipt_due_at, w.disposal_due_at)
    with pytest.raises(InvalidInput) as info:
        run(db, d.request_return, world.handler_a, w.id, "  ")
    assert info.value.field == "reason"


def test_return_approved_reassigns_and_moves_visibility(db, world):
    w = make_warning(db, world.dept_a)
    run(db, d.request_return, world.handler_a, w.id, "属于应急管理局职责")
    run(db, d.approve_return, world.analyst, w.id, world.dept_b, comment="改派应急局")
    after = status(db, w.id)
    assert after.status == "issued" and after.department_id == world.dept_b and after.received_at is None
    with pytest.raises(NotFound):
        run(db, d.visible_warning, world.handler_a, w.id)
    run(db, d.receive_warning, world.handler_b, w.id)
    with db.unit_of_work("read") as s:
        assert s.exec(select(Notification).where(Notification.kind == "dispatch")).first() is not None
        outbox = s.exec(select(OutboxEvent).where(OutboxEvent.kind == "return_approve")).one()
        assert set(outbox.departments) == {world.dept_a, world.dept_b}  # the old department hears it too
    with pytest.raises(InvalidInput):
        run(db, d.reassign_warning, world.analyst, w.id, world.dept_b, "同一部门")


def test_extension_approved_moves_the_disposal_deadline_rejected_keeps_it(db, world):
    w = make_warning(db, world.dept_a)
    with pytest.raises(InvalidInput) as info:
        run(db, d.request_extension, world.handler_a, w.id, date(2000, 1, 1), "太早")
    assert info.value.code == "not_later"
    run(db, d.request_extension, world.handler_a, w.id, L1, "需要第三方检测报告")
    with pytest.raises(Conflict):
        run(db, d.request_extension, world.handler_a, w.id, L2, "再延")
    run(db, d.approve_extension, world.analyst, w.id, comment="同意")
    due = status(db, w.id).disposal_due_at.astimezone(LOCAL_TZ)
    assert (due.date(), due.hour, due.minute) == (L1, 23, 59)
    run(db, d.request_extension, world.handler_a, w.id, L3, "仍需时间")
    run(db, d.reject_extension, world.analyst, w.id, "不予延期")
    assert status(db, w.id).disposal_due_at.astimezone(LOCAL_TZ).date() == L1
    with db.unit_of_work("read") as s:
        assert [e.status for e in s.exec(select(WarningExtension).order_by(WarningExtension.id))] == [
            "approved", "rejected"]


def test_assisting_department_gives_its_part_but_not_the_whole(db, world):
    w = make_warning(db, world.dept_a)
    run(db, d.add_assisting_department, world.analyst, w.id, world.dept_b)
    run(db, d.submit_assist_feedback, world.handler_b, w.id, d.FeedbackInput(
        measures=["onsite_inspection"], description="协办部门已配合现场检查。"))
    with pytest.raises(Forbidden):
        run(db, d.receive_warning, world.handler_b, w.id)
    with db.unit_of_work("read") as s:
        part = s.exec(select(WarningFeedback)).one()
        assert (part.part, part.department_id, part.outcome) == ("assist", world.dept_b, None)
        names = [a.name for a in d.allowed_actions(s, world.handler_b, s.get(Warning, w.id))]
        assert names == ["assist_feedback"]


def test_urge_counts_and_notifies_the_department(db, world):
    w = make_warning(db, world.dept_a)
    run(db, d.urge_warning, world.analyst, w.id, "请尽快签收")
    run(db, d.urge_warning, world.analyst, w.id)
    with db.unit_of_work("read") as s:
        notes = s.exec(select(Notification).where(Notification.kind == "urge")).all()
        assert {n.user_id for n in notes} == {world.handler_a.user_id, world.handler_a2.user_id}
        assert any("第 2 次" in n.title for n in notes)


def test_feedback_errors_name_every_field_in_chinese(db, world):
    w = make_warning(db, world.dept_a, status="in_progress")
    with pytest.raises(InvalidInput) as info:
        run(db, d.submit_feedback, world.handler_a, w.id, d.FeedbackInput(
            measures=["bribe"], outcome="maybe", description="短", satisfaction=9))
    fields = {e.field: e.message for e in info.value.errors}
    assert set(fields) == {"measures", "outcome", "description", "satisfaction"}
    assert "未知的处置措施" in fields["measures"] and "1–5" in fields["satisfaction"]
    assert status(db, w.id).status == "in_progress"
    with db.unit_of_work("read") as s:
        assert s.exec(select(WarningFeedback)).first() is None


def test_stale_row_version_is_refused(db, world):
    w = make_warning(db, world.dept_a)
    run(db, d.urge_warning, world.analyst, w.id)
    with pytest.raises(Conflict) as info:
        run(db, d.receive_warning, world.handler_a, w.id, row_version=1)
    assert "已被他人修改，请刷新" in info.value.message and info.value.code == "stale"


def test_two_truly_concurrent_receives_exactly_one_wins(db, world):
    w = make_warning(db, world.dept_a)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def act(actor):
        try:
            with db.unit_of_work() as s:
                seen = s.get(Warning, w.id)
                assert seen.row_version == 1
                barrier.wait(timeout=10)  # both have read version 1 before either writes
                d.receive_warning(s, actor, w.id, row_version=1)
            results.append("ok")
        except Conflict as exc:
            results.append(exc.message)

    threads = [threading.Thread(target=act, args=(a,)) for a in (world.handler_a, world.handler_a2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2 and results.count("ok") == 1, results
    assert any("已被他人修改，请刷新" in str(r) for r in results)
    assert events(db, w.id).count(("receive", "issued", "in_progress")) == 1
