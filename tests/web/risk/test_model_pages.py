"""Model management pages: versions list, a version's metrics, charts data, drift, history; compare; rules."""

from __future__ import annotations

import json
import re

from tests.api.risk.factories import HANDLER, VIEWER, add_alias, add_rule, add_run, add_version

HTML = {"accept": "text/html"}


async def test_versions_list_shows_alias_badges_and_key_metrics(client, session):
    v1 = add_version(session, 1, roc_auc=0.812)
    v2 = add_version(session, 2, roc_auc=0.845)
    add_alias(session, v1, "champion", days_ago=5)
    add_alias(session, v2, "challenger")
    session.commit()
    page = await client.get("/models", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert "训练新模型" in html and "冠军模型" in html
    rows = re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', html, re.S)
    assert [n for n, _ in rows] == ["2", "1"]
    assert "0.845" in rows[0][1] and 'data-alias="challenger"' in rows[0][1]
    assert "0.812" in rows[1][1] and 'data-alias="champion"' in rows[1][1]
    assert 'id="alias-history"' in html


async def test_a_version_page_carries_chart_data_thresholds_and_drift(client, session):
    v = add_version(session, 3)
    add_run(session, v, drift={"score": 0.04, "features": {"complaints_90d": 0.35}})
    session.commit()
    page = await client.get(f"/models/{v.id}", headers=HTML)
    assert page.status_code == 200
    html = page.text
    data = json.loads(re.search(r'<script type="application/json" id="model-chart-data">(.*?)</script>', html,
                                re.S).group(1))
    assert data["roc"][0] == [0.0, 0.0] and data["roc"][-1] == [1.0, 1.0]
    assert len(data["pr"]) > 5 and len(data["calibration"]) == 10 == len(data["calibrationBefore"])
    assert data["importance"]
    for kind in ("roc", "pr", "calibration", "importance"):
        assert f'data-chart="{kind}"' in html
    assert 'id="threshold-red"' in html and 'value="0.8"' in html
    assert 'id="drift-alert"' in html and 'data-drift="complaints_90d"' in html
    assert "设为冠军模型" in html and "hx-confirm" in html
    assert 'data-reason="champion"' in html and "原因（必填" in html  # promoting asks why
    assert 'data-action="rollback"' not in html  # not the champion: nothing to roll back
    for table in ("lift-table", "calibration-table"):
        assert f'id="{table}"' in html
    lift = re.search(r'<table[^>]*id="lift-table".*?</table>', html, re.S).group(0)
    assert lift.count("data-decile=") == 10 and "第 1 组" in lift
    calibration = re.search(r'<table[^>]*id="calibration-table".*?</table>', html, re.S).group(0)
    assert "校准前预测" in calibration and "校准后预测" in calibration and "Platt 缩放" in html
    assert 'data-metric="new_events_roc_auc"' in html and "仅新发事件" in html and "95% 区间" in html
    assert "评分最高的 200 家监管对象中" in html  # fewer than 1,000 held out in this small fit
    assert "从下一次评分起生效" in html
    assert "<script>" not in html and " style=" not in html  # CSP: no inline code or styles


async def test_viewers_see_the_pages_without_the_buttons_and_handlers_are_refused(client, acting, session):
    v = add_version(session, 1)
    session.commit()
    acting.actor = VIEWER
    listing = await client.get("/models", headers=HTML)
    assert listing.status_code == 200 and "训练新模型" not in listing.text
    detail = await client.get(f"/models/{v.id}", headers=HTML)
    assert detail.status_code == 200 and "设为冠军模型" not in detail.text and "保存阈值" not in detail.text
    acting.actor = HANDLER
    refused = await client.get("/models", headers=HTML)
    assert refused.status_code == 403


async def test_an_unknown_version_is_a_404_page(client):
    response = await client.get("/models/4242", headers=HTML)
    assert response.status_code == 404 and "4242" in response.text


async def test_compare_page_shows_both_versions_and_the_difference(client, session):
    a = add_version(session, 1, roc_auc=0.80)
    b = add_version(session, 2, roc_auc=0.86)
    session.commit()
    page = await client.get(f"/models/compare?a={a.id}&b={b.id}", headers=HTML)
    assert page.status_code == 200
    row = re.search(r'<tr data-metric="roc_auc">(.*?)</tr>', page.text, re.S).group(1)
    assert "0.8000" in row and "0.8600" in row and "+0.0600" in row and "text-success" in row
    data = json.loads(re.search(r'id="model-chart-data">(.*?)</script>', page.text, re.S).group(1))
    assert [c["name"] for c in data["compare-roc"]] == ["A · v1", "B · v2"] and data["compare-pr"][1]["points"]
    for key in ("new_events_roc_auc", "roc_auc_ci_low", "mean_predicted", "ece", "lift_decile_1",
                "baseline_new_events_roc_auc"):
        assert f'<tr data-metric="{key}">' in page.text, key


async def test_rules_list_and_edit_form(client, session):
    rule = add_rule(session, "R001", "penalties_365d >= 2")
    session.commit()
    listing = await client.get("/rules", headers=HTML)
    assert listing.status_code == 200 and 'data-rule="R001"' in listing.text
    form = await client.get(f"/rules/{rule.id}", headers=HTML)
    assert form.status_code == 200 and "penalties_365d &gt;= 2" in form.text and "试运行" in form.text


async def test_htmx_asks_for_the_versions_table_alone(client, session):
    add_alias(session, add_version(session, 1), "champion")
    session.commit()
    fragment = await client.get("/models", headers={"accept": "text/html", "hx-request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="versions">') and 'data-alias="champion"' in fragment.text
    assert "新发事件 ROC-AUC" in fragment.text and "data-new-events" in fragment.text
    assert "<html" not in fragment.text


async def test_a_version_page_shows_the_precision_of_its_warnings_from_feedback(client, session):
    from datetime import timedelta

    from domain.disposal.models import WarningFeedback
    from domain.identity.models import Department
    from domain.types import utcnow
    from domain.warnings.models import Warning
    from tests.api.risk.factories import add_entity

    v, other = add_version(session, 4), add_version(session, 5)
    dept = Department(code="SZ-T", name="测试局")
    session.add(dept)
    session.flush()
    now = utcnow()
    rows = [("red", "confirmed", v), ("red", "false_alarm", v), ("orange", "partly", v), ("red", "confirmed", other)]
    for n, (level, outcome, version) in enumerate(rows, start=1):
        entity = add_entity(session, 100 + n)
        w = Warning(code=f"YJ-2026-{n:06d}", entity_id=entity.id, level=level, source="model", department_id=dept.id,
                    model_version_id=version.id, status="closed", receipt_due_at=now + timedelta(days=1),
                    disposal_due_at=now + timedelta(days=3), closed_at=now)
        session.add(w)
        session.flush()
        session.add(WarningFeedback(warning_id=w.id, department_id=dept.id, outcome=outcome, satisfaction=4))
    session.commit()
    page = await client.get(f"/models/{v.id}", headers=HTML)
    assert page.status_code == 200
    section = page.text[page.text.index('id="feedback-precision"'):]
    cells = dict(re.findall(r'<tr data-level="(\w+)">.*?data-precision>([^<]+)<', section, re.S))
    assert cells == {"red": "50.0%", "orange": "100.0%", "yellow": "—", "blue": "—"}  # the other version's not here
    fresh = add_version(session, 6)
    session.commit()
    empty = await client.get(f"/models/{fresh.id}", headers=HTML)
    assert "尚无处置反馈" in empty.text
