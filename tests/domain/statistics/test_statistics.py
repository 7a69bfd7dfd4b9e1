"""Dashboard figures and performance goals on a small hand-built city: every number worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import Forbidden, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.risk.models import RiskScore
from domain.statistics import goals as g
from domain.statistics import service as stats
from domain.warnings.models import Warning
from tests.api.risk.factories import add_alias, add_run, add_version
from tests.domain.statistics.factories import NOW, City, at


@pytest.fixture
def city(session):
    return City(session)


def flt(session, who: Actor, period: str = "2026H1", **kw) -> stats.StatsFilter:
    return stats.make_filter(session, who, period=period, **kw)


def by_key(groups):
    return {g.key: (g.warnings, g.disposed, g.overdue, g.dismissed) for g in groups}


def test_warnings_by_level_status_department_district_industry_and_source(session, city):
    f = flt(session, city.analyst)
    assert by_key(stats.warning_groups(session, city.analyst, f, "level", now=NOW)) == {
        "red": (2, 1, 1, 0), "orange": (2, 2, 1, 0), "yellow": (1, 0, 1, 0), "blue": (1, 1, 0, 1)}
    status = stats.warning_groups(session, city.analyst, f, "status", now=NOW)
    assert [g.key for g in status] == ["issued", "in_progress", "feedback_submitted", "closed", "dismissed"]
    assert [g.label for g in status][:2] == ["已下发", "处置中"]
    dept = stats.warning_groups(session, city.analyst, f, "department", now=NOW)
    assert {g.label: (g.warnings, g.disposed, g.overdue) for g in dept} == {
        "苏州市市场监督管理局": (4, 3, 2), "苏州市卫生健康委员会": (2, 1, 1)}
    market = next(g for g in dept if g.label == "苏州市市场监督管理局")
    assert market.disposal_rate == pytest.approx(0.75) and market.overdue_rate == pytest.approx(0.5)
    district = stats.warning_groups(session, city.analyst, f, "district", now=NOW)
    assert {g.key: g.warnings + g.dismissed for g in district} == {"320505": 2, "320506": 4, "320508": 1}
    assert next(g for g in district if g.key == "320505").label == "虎丘区"
    industry = stats.warning_groups(session, city.analyst, f, "industry", now=NOW)
    assert {g.key: g.warnings + g.dismissed for g in industry} == {"C": 2, "F": 2, "Q": 2, "": 1}
    assert next(g for g in industry if g.key == "").label == "未填写"
    assert by_key(stats.warning_groups(session, city.analyst, f, "source", now=NOW)) == {
        "model": (5, 3, 3, 1), "clue": (1, 1, 0, 0)}


def test_filters_by_district_industry_and_department(session, city):
    f = flt(session, city.analyst, region_code="320506")
    assert sum(g.warnings for g in stats.warning_groups(session, city.analyst, f, "level", now=NOW)) == 4
    f = flt(session, city.analyst, industry="C")  # section C holds division 13
    assert sum(g.warnings for g in stats.warning_groups(session, city.analyst, f, "level", now=NOW)) == 2
    f = flt(session, city.analyst, department_code="SZ-WJW")
    assert by_key(stats.warning_groups(session, city.analyst, f, "department", now=NOW)) == {
        str(city.health.id): (2, 1, 1, 0)}


def test_bad_filters_are_refused_in_chinese(session, city):
    with pytest.raises(InvalidInput, match="期间"):
        flt(session, city.analyst, period="2026H3")
    with pytest.raises(InvalidInput, match="部门编码“NOPE”不存在"):
        flt(session, city.analyst, department_code="NOPE")
    with pytest.raises(InvalidInput, match="行政区划代码"):
        flt(session, city.analyst, region_code="999999")
    with pytest.raises(InvalidInput, match="行业代码"):
        flt(session, city.analyst, industry="ZZ")
    with pytest.raises(InvalidInput, match="分组"):
        stats.warning_groups(session, city.analyst, flt(session, city.analyst), "colour")


def test_a_handler_sees_only_their_department(session, city):
    f = flt(session, city.handler)
    assert f.department_id == city.health.id
    dept = stats.warning_groups(session, city.handler, f, "department", now=NOW)
    assert [g.label for g in dept] == ["苏州市卫生健康委员会"]
    with pytest.raises(NotFound):
        flt(session, city.handler, department_code="SZ-SCJG")
    ranking = stats.disposal_ranking(session, city.handler, f, now=NOW)
    assert [d.code for d in ranking] == ["SZ-WJW"]
    nobody = Actor(user_id=99, username="x", roles=frozenset({"handler"}), department_id=None)
    with pytest.raises(NotFound):
        flt(session, nobody)


def test_trend_by_month_counts_issue_closure_and_overdue_by_their_own_dates(session, city):
    points = stats.warning_trend(session, city.analyst, flt(session, city.analyst), "month", now=NOW)
    assert [p.label for p in points] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert [p.issued for p in points] == [1, 1, 0, 1, 0, 3]  # m5 dismissed is not counted
    assert [p.closed for p in points] == [1, 1, 0, 1, 0, 0]
    assert [p.overdue for p in points] == [0, 1, 0, 0, 0, 1]  # m2 (due 02-09), m3 (due 06-16); h1's receipt only
    weeks = stats.warning_trend(session, city.analyst, flt(session, city.analyst, period="2026-06"), "week", now=NOW)
    assert weeks[0].start == date(2026, 6, 1) and sum(p.issued for p in weeks) == 3


def test_the_local_date_decides_the_bucket(session, city):
    # 2026-06-30 17:00 UTC is 07-01 01:00 in Suzhou: July, not June
    session.add(Warning(code="YJ-2026-000900", entity_id=city.other.id, level="red", source="manual",
                        department_id=city.market.id, dispatched_at=datetime(2026, 6, 30, 17, tzinfo=UTC),
                        receipt_due_at=NOW, disposal_due_at=NOW + timedelta(days=3)))
    session.flush()
    june = stats.warning_trend(session, city.analyst, flt(session, city.analyst, period="2026-06"), now=NOW)
    july = stats.warning_trend(session, city.analyst, flt(session, city.analyst, period="2026-07"), now=NOW)
    assert sum(p.issued for p in june) == 3 and sum(p.issued for p in july) == 1


def test_clue_volume_counts_duplicates_once(session, city):
    groups = stats.clue_volume(session, city.analyst, flt(session, city.analyst))
    assert {g.key: (g.warnings, g.dismissed, g.disposed) for g in groups} == {
        "hotline_12345": (1, 1, 0), "department": (1, 0, 1)}
    assert next(g for g in groups if g.key == "hotline_12345").label == "12345 投诉举报"


def test_disposal_ranking_per_department(session, city):
    ranking = stats.disposal_ranking(session, city.analyst, flt(session, city.analyst), now=NOW)
    market, health = ranking  # 75% beats 50%
    assert (market.code, market.rank, health.code, health.rank) == ("SZ-SCJG", 1, "SZ-WJW", 2)
    assert (market.warnings, market.disposed, market.overdue) == (4, 3, 2)
    # receipt: m1 0 h, m2 24 h, m3 24 h, m4 0 h -> median 12 h; closure: m1 3 days, m2 14 days -> median 8.5
    assert market.median_receipt_hours == pytest.approx(12)
    assert market.median_closure_days == pytest.approx(8.5)
    assert (market.returns_requested, market.returns_rejected, market.urges) == (2, 1, 2)
    assert (market.extensions_requested, market.extensions_granted) == (2, 1)
    assert (health.median_receipt_hours, health.median_closure_days, health.urges) == (0, 4, 1)


def test_ranking_ties_share_a_rank(session, city):
    f = flt(session, city.analyst, period="2026-04")  # only h2 (health, closed)
    third = Department(code="SZ-ZJJ", name="苏州市住房和城乡建设局")
    session.add(third)
    session.flush()
    session.add(Warning(code="YJ-2026-000901", entity_id=city.shop.id, level="red", source="manual",
                        department_id=third.id, status="closed", dispatched_at=at("2026-04-10"),
                        receipt_due_at=at("2026-04-11"), disposal_due_at=at("2026-04-13"),
                        closed_at=at("2026-04-12")))
    session.flush()
    ranking = stats.disposal_ranking(session, city.analyst, f, now=NOW)
    assert [d.rank for d in ranking] == [1, 1]


def test_no_warnings_gives_empty_figures_not_zero_rates(session, city):
    f = flt(session, city.analyst, period="2024")
    assert stats.warning_groups(session, city.analyst, f, "level", now=NOW) == []
    assert stats.disposal_ranking(session, city.analyst, f, now=NOW) == []
    assert all(p.issued == 0 for p in stats.warning_trend(session, city.analyst, f, now=NOW))
    model = stats.model_statistics(session, city.analyst, f)
    assert all(p.precision is None for p in model.precision)


def test_model_precision_by_level_from_the_latest_main_feedback(session, city):
    model = stats.model_statistics(session, city.analyst, flt(session, city.analyst))
    p = {x.level: (x.rated, x.precision) for x in model.precision}
    assert p["red"] == (1, 1.0)  # m1 confirmed
    assert p["orange"] == (2, 0.5)  # m2 partly (latest round), h2 false alarm
    assert p["blue"] == (1, 1.0)
    assert p["yellow"] == (0, None)
    assert model.runs == [] and model.score_bins == []


def test_model_score_distribution_and_champion_beside_challenger(session, city):
    champion, challenger = add_version(session, 1), add_version(session, 2)
    add_alias(session, champion)
    add_alias(session, challenger, "challenger")
    run = add_run(session, champion, as_of=date(2026, 6, 1))
    shadow = add_run(session, challenger, role="challenger", as_of=date(2026, 6, 1))
    for entity, value in ((city.food, 0.02), (city.shop, 0.04), (city.clinic, 0.97), (city.other, 1.0)):
        session.add(RiskScore(run_id=run.id, entity_id=entity.id, score=value, level=None))
    session.add(RiskScore(run_id=shadow.id, entity_id=city.food.id, score=0.5, level=None))
    session.flush()
    model = stats.model_statistics(session, city.analyst, flt(session, city.analyst))
    assert [r.alias for r in model.runs] == ["champion", "challenger"]
    assert model.runs[0].mean_score == pytest.approx((0.02 + 0.04 + 0.97 + 1.0) / 4)
    assert model.runs[1].mean_score == pytest.approx(0.5)
    counts = [n for _, _, n in model.score_bins]
    assert len(counts) == 20 and counts[0] == 2 and counts[19] == 2 and sum(counts) == 4


def test_statistics_need_a_role_that_reads_them(session, city):
    outsider = Actor(user_id=5, username="nobody", roles=frozenset(), department_id=None)
    with pytest.raises(Forbidden):
        flt(session, outsider)


# --- performance goals -------------------------------------------------------------------------------------


def goal_map(goals):
    return {x.key: x for x in goals}


def test_goals_from_the_hand_built_city(session, city):
    goals = goal_map(g.performance_goals(session, city.viewer, "2026H1", today=date(2026, 6, 30)))
    assert list(goals) == list(g.GOAL_KEYS)
    d = goals["disposal_rate"]
    assert d.value == pytest.approx(4 / 6) and d.status == "not_met" and d.target == 0.9  # m1 m2 m4 h2 of 6
    assert "已处置 4 条 / 下发 6 条" in d.detail
    s = goals["satisfaction"]  # latest main rounds: m1 5, m2 4, h2 3, m4 5 -> 3 of 4
    assert s.value == pytest.approx(0.75) and s.status == "not_met"
    assert goals["models_in_service"].value == 0 and goals["models_in_service"].status == "not_met"
    assert goals["risk_modules"].value == 6 and goals["risk_modules"].status == "met"
    assert goals["analysis_modules"].value == 3
    r = goals["reports_per_year"]
    assert r.value == 0 and r.status == "in_progress"  # neither half of 2026 has closed on 06-30
    assert goals["integration_completion"].status == "unavailable"  # no expected sources
    # no supervision actions collected: nothing to divide by, so no figure
    assert goals["data_analysed"].value is None and goals["data_analysed"].status == "unavailable"
    assert all(x.explanation for x in goals.values())


def test_goals_with_no_warnings_and_no_feedback_are_unavailable_not_zero(session, city):
    goals = goal_map(g.performance_goals(session, city.viewer, "2024H1", today=date(2026, 6, 30)))
    assert goals["disposal_rate"].value is None and goals["disposal_rate"].status == "unavailable"
    assert goals["satisfaction"].value is None and goals["satisfaction"].status == "unavailable"
    assert goals["reports_per_year"].status == "not_met"  # 2024 is over and has no report


def test_all_overdue_and_a_champion(session, city):
    m4 = city.warnings["m4"]  # June: m3 and h1 are overdue already; make m4 overdue and undisposed too
    m4.status, m4.disposal_due_at = "in_progress", at("2026-06-25")
    champion = add_version(session, 1)
    add_alias(session, champion)
    session.flush()
    june = flt(session, city.analyst, period="2026-06")
    ranking = stats.disposal_ranking(session, city.analyst, june, now=NOW)
    assert [(d.warnings, d.overdue, d.disposal_rate) for d in ranking] == [(2, 2, 0.0), (1, 1, 0.0)]
    goals = goal_map(g.performance_goals(session, city.analyst, "2026-06", today=date(2026, 6, 30)))
    assert goals["disposal_rate"].value == 0 and goals["disposal_rate"].status == "not_met"
    assert goals["models_in_service"].value == 1 and goals["models_in_service"].status == "met"


def test_goal_trend_compares_with_the_previous_period(session, city):
    goals = goal_map(g.performance_goals(session, city.analyst, "2026H1", today=date(2026, 6, 30)))
    d = goals["disposal_rate"]
    assert d.previous == pytest.approx(1.0)  # 2025H2: the one warning "old" was closed
    assert d.trend == "down"


def test_a_handler_gets_their_department_goals(session, city):
    goals = goal_map(g.performance_goals(session, city.handler, "2026H1", today=date(2026, 6, 30)))
    assert goals["disposal_rate"].value == pytest.approx(0.5)  # h1 issued, h2 closed
