"""Clue intake and judgement: unknown or invalid entities kept and flagged, idempotent submission, duplicates inside
the window linked to the first, decisions (issue / merge / dismiss) with their audit rows."""

from datetime import date

import pytest
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.supervision.uscc import make_uscc_from_int
from domain.warnings.clues import ClueInput, Judgement, create_clue, judge_clue, submit_clues
from domain.warnings.models import RiskClue, Warning, WarningEvent
from tests.domain.warnings.support import actor, build_city, score

TODAY = date(2026, 3, 20)


@pytest.fixture
def city(session):
    c = build_city(session)
    session.commit()
    return c


def rec(ext: str, uscc: str, *, category: str = "食品安全", received: str = "2026-03-01", **kw):
    return {"external_id": ext, "uscc": uscc, "category": category, "description": "群众反映过期食品",
            "received_on": received, **kw}


def test_unknown_and_invalid_entities_are_kept_and_flagged(session, city):
    unknown = make_uscc_from_int("320505", 999)
    result = submit_clues(session, city.analyst, "dept-push", [
        rec("A1", city.entities[0].uscc), rec("A2", unknown, entity_name="未登记商户"), rec("A3", "12345"),
    ], today=TODAY)
    assert (result.created, result.rejected) == (3, 0)
    clues = {c.external_id: c for c in session.exec(select(RiskClue))}
    assert clues["A1"].entity_id == city.entities[0].id and clues["A1"].entity_problem is None
    assert clues["A1"].entity_name == city.entities[0].name
    assert (clues["A2"].entity_id, clues["A2"].entity_problem, clues["A2"].uscc) == (None, "unknown", unknown)
    assert (clues["A3"].entity_problem, clues["A3"].uscc) == ("invalid", "12345")
    assert clues["A1"].source == "department" and clues["A1"].source_id == city.source.id


def test_submission_is_idempotent_by_source_and_external_id(session, city):
    batch = [rec("B1", city.entities[0].uscc), rec("B2", city.entities[1].uscc)]
    first = submit_clues(session, city.analyst, "dept-push", batch, today=TODAY)
    again = submit_clues(session, city.analyst, "dept-push", batch, today=TODAY)
    assert (first.created, again.created, again.unchanged) == (2, 0, 2)
    assert [o.clue_id for o in again.outcomes] == [o.clue_id for o in first.outcomes]
    changed = submit_clues(session, city.analyst, "dept-push",
                           [{**batch[0], "description": "补充：现场照片"}], today=TODAY)
    assert changed.updated == 1
    assert len(session.exec(select(RiskClue)).all()) == 2


def test_per_record_errors_are_typed_and_the_rest_is_kept(session, city):
    result = submit_clues(session, city.analyst, "dept-push", [
        rec("C1", city.entities[0].uscc),
        {"external_id": "C2", "uscc": city.entities[1].uscc, "received_on": "2026-13-01"},
        rec("C1", city.entities[2].uscc),
        rec("C4", city.entities[3].uscc, reporting_department_code="NOPE"),
    ], today=TODAY)
    assert (result.created, result.rejected) == (1, 3)
    errors = {o.index: {(e.field, e.code) for e in o.errors} for o in result.outcomes if o.errors}
    assert errors[1] >= {("category", "required"), ("description", "required"), ("received_on", "invalid_date")}
    assert errors[2] == {("external_id", "duplicate_in_batch")}
    assert errors[3] == {("reporting_department_code", "unknown_department")}
    msg = next(e.message for o in result.outcomes for e in o.errors if e.code == "invalid_date")
    assert msg.startswith("接收日期：")


def test_duplicates_inside_the_window_are_linked_to_the_first(session, city):
    e = city.entities[0].uscc
    submit_clues(session, city.analyst, "dept-push", [rec("D1", e, received="2026-03-01")], today=TODAY)
    result = submit_clues(session, city.analyst, "dept-push", [
        rec("D2", e, received="2026-03-10"),  # same entity + category within 30 days: duplicate
        rec("D3", e, received="2026-03-10", category="价格"),  # other category: new
        rec("D4", city.entities[1].uscc, received="2026-03-10"),  # other entity: new
    ], dedup_days=30, today=TODAY)
    first = session.exec(select(RiskClue).where(RiskClue.external_id == "D1")).one()
    assert result.duplicates == 1 and result.outcomes[0].duplicate_of_id == first.id
    clues = {c.external_id: c for c in session.exec(select(RiskClue))}
    assert (clues["D2"].status, clues["D2"].duplicate_of_id) == ("duplicate", first.id)
    assert clues["D3"].status == clues["D4"].status == "pending"
    # outside a 5-day window it is a clue of its own, from any source (here a manual entry)
    late = create_clue(session, city.analyst, ClueInput(uscc=e, category="食品安全", description="再次反映",
                                                        received_on="2026-03-19"), dedup_days=5, today=TODAY)
    assert late.duplicate_of_id is None and late.status == "pending" and late.source == "manual"
    near = create_clue(session, city.analyst, ClueInput(uscc=e, category="食品安全", description="又一次",
                                                        received_on="2026-03-20"), dedup_days=5, today=TODAY)
    assert near.duplicate_of_id == late.id


