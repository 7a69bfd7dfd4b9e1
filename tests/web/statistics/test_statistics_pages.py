"""Statistics pages over HTTP: the dashboard, its tables and drill-down links, Excel export, the goal panel,
department scoping and bad filters."""

from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook

from domain.analysis.periods import parse_period
from domain.identity.actor import Actor
from domain.identity.policy import can
from domain.statistics.service import Group, LevelPrecision, ModelStatistics, RunSummary, StatsFilter
from tests.domain.statistics.factories import City
from web.statistics.charts import clue_chart, model_charts
from web.statistics.views import _evidence_for


@pytest.fixture
def city(db):
    with db.unit_of_work() as s:
        c = City(s)
        return {"market": c.market.id, "health": c.health.id}


async def signed_in(client, login, make_user, username, roles, department_id=None):
    make_user(username, roles, department_id=department_id)
    response = await login(client, username)
    assert response.status_code == 303, response.text
    return client


async def test_the_dashboard_shows_every_chart_with_its_table(client, login, make_user, city):
    await signed_in(client, login, make_user, "ana", ["analyst"])
    r = await client.get("/statistics?period=2026H1")
    assert r.status_code == 200
    html = r.text
    for key in ("level", "status", "department", "district", "industry", "source", "trend", "clues", "disposal",
                "precision"):
        assert f'id="chart-{key}"' in html, key
    assert 'data-stats-chart="level"' in html and 'id="stats-chart-data"' in html
    assert "苏州市市场监督管理局" in html and "处理率" in html
    assert 'id="kpi-warnings">6<' in html  # six warnings of 2026H1 that were not withdrawn


async def test_drill_down_links_carry_the_filter(client, login, make_user, city):
    await signed_in(client, login, make_user, "ana", ["analyst"])
    r = await client.get("/statistics?period=2026H1&region=320506")
    assert r.status_code == 200
    start = r.text.index('data-table="level"')
    link = r.text[r.text.index('href="', start) + 6:]
    link = link[:link.index('"')].replace("&amp;", "&")
    url = urlparse(link)
    assert url.path == "/warnings"
    q = parse_qs(url.query)
    assert q["created_from"] == ["2026-01-01"] and q["created_to"] == ["2026-06-30"]
    assert q["region"] == ["320506"] and q["level"][0] in ("red", "orange", "blue")


async def test_excel_export_reads_back_with_the_same_numbers(client, login, make_user, city):
    await signed_in(client, login, make_user, "ana", ["analyst"])
    r = await client.get("/statistics/export.xlsx?period=2026H1&chart=department")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[2][:4] == ("分组", "预警数", "含已撤销", "已处置")
    assert {row[0]: row[1] for row in rows[3:]} == {"苏州市市场监督管理局": 4, "苏州市卫生健康委员会": 2}
    everything = load_workbook(io.BytesIO((await client.get("/statistics/export.xlsx?period=2026H1")).content))
    assert len(everything.worksheets) >= 10
    missing = await client.get("/statistics/export.xlsx?chart=nope")
    assert missing.status_code == 404 and "不存在" in missing.text


async def test_a_handler_sees_their_department_only(client, login, make_user, city):
    await signed_in(client, login, make_user, "zhao", ["handler"], department_id=city["health"])
    r = await client.get("/statistics?period=2026H1")
    assert r.status_code == 200
    assert "苏州市卫生健康委员会" in r.text and "苏州市市场监督管理局" not in r.text
    assert 'id="kpi-warnings">2<' in r.text
    other = await client.get("/statistics?period=2026H1&department=SZ-SCJG")
    assert other.status_code == 404


async def test_a_bad_period_is_explained_in_chinese(client, login, make_user, city):
    await signed_in(client, login, make_user, "ana", ["analyst"])
    r = await client.get("/statistics?period=2026H7")
    assert r.status_code == 400
    assert "期间“2026H7”无效" in r.text and 'id="chart-level"' in r.text
    g = await client.get("/statistics/goals?period=%E4%B8%8A%E5%8D%8A%E5%B9%B4")
    assert g.status_code == 400 and "无法识别" in g.text


async def test_the_goal_panel_lists_every_goal_with_its_explanation(client, login, make_user, city):
    await signed_in(client, login, make_user, "wang", ["viewer"])
    r = await client.get("/statistics/goals?period=2026H1")
    assert r.status_code == 200
    for key in ("data_analysed", "disposal_rate", "satisfaction", "city_action_coverage", "reports_per_year",
                "integration_completion", "risk_modules", "analysis_modules", "models_in_service"):
        assert f'data-goal="{key}"' in r.text, key
    assert "66.7%" in r.text  # disposal rate 4 / 6
    assert "口径：" in r.text and "暂无数据" in r.text


