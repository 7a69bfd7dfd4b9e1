"""Issuing warnings: codes never reused, routing precedence, one open warning per entity, automatic issue after a
scoring run (never a duplicate, raising levels as events), department scoping."""

import threading

import pytest
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.errors import Conflict, NotFound
from domain.pagination import PageRequest
from domain.warnings.auto_issue import auto_issue_warnings
from domain.warnings.deadlines import WorkdayCalendar, deadline_settings, deadlines_for
from domain.warnings.models import RoutingRule, Warning, WarningEvent
from domain.warnings.routing import RoutingRuleInput, route_entity, save_routing_rule
from domain.warnings.service import (
    WarningFilter,
    get_warning,
    issue_warning,
    list_warnings,
    reserve_codes,
)
from tests.api.risk.factories import add_run
from tests.domain.warnings.support import build_city, score


@pytest.fixture
def city(session):
    c = build_city(session)
    session.commit()
    return c


def test_manual_issue_takes_the_model_level_the_route_and_a_code(session, city):
    e = city.entities[0]
    score(session, city.run, e, 0.91, "red")
    w = issue_warning(session, city.analyst, entity_id=e.id, reasons=["近90天检查不合格 2 次"])
    assert w.code.startswith("YJ-") and len(w.code.split("-")[2]) == 6
    assert (w.level, w.source, w.status, w.department_id) == ("red", "manual", "issued", city.market.id)
    assert w.routing_rule_id is not None and w.score == pytest.approx(0.91)
    assert w.explanation["contributions"][0][0] == "failed_inspections_90d"
    # the red level's deadlines counted from the dispatch (1 working day to sign, 3 calendar days to dispose: on
    # a Friday both fall on Monday, so the two may be equal)
    assert (w.receipt_due_at, w.disposal_due_at) == deadlines_for(
        "red", w.dispatched_at, deadline_settings(session), WorkdayCalendar.load(session))
    assert w.dispatched_at < w.receipt_due_at <= w.disposal_due_at
    events = session.exec(select(WarningEvent).where(WarningEvent.warning_id == w.id)).all()
    assert [(ev.kind, ev.to_status) for ev in events] == [("issue", "issued")]
    assert session.exec(select(AuditLog).where(AuditLog.action == "warning.issue")).one().object_id == str(w.id)


def test_a_second_open_warning_is_refused(session, city):
    e = city.entities[0]
    first = issue_warning(session, city.analyst, entity_id=e.id, level="yellow", reasons=["线索"])
    with pytest.raises(Conflict) as err:
        issue_warning(session, city.analyst, entity_id=e.id, level="red", reasons=["再次"])
    assert err.value.code == "open_warning_exists" and first.code in err.value.message


def test_routing_precedence_item_then_industry_then_district_then_default(session, city):
    e = city.entities[0]  # industry C13, region 320505
    assert route_entity(session, e.id).kind == "default"
    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="district", department_code="WZ-SCJG",
                                                               region_code="320505"))
    assert route_entity(session, e.id).department_id == city.wuzhong.id
    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="industry", department_code="SZ-SCJG",
                                                               industry_prefix="C"))
    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="industry", department_code="SZ-WJW",
                                                               industry_prefix="C13"))
    route = route_entity(session, e.id)
    assert (route.kind, route.department_id) == ("industry", city.health.id)  # the longest prefix wins
    from domain.supervision.models import SupervisionItem

    item = SupervisionItem(code="ITEM-1", name="食品经营检查", department_id=city.market.id, kind="inspection")
    session.add(item)
    session.flush()
    rule = save_routing_rule(session, city.analyst, RoutingRuleInput(kind="item", department_code="WZ-SCJG",
                                                                      item_code="ITEM-1"))
    route = route_entity(session, e.id, item.id)
    assert (route.kind, route.department_id, route.rule_id) == ("item", city.wuzhong.id, rule.id)
    assert route_entity(session, e.id).kind == "industry"  # no item involved


def test_no_route_and_no_department_is_a_clear_error(session, city):
    for r in session.exec(select(RoutingRule)):
        session.delete(r)
    session.flush()
    with pytest.raises(Conflict) as err:
        issue_warning(session, city.analyst, entity_id=city.entities[0].id, level="red", reasons=["x"])
    assert err.value.code == "no_route" and "派发规则" in err.value.message


