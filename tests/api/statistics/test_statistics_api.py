"""GraphQL over HTTP: riskStatistics and performanceGoals with real bearer tokens, scoping and bad input."""

from __future__ import annotations

import pytest

from tests.api.identity.factories import bearer
from tests.domain.identity.factories import new_token, new_user
from tests.domain.statistics.factories import City


@pytest.fixture
def city(db):
    with db.unit_of_work() as s:
        c = City(s)
        return {"market": c.market.id, "health": c.health.id}


def token(db, username, roles, department_id=None) -> dict[str, str]:
    user = new_user(db, username, roles, department_id=department_id)
    return bearer(new_token(db, user.id))


async def gql(client, headers, query, **variables):
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


STATS = """query($g: String!, $f: StatisticsFilterInput) { riskStatistics(groupBy: $g, filter: $f) {
  period periodStart periodEnd groupBy total { warnings disposed overdue dismissed disposalRate }
  groups { key label warnings disposed overdue disposalRate overdueRate } } }"""


async def test_risk_statistics_grouped_by_department(client, db, city):
    h = token(db, "ana", ["analyst"])
    data = (await gql(client, h, STATS, g="department", f={"period": "2026H1"}))["data"]["riskStatistics"]
    assert (data["period"], data["periodStart"], data["periodEnd"]) == ("2026H1", "2026-01-01", "2026-06-30")
    assert data["total"] == {"warnings": 6, "disposed": 4, "overdue": 3, "dismissed": 1,
                             "disposalRate": pytest.approx(4 / 6)}
    assert {g["label"]: (g["warnings"], g["disposed"]) for g in data["groups"]} == {
        "苏州市市场监督管理局": (4, 3), "苏州市卫生健康委员会": (2, 1)}


async def test_filters_and_bad_input(client, db, city):
    h = token(db, "ana", ["analyst"])
    data = (await gql(client, h, STATS, g="level", f={"period": "2026H1", "regionCode": "320506"}))["data"]
    assert data["riskStatistics"]["total"]["warnings"] == 4  # shop: m2, m4; clinic: h1, h2 (m5 is in 320508)
    bad = await gql(client, h, STATS, g="colour", f={"period": "2026H1"})
    assert bad["data"] is None and "分组“colour”不存在" in bad["errors"][0]["message"]
    bad = await gql(client, h, STATS, g="level", f={"period": "2026Q5"})
    assert "期间“2026Q5”无效" in bad["errors"][0]["message"]


async def test_a_handler_gets_their_own_department(client, db, city):
    h = token(db, "zhao", ["handler"], department_id=city["health"])
    data = (await gql(client, h, STATS, g="department", f={"period": "2026H1"}))["data"]["riskStatistics"]
    assert [g["label"] for g in data["groups"]] == ["苏州市卫生健康委员会"]
    other = await gql(client, h, STATS, g="level", f={"period": "2026H1", "departmentCode": "SZ-SCJG"})
    assert other["data"] is None


async def test_performance_goals(client, db, city):
    h = token(db, "wang", ["viewer"])
    goals = (await gql(client, h, """{ performanceGoals(period: "2026H1") {
        key name target targetText unit value status statusLabel explanation evidence previous trend } }"""))
    rows = {g["key"]: g for g in goals["data"]["performanceGoals"]}
    assert len(rows) == 9
    assert rows["disposal_rate"]["value"] == pytest.approx(4 / 6) and rows["disposal_rate"]["status"] == "not_met"
    assert rows["disposal_rate"]["previous"] == pytest.approx(1.0) and rows["disposal_rate"]["trend"] == "down"
    assert rows["integration_completion"]["value"] is None
    assert rows["integration_completion"]["statusLabel"] == "暂无数据"
    assert rows["risk_modules"]["value"] == 6 and rows["analysis_modules"]["value"] == 3


async def test_anonymous_callers_get_nothing(client, city):
    response = await client.post("/graphql", json={"query": "{ performanceGoals { key } }"})
    body = response.json()
    assert body.get("data") is None or body["data"].get("performanceGoals") is None