async def test_signed_out_callers_are_sent_to_sign_in(client, city):
    r = await client.get("/statistics", headers={"accept": "text/html"})
    assert r.status_code in (302, 303, 401)


async def test_a_drill_down_link_opens_the_matching_warnings(client, login, make_user, city):
    await signed_in(client, login, make_user, "ana", ["analyst"])
    r = await client.get("/statistics?period=2026H1")
    start = r.text.index('data-table="district"')
    rows = r.text[start:r.text.index("</table>", start)]
    link = next(part.split('"')[0] for part in rows.split('href="')[1:] if "region=320506" in part)
    listed = await client.get(link.replace("&amp;", "&"))
    assert listed.status_code == 200
    codes = set(re.findall(r'data-warning="(YJ-[0-9-]+)"', listed.text))
    # 320506 holds the shop (m2, m4) and the clinic (h1, h2); m5 (320508) and the 2025 warning are left out
    assert len(codes) == 4, codes
    industry = await client.get("/warnings?industry=Q&created_from=2026-01-01&created_to=2026-06-30")
    assert len(set(re.findall(r'data-warning="(YJ-[0-9-]+)"', industry.text))) == 2  # the clinic


def _links(html: str) -> set[str]:
    return {h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)}


async def test_links_only_to_pages_the_reader_may_open(client, login, make_user, city):
    """A handler has no clue list, risk list, model pages or reports: the dashboard and the goal panel link to none
    of them (each was a 403 or 404 before); the score bins open the risk list (/analysis), which exists."""
    await signed_in(client, login, make_user, "zhao", ["handler"], department_id=city["health"])
    dashboard = await client.get("/statistics?period=2026H1")
    goals = await client.get("/statistics/goals?period=2026H1")
    assert dashboard.status_code == 200 and goals.status_code == 200
    for link in _links(dashboard.text) | _links(goals.text):
        if link.startswith("/") and not link.startswith("/static/"):
            opened = await client.get(link, headers={"accept": "text/html"})
            assert opened.status_code in (200, 303), (link, opened.status_code)
    assert (await client.get("/models/1", headers={"accept": "text/html"})).status_code == 403  # so: no such link
    # the chart payloads (the echarts drill-down urls) follow the same rule
    handler = Actor(user_id=1, username="zhao", roles=frozenset({"handler"}), department_id=city["health"])
    analyst = Actor(user_id=2, username="ana", roles=frozenset({"analyst"}))
    stats = ModelStatistics(precision=[], score_bins=[(0.5, 0.55, 3)], runs=[])
    f = StatsFilter(period=parse_period("2026H1"))
    assert model_charts(stats, f, model_links=can(analyst, "models.read"))[1].rows[0]["url"] == \
        "/analysis?score_min=0.50&score_max=0.55"
    runs = [RunSummary(alias="champion", version=1, version_id=7, run_id=1, as_of=date(2026, 6, 30), entities=3,
                       mean_score=0.5, level_counts={})]
    stats = ModelStatistics(precision=[], score_bins=[(0.5, 0.55, 3)], runs=runs)
    assert model_charts(stats, f, model_links=can(analyst, "models.read"))[2].rows[0]["url"] == "/models/7"
    assert model_charts(stats, f, model_links=can(handler, "models.read"))[2].rows[0]["url"] is None
    group = Group(key="hotline_12345", label="12345", warnings=1, open=1)
    assert clue_chart([group], links=can(handler, "clues.work")).rows[0]["url"] is None
    assert clue_chart([group], links=can(analyst, "clues.work")).rows[0]["url"] == "/clues?source=hotline_12345"
    assert "reports" not in _evidence_for(handler) and "models" not in _evidence_for(handler)
    # the note under a chart says what a click opens; precision without any feedback is "no data", not empty bars
    precision, scores, runs_chart = model_charts(
        ModelStatistics(precision=[LevelPrecision(level="red", label="红色")], score_bins=[(0.5, 0.55, 3)], runs=runs),
        f)
    assert precision.rows == [] and runs_chart.opens == "该模型版本"
    assert scores.opens == "该分数段的监管对象（研判列表）"
    page = await client.get("/statistics?period=2026H1")
    assert "点击图形可打开对应的预警列表" in page.text
    assert set(_evidence_for(analyst)) >= {"reports", "models", "behaviour"}
