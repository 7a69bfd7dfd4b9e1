"""Pages over real HTTP: department list → scorecard → findings → records; ranking, scorecard, comparison,
Excel export; reports generated, listed and downloaded; a handler sees their own department only."""

from __future__ import annotations

import io
import json
import re

from openpyxl import load_workbook

from domain.identity.actor import Actor
from tests.api.risk.factories import run_queued_job


async def test_behaviour_drill_down(client, city):
    page = await client.get("/behaviour?period=2026H1")
    assert page.status_code == 200
    assert "苏州市甲局" in page.text and "苏州市乙局" in page.text and "81.8%" in page.text  # 9 of 11 analysed
    card = await client.get("/behaviour/SZ-A?period=2026H1")
    assert "66.7%" in card.text and "2 / 3 项事项已实施" in card.text and "处置" in card.text
    assert "/behaviour/findings?period=2026H1&kind=missing_trace&department=SZ-A" in card.text
    records = await client.get("/behaviour/findings?period=2026H1&kind=missing_trace&department=SZ-A")
    assert "缺少：检查结果、决定/办结日期" in records.text and "/entities/" in records.text
    excluded = await client.get("/behaviour/findings?period=2026H1&kind=excluded")
    assert "未关联监管事项目录" in excluded.text and "日期矛盾" in excluded.text
    bad = await client.get("/behaviour?period=2026H7")
    assert bad.status_code == 400 and "期间“2026H7”无效" in bad.text


async def test_evaluation_pages_and_export(client, city):
    empty = await client.get("/evaluations?period=2026H1")
    assert "尚未开展效能评价" in empty.text
    ran = await client.post("/evaluations/run", data={"period": "2026H1"})  # the client sends the CSRF token
    assert ran.status_code in (200, 303), ran.text
    ranking = await client.get("/evaluations?period=2026H1")
    assert "96.25" in ranking.text and "不合格" in ranking.text
    # how much of the indicator set each total rests on: the weights of the indicators that had data
    weights = re.findall(r'data-scored-weight="([0-9.]+)">\1 / 100<', ranking.text)
    assert weights == ["80", "100"] and "计分权重" in ranking.text  # SZ-B (first) has no warnings: 100 − 10 − 5 − 5
    run_id = re.search(r"/evaluations/runs/(\d+)\.xlsx", ranking.text)[1]
    card = await client.get(f"/evaluations/runs/{run_id}/departments/SZ-A")
    assert card.status_code == 200 and "evaluation-chart-data" in card.text and "17.83" in card.text
    seen_missing = 0
    for code in ("SZ-A", "SZ-B"):  # an indicator without data is named so on the radar, not drawn as a plain zero
        text = (await client.get(f"/evaluations/runs/{run_id}/departments/{code}")).text
        radar = json.loads(re.search(r'id="evaluation-chart-data">(.*?)</script>', text, re.S)[1])
        missing = text.count("无数据</span> / ")
        assert sum(i["name"].endswith("（无数据）") for i in radar["indicators"]) == missing, (code, missing)
        seen_missing += missing
    assert seen_missing > 0  # the dataset has a department with an indicator without data
    xlsx = await client.get(f"/evaluations/runs/{run_id}.xlsx")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws["B5"].value == "SZ-B" and ws["D5"].value == 96.25
    compare = await client.get("/evaluations/compare?a=2025H2&b=2026H1")
    assert "苏州市乙局" in compare.text and "2025H2 尚未开展效能评价" in compare.text.replace("\n", "")
    sets = await client.get("/evaluations/sets")
    assert "监管事项覆盖率" in sets.text and "合计" in sets.text