def test_manual_entry_checks_every_field(session, city):
    with pytest.raises(InvalidInput) as err:
        create_clue(session, city.analyst, ClueInput(uscc="", category="", description="x" * 4001,
                                                     received_on="2026-04-01"), today=TODAY)
    fields = {e.field: e.code for e in err.value.errors}
    assert fields == {"uscc": "required", "category": "required", "description": "too_long",
                      "received_on": "future_date"}
    with pytest.raises(Forbidden):
        create_clue(session, city.handler, ClueInput(uscc=city.entities[0].uscc, category="a", description="b"))


def test_judging_into_a_warning_merging_and_dismissing_are_audited(session, city):
    e0, e1 = city.entities[:2]
    score(session, city.run, e0, 0.65, "orange")
    c1 = create_clue(session, city.analyst, ClueInput(uscc=e0.uscc, category="食品安全", description="过期食品"),
                     today=TODAY)
    dup = create_clue(session, city.analyst, ClueInput(uscc=e0.uscc, category="食品安全", description="同一问题"),
                      today=TODAY)
    c2 = create_clue(session, city.analyst, ClueInput(uscc=e0.uscc, category="价格", description="价格欺诈"),
                     today=TODAY)
    c3 = create_clue(session, city.analyst, ClueInput(uscc=e1.uscc, category="广告", description="虚假宣传"),
                     today=TODAY)
    judged = judge_clue(session, city.analyst, c1.id, Judgement("issue", reasons=["群众举报过期食品"]))
    w = session.get(Warning, judged.warning_id)
    assert (judged.status, w.level, w.source, w.department_id) == ("warned", "orange", "clue", city.market.id)
    session.refresh(dup)
    assert dup.warning_id == w.id and dup.status == "duplicate"
    with pytest.raises(Conflict):
        judge_clue(session, city.analyst, c1.id, Judgement("dismiss", comment="x"))

    merged = judge_clue(session, city.analyst, c2.id, Judgement("merge", level="red", comment="价格问题并入"))
    session.refresh(w)
    assert merged.status == "merged" and merged.warning_id == w.id and w.level == "red"
    kinds = [ev.kind for ev in session.exec(select(WarningEvent).where(WarningEvent.warning_id == w.id)
                                            .order_by(WarningEvent.id))]
    assert kinds == ["issue", "raise_level", "merge_clue"]

    with pytest.raises(InvalidInput) as err:
        judge_clue(session, city.analyst, c3.id, Judgement("dismiss"))
    assert err.value.field == "comment"
    dismissed = judge_clue(session, city.analyst, c3.id, Judgement("dismiss", comment="经核实不属实"))
    assert dismissed.status == "dismissed" and dismissed.judgement_reason == "经核实不属实"
    actions = [a.action for a in session.exec(select(AuditLog).where(AuditLog.action.like("clue.judge.%"))
                                              .order_by(AuditLog.id))]
    assert actions == ["clue.judge.issue", "clue.judge.merge", "clue.judge.dismiss"]


def test_a_clue_without_an_entity_can_only_be_dismissed(session, city):
    clue = create_clue(session, city.analyst, ClueInput(uscc="BAD", category="a", description="b"), today=TODAY)
    with pytest.raises(InvalidInput) as err:
        judge_clue(session, city.analyst, clue.id, Judgement("issue", level="red"))
    assert err.value.code == "no_entity" and "统一社会信用代码无效" in err.value.message


def test_viewers_read_but_cannot_submit_or_judge(session, city):
    viewer = actor(session, "viewer-wang", ["viewer"])
    with pytest.raises(Forbidden):
        submit_clues(session, viewer, "dept-push", [rec("V1", city.entities[0].uscc)])
