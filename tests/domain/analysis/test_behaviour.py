"""Behaviour analysis on the hand-built city: every figure worked out by hand (see dataset.py)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.analysis.behaviour import analyse_behaviour
from domain.analysis.findings import list_findings
from domain.analysis.periods import parse_period
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.identity.actor import Actor
from tests.domain.analysis.dataset import AS_OF, build_city

VIEWER = Actor(user_id=1, username="viewer", roles=frozenset({"viewer"}))


def test_department_figures_exact(session):
    build_city(session)
    result = analyse_behaviour(session, VIEWER, "2026H1", as_of=AS_OF)
    assert [d.code for d in result.departments] == ["SZ-A", "SZ-B"]  # WZ-C has neither items nor actions
    a = result.department("SZ-A")
    assert (a.collected, a.actions, a.excluded) == (8, 6, 2)
    assert (a.items, a.items_covered, a.items_never_exercised) == (3, 2, 1)  # the inactive item is not counted
    assert (a.trace_complete, a.actions_missing_trace) == (4, 2)
    assert (a.inspections, a.inspections_timely, a.inspections_decided, a.inspection_days_sum) == (4, 2, 3, 52)
    assert (a.penalties, a.penalties_timely, a.penalties_decided, a.penalty_days_sum) == (2, 1, 2, 161)
    assert (a.random_inspections, a.trigger_known) == (2, 4)
    assert (a.inspections_with_result, a.problems, a.random_with_result, a.random_problems) == (3, 2, 2, 1)
    assert (a.penalties_due_follow_up, a.penalties_without_follow_up) == (2, 1)
    m = a.metrics()
    assert m["item_coverage"] == pytest.approx(2 / 3)
    assert m["trace_completeness"] == pytest.approx(4 / 6)
    assert m["inspection_timeliness"] == 0.5 and m["penalty_timeliness"] == 0.5
    assert m["inspection_avg_days"] == pytest.approx(52 / 3) and m["penalty_avg_days"] == 80.5
    assert m["random_share"] == 0.5 and m["problem_rate"] == pytest.approx(2 / 3) and m["random_problem_rate"] == 0.5
    assert m["follow_up_rate"] == 0.5 and m["data_coverage"] == 0.75
    # warnings dispatched in H1 (the dismissed one left out): w1 closed in time, w2 overdue, w3 feedback given
    assert result.disposal_available
    assert (a.disposal.warnings, a.disposal.disposed, a.disposal.overdue) == (3, 2, 1)
    # main parts only, latest round of each warning (w3 was reworked: 5 then 3)
    assert (a.disposal.rated, a.disposal.satisfied, a.disposal.satisfaction_avg) == (2, 1, 4.0)
    assert m["warning_disposal_rate"] == pytest.approx(2 / 3) and m["warning_overdue_rate"] == pytest.approx(1 / 3)
    assert m["satisfaction_rate"] == 0.5

    b = result.department("SZ-B")
    mb = b.metrics()
    assert (b.collected, b.actions, b.items, b.items_covered, b.trace_complete) == (3, 3, 2, 2, 3)
    assert mb["inspection_timeliness"] == 1 and mb["penalty_timeliness"] == 1 and mb["follow_up_rate"] == 1
    assert mb["random_share"] == 0.5 and mb["problem_rate"] == 0
    assert mb["warning_disposal_rate"] is None and mb["satisfaction_rate"] is None  # no warnings: no data, not 0

    assert (result.collected, result.used) == (11, 9)
    assert result.data_coverage == pytest.approx(9 / 11) and result.city_level_coverage == pytest.approx(9 / 11)
    city = result.city
    assert (city.complaints, city.complaints_responded, city.complaints_timely) == (3, 2, 1)
    assert city.complaint_avg_days == 19


def test_follow_up_window_still_open_is_not_counted(session):
    build_city(session)
    a = analyse_behaviour(session, VIEWER, "2026H1", "SZ-A", as_of=parse_period("2026-07").start).department("SZ-A")
    # on 2026-07-01 a4's window (to 07-13) and a5's (undecided until 08-10) are still open
    assert (a.penalties_due_follow_up, a.penalties_without_follow_up) == (0, 0)
    assert a.metrics()["follow_up_rate"] is None


def test_an_undecided_action_within_its_time_limit_is_not_late_yet(session):
    build_city(session)
    a = analyse_behaviour(session, VIEWER, "2026Q1", "SZ-A", as_of=date(2026, 3, 15)
                          ).department("SZ-A")
    # a3 (started 03-01, undecided) is due on 03-21: not judged on 03-15; a1 timely, a2 late
    assert (a.inspections_all, a.inspections, a.inspections_timely) == (3, 2, 1)
    assert a.metrics()["random_share"] == pytest.approx(2 / 3)
    late = list_findings(session, VIEWER, "2026Q1", "late", as_of=date(2026, 3, 15))
    assert [r.external_id for r in late.rows] == ["a2"]


def test_findings_link_to_the_records(session):
    build_city(session)
    missing = list_findings(session, VIEWER, "2026H1", "missing_trace", as_of=AS_OF)
    assert [(r.external_id, r.missing) for r in missing.rows] == [
        ("a3", ["result", "decided_on"]), ("a5", ["document_number"])]
    assert missing.rows[0].entity_uscc and "检查结果" in missing.rows[0].detail
    assert [r.external_id for r in list_findings(session, VIEWER, "2026H1", "no_follow_up", as_of=AS_OF).rows] == ["a5"]
    never = list_findings(session, VIEWER, "2026H1", "never_exercised")
    assert [(r.department_code, r.item_code) for r in never.rows] == [("SZ-A", "I3")]
    excluded = list_findings(session, VIEWER, "2026H1", "excluded")
    assert [(r.external_id, r.missing) for r in excluded.rows] == [("a7", ["no_item"]), ("a8", ["date_order"])]
    late = list_findings(session, VIEWER, "2026H1", "late", "SZ-A")
    assert [r.external_id for r in late.rows] == ["a2", "a3", "a5"]
    page = list_findings(session, VIEWER, "2026H1", "late", limit=1, offset=1)
    assert page.total == 3 and [r.external_id for r in page.rows] == ["a3"]


def test_handler_sees_only_their_department(session):
    city = build_city(session)
    handler = Actor(user_id=2, username="h", roles=frozenset({"handler"}), department_id=city["b"].id)
    result = analyse_behaviour(session, handler, "2026H1", as_of=AS_OF)
    assert [d.code for d in result.departments] == ["SZ-B"]
    assert result.city.complaints == 0  # city-wide figures are not theirs
    with pytest.raises(NotFound):
        analyse_behaviour(session, handler, "2026H1", "SZ-A")
    assert list_findings(session, handler, "2026H1", "never_exercised").rows == []
    with pytest.raises(Forbidden):
        analyse_behaviour(session, Actor(user_id=3, username="nobody", roles=frozenset()), "2026H1")


def test_admin_reads_the_analysis_city_wide(session):
    """The menu shows 行为分析 and 效能评价 to the administrator (statistics.read): the pages must open."""
    build_city(session)
    admin = Actor(user_id=3, username="adm", roles=frozenset({"admin"}))
    result = analyse_behaviour(session, admin, "2026H1", as_of=AS_OF)
    assert [d.code for d in result.departments] == ["SZ-A", "SZ-B"]


def test_bad_input_is_a_chinese_error(session):
    with pytest.raises(InvalidInput, match="期间“2026H3”无效"):
        analyse_behaviour(session, VIEWER, "2026H3")
    with pytest.raises(InvalidInput, match="发现类别"):
        list_findings(session, VIEWER, "2026H1", "nonsense")