async def test_reports_generate_list_download(client, db, city):
    started = await client.post("/reports/generate", data={"period": "2026H1"}, follow_redirects=False)
    assert started.status_code in (200, 303), started.text
    location = started.headers.get("location") or started.headers.get("hx-redirect")
    job = run_queued_job(db, int(location.rsplit("/", 1)[1]))
    assert job.status == "succeeded", job.error
    listing = await client.get("/reports")
    assert "苏州市监管行为分析与效能评价报告（2026年上半年）" in listing.text
    report_id = re.search(r"/reports/(\d+)/docx", listing.text)[1]
    docx = await client.get(f"/reports/{report_id}/docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK" and "attachment" in docx.headers["content-disposition"]
    page = await client.get(f"/reports/{report_id}/html")
    assert "七、工作建议" in page.text and "style-src 'unsafe-inline'" in page.headers["content-security-policy"]


async def test_handler_sees_their_department_only(client, acting, city):
    acting.actor = Actor(user_id=None, username="handler-b", roles=frozenset({"handler"}), department_id=city["b"])
    page = await client.get("/behaviour?period=2026H1")
    assert "苏州市乙局" in page.text and "苏州市甲局" not in page.text
    other = await client.get("/behaviour/SZ-A?period=2026H1")
    assert other.status_code == 404
    reports = await client.get("/reports")
    assert reports.status_code == 403


async def test_indicator_set_edited_on_the_page(client, city):
    form = await client.get("/evaluations/sets/default/edit")
    assert form.status_code == 200 and 'name="weight_0" value="20"' in form.text
    fields = dict(re.findall(r'name="((?:weight|target|floor)_\d+)" value="([^"]*)"', form.text))
    data = {"code": "default", "name": "默认指标体系（修订）", "description": ""}
    for n in range(12):
        metric = re.search(rf'name="metric_{n}".*?<option value="([a-z_]+)" selected', form.text, re.S)
        data[f"metric_{n}"] = metric[1] if metric and n < 9 else ""
        for key in ("weight", "target", "floor"):
            data[f"{key}_{n}"] = fields.get(f"{key}_{n}", "")
        data[f"direction_{n}"] = "lower" if data[f"metric_{n}"] == "warning_overdue_rate" else "higher"
        data[f"rule_{n}"] = "bands" if data[f"metric_{n}"] == "random_share" else "linear"
        data[f"bands_{n}"] = "0.7:100, 0.5:70, 0.3:40" if data[f"rule_{n}"] == "bands" else ""
    for n, (grade, low) in enumerate([("优秀", 90), ("良好", 75), ("合格", 60), ("不合格", 0)]):
        data[f"grade_{n}"], data[f"grade_min_{n}"] = grade, str(low)
    bad = await client.post("/evaluations/sets/default", data={**data, "weight_0": "25", "bands_4": "0.7-100"})
    assert bad.status_code == 400
    assert "分段“0.7-100”格式应为" in bad.text
    bad = await client.post("/evaluations/sets/default", data={**data, "weight_0": "25"})
    assert bad.status_code == 400 and "各项指标权重之和须为 100，当前为 105" in bad.text
    good = await client.post("/evaluations/sets/default", data={**data, "weight_0": "25", "weight_1": "15"})
    assert good.status_code in (200, 303)
    sets = await client.get("/evaluations/sets")
    assert "默认指标体系（修订）" in sets.text and "第 2 版" in sets.text


async def test_the_scorecard_chart_data_cannot_close_its_script_block(client, db, city):
    from domain.identity.models import Department

    evil = "甲局</script><script>alert(1)</script>"
    with db.unit_of_work() as s:
        s.get(Department, city["a"]).name = evil
    await client.post("/evaluations/run", data={"period": "2026H1"})
    ranking = await client.get("/evaluations?period=2026H1")
    run_id = re.search(r"/evaluations/runs/(\d+)\.xlsx", ranking.text)[1]
    card = await client.get(f"/evaluations/runs/{run_id}/departments/SZ-A")
    assert card.status_code == 200
    assert "<script>alert(1)" not in card.text
    radar = json.loads(re.search(r'id="evaluation-chart-data">(.*?)</script>', card.text, re.S)[1])
    assert radar["name"] == evil  # the name arrives intact as data