def test_automatic_issue_never_duplicates_and_raises_levels(session, city):
    e0, e1, e2, e3 = city.entities[:4]
    score(session, city.run, e0, 0.95, "red")
    score(session, city.run, e1, 0.70, "orange", model_level="blue", rules=["R001"])
    score(session, city.run, e2, 0.45, "yellow")
    score(session, city.run, e3, 0.25, "blue")
    existing = issue_warning(session, city.analyst, entity_id=e2.id, level="yellow", reasons=["人工"])
    result = auto_issue_warnings(session, city.analyst, city.run.id, min_level="yellow")
    assert (result.issued, result.raised, result.unrouted) == (2, 0, 0)
    warnings = {w.entity_id: w for w in session.exec(select(Warning))}
    assert set(warnings) == {e0.id, e1.id, e2.id}  # blue is below the minimum; e2 kept its one warning
    assert warnings[e1.id].source == "rule" and warnings[e0.id].source == "model"
    assert warnings[e0.id].explanation["rules_matched"] == []
    assert warnings[e0.id].explanation["contributions"][0][0] == "failed_inspections_90d"
    codes = [w.code for w in warnings.values()]
    assert len(set(codes)) == 3
    issued_events = session.exec(select(WarningEvent).where(WarningEvent.kind == "issue")).all()
    assert len(issued_events) == 3

    # the next run: e2 rises to red, nothing new for the others
    run2 = add_run(session, _version(session, city))
    score(session, run2, e0, 0.96, "red")
    score(session, run2, e1, 0.72, "orange")
    score(session, run2, e2, 0.88, "red")
    again = auto_issue_warnings(session, city.analyst, run2.id, min_level="yellow")
    assert (again.issued, again.raised) == (0, 1)
    session.refresh(existing)
    assert existing.level == "red" and existing.row_version == 2 and existing.id == warnings[e2.id].id
    raised = session.exec(select(WarningEvent).where(WarningEvent.kind == "raise_level")).one()
    assert raised.warning_id == existing.id and raised.payload["from"] == "yellow" and raised.payload["to"] == "red"
    assert session.exec(select(Warning)).all().__len__() == 3
    # running the same run twice changes nothing
    assert auto_issue_warnings(session, city.analyst, run2.id).issued == 0


def _version(session, city):
    from domain.risk.models import ModelVersion

    return session.get(ModelVersion, city.version_id)


def test_department_scoping_of_warnings(session, city):
    from domain.warnings.routing import RoutingRuleInput

    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="industry", department_code="SZ-WJW",
                                                               industry_prefix="C13"))
    mine = issue_warning(session, city.analyst, entity_id=city.entities[0].id, level="red", reasons=["a"])
    other = issue_warning(session, city.analyst, entity_id=city.entities[1].id, level="red", reasons=["b"],
                          department_id=city.market.id)
    page = list_warnings(session, city.handler, PageRequest(first=10))
    assert [r.warning.id for r in page.items] == [mine.id]
    assert get_warning(session, city.handler, mine.id).row.department_name == "苏州市卫生健康委员会"
    with pytest.raises(NotFound):
        get_warning(session, city.handler, other.id)
    everyone = list_warnings(session, city.analyst, PageRequest(first=10), WarningFilter(level="red"))
    assert {r.warning.id for r in everyone.items} == {mine.id, other.id}
    assert everyone.items[0].last_event.kind == "issue"


def test_concurrent_issue_never_reuses_a_code(db, session, city):
    session.commit()
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take() -> None:
        try:
            for _ in range(5):
                with db.unit_of_work() as s:
                    n = reserve_codes(s, 2026)
                with lock:
                    numbers.append(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == list(range(1, 21))
    with db.unit_of_work() as s:
        assert reserve_codes(s, 2026, 10) == 21
        assert reserve_codes(s, 2027) == 1


def test_an_industry_section_letter_routes_its_divisions(session, city):
    from domain.reference.models import Industry

    if session.get(Industry, "C") is None:
        session.add(Industry(code="C", name="制造业", level="section"))
        session.flush()
    if session.get(Industry, "13") is None:
        session.add(Industry(code="13", name="农副食品加工业", level="division", parent_code="C"))
        session.flush()
    e0, e1 = city.entities[:2]
    e0.industry_code = "13"  # divisions, as entities carry them
    e1.industry_code = "52"
    session.add_all([e0, e1])
    session.flush()
    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="industry", department_code="SZ-WJW",
                                                               industry_prefix="C"))
    assert route_entity(session, e0.id).department_id == city.health.id
    assert route_entity(session, e1.id).kind == "default"
    score(session, city.run, e0, 0.9, "red")
    score(session, city.run, e1, 0.9, "red")
    auto_issue_warnings(session, city.analyst, city.run.id)
    by_entity = {w.entity_id: w.department_id for w in session.exec(select(Warning))}
    assert by_entity == {e0.id: city.health.id, e1.id: city.market.id}
