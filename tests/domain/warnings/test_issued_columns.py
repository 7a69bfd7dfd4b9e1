"""What a warning records for the statistics (migration 0015): the entity's district, industry code and section
when it is issued (by hand and by the set-based automatic issue, whose routes are computed once per district and
industry pair), and the receipt / closure durations the disposal steps keep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from domain.disposal import service as d
from domain.notifications.models import OutboxEvent
from domain.pagination import PageRequest
from domain.supervision.models import Entity
from domain.types import utcnow
from domain.warnings.auto_issue import auto_issue_warnings
from domain.warnings.models import RoutingRule, Warning
from domain.warnings.routing import RoutingRuleInput, route_entity, save_routing_rule
from domain.warnings.service import WarningFilter, issue_warning, list_warnings
from tests.domain.disposal.support import make_warning, make_world
from tests.domain.warnings.support import build_city, score


@pytest.fixture
def city(session):
    c = build_city(session)
    session.commit()
    return c


def _columns(w: Warning) -> tuple:
    return w.region_code, w.industry_code, w.industry_section


def test_issue_by_hand_records_the_district_and_industry_as_issued(session, city):
    e = city.entities[0]  # C13 in 320505
    w = issue_warning(session, city.analyst, entity_id=e.id, level="red", reasons=["人工研判"])
    assert _columns(w) == ("320505", "C13", "C")
    # the entity moves later: the warning keeps where it was issued, and the list filters by that
    e.region_code, e.industry_code = "320506", "52"
    session.add(e)
    session.flush()
    session.refresh(w)
    assert _columns(w) == ("320505", "C13", "C")
    page = list_warnings(session, city.analyst, PageRequest(first=10), WarningFilter(region_code="320505"))
    assert [r.warning.id for r in page.items] == [w.id]
    assert list_warnings(session, city.analyst, PageRequest(first=10), WarningFilter(region_code="320506")).items == []
    assert [r.warning.id for r in list_warnings(session, city.analyst, PageRequest(first=10),
                                                WarningFilter(industry="C")).items] == [w.id]
    assert list_warnings(session, city.analyst, PageRequest(first=10), WarningFilter(industry="13")).items == []


def test_automatic_issue_routes_every_district_and_industry_pair_as_one_warning_would(session, city):
    e0, e1, e2, e3, e4 = city.entities[:5]
    e1.region_code = "320506"  # the district rule
    e2.industry_code = "84"  # a division of section Q: the industry rule by section letter
    e3.industry_code, e3.region_code = None, None  # only the default matches
    e4.industry_code = "13"  # the longest prefix: "13" beats the section rule of C
    session.add_all([e1, e2, e3, e4])
    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="district", department_code="WZ-SCJG",
                                                               region_code="320506"))
    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="industry", department_code="SZ-WJW",
                                                               industry_prefix="Q"))
    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="industry", department_code="WZ-SCJG",
                                                               industry_prefix="13"))
    for i, e in enumerate((e0, e1, e2, e3, e4)):
        score(session, city.run, e, 0.9 - i / 100, "red")
    expected = {e.id: route_entity(session, e.id) for e in (e0, e1, e2, e3, e4)}
    assert {r.kind for r in expected.values()} == {"default", "district", "industry"}

    result = auto_issue_warnings(session, city.analyst, city.run.id, min_level="yellow")
    assert (result.issued, result.unrouted) == (5, 0)
    warnings = {w.entity_id: w for w in session.exec(select(Warning))}
    for entity_id, route in expected.items():
        w = warnings[entity_id]
        assert (w.department_id, w.routing_rule_id) == (route.department_id, route.rule_id)
    assert _columns(warnings[e0.id]) == ("320505", "C13", "C")
    assert _columns(warnings[e1.id]) == ("320506", "C13", "C")
    assert _columns(warnings[e2.id]) == ("320505", "84", "Q")
    assert _columns(warnings[e3.id]) == (None, None, None)
    assert _columns(warnings[e4.id]) == ("320505", "13", "C")
    # codes by score, highest first; one outbox row each, sent to the responsible department
    by_code = sorted(warnings.values(), key=lambda w: w.code)
    assert [w.entity_id for w in by_code] == [e0.id, e1.id, e2.id, e3.id, e4.id]
    outbox = session.exec(select(OutboxEvent).where(OutboxEvent.kind == "issue")).all()
    assert sorted((o.warning_id, list(o.departments)) for o in outbox) == sorted(
        (w.id, [w.department_id]) for w in warnings.values())


def test_an_entity_no_rule_covers_is_left_out_and_counted(session, city):
    e0, e1 = city.entities[:2]
    e1.region_code = "320506"
    session.add(e1)
    for r in session.exec(select(RoutingRule)):
        session.delete(r)
    save_routing_rule(session, city.analyst, RoutingRuleInput(kind="district", department_code="WZ-SCJG",
                                                               region_code="320506"))
    score(session, city.run, e0, 0.9, "red")
    score(session, city.run, e1, 0.8, "orange")
    result = auto_issue_warnings(session, city.analyst, city.run.id, min_level="yellow")
    assert (result.issued, result.unrouted) == (1, 1)
    assert [w.entity_id for w in session.exec(select(Warning))] == [e1.id]


def test_the_disposal_steps_keep_the_durations(db):
    world = make_world(db)
    w = make_warning(db, world.dept_a, dispatched_at=utcnow() - timedelta(hours=3))
    assert (w.receipt_seconds, w.closure_seconds) == (None, None)
    with db.unit_of_work() as s:
        got = d.receive_warning(s, world.handler_a, w.id)
        assert got.receipt_seconds == pytest.approx(3 * 3600, abs=60)
        assert got.closure_seconds is None
    with db.unit_of_work() as s:  # a reassignment is a new dispatch: not received yet
        got = d.reassign_warning(s, world.analyst, w.id, world.dept_b, "不属于本部门职责")
        assert got.received_at is None and got.receipt_seconds is None
    with db.unit_of_work() as s:
        got = d.dismiss_warning(s, world.analyst, w.id, "重复预警")
        assert got.closure_seconds == pytest.approx(0, abs=60)
        assert got.closure_seconds == pytest.approx((got.closed_at - got.dispatched_at).total_seconds())


def test_a_warning_saved_one_by_one_gets_the_same_columns(session, city):
    """Fixtures and imports that add a Warning object directly: the insert listener fills what issue fills."""
    e = session.get(Entity, city.entities[0].id)
    now = utcnow()
    w = Warning(code="YJ-2026-990001", entity_id=e.id, level="blue", source="manual", department_id=city.market.id,
                dispatched_at=now - timedelta(days=2), receipt_due_at=now, disposal_due_at=now,
                received_at=now - timedelta(days=1), closed_at=now, status="closed")
    session.add(w)
    session.flush()
    assert _columns(w) == ("320505", "C13", "C")
    assert (w.receipt_seconds, w.closure_seconds) == (86400.0, 2 * 86400.0)
    w.received_at = now - timedelta(hours=36)  # changed on the object: the duration follows
    session.add(w)
    session.flush()
    assert w.receipt_seconds == 12 * 3600.0
