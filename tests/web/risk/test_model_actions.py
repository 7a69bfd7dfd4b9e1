"""Acting on the model pages: promote/rollback, thresholds with inline validation, rules, training and backtest jobs."""

from __future__ import annotations

import re

from sqlmodel import select

from domain.risk.models import ModelAlias, ModelVersion, RiskRule, RiskRuleRevision
from tests.api.risk.factories import add_alias, add_user, add_version, run_queued_job, small_city

HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}


async def test_promote_and_roll_back_from_the_pages(client, session):
    v1, v2 = add_version(session, 1), add_version(session, 2)
    add_alias(session, v1, "champion", days_ago=3)
    session.commit()
    no_reason = await client.post(f"/models/{v2.id}/promote", data={"alias": "champion"}, headers=HTMX)
    refused = await client.get(no_reason.headers["hx-redirect"], headers=HTML)
    assert "请填写原因" in refused.text
    session.expire_all()
    assert session.get(ModelAlias, ("entity_risk", "champion")).version_id == v1.id  # unchanged
    promoted = await client.post(f"/models/{v2.id}/promote", data={"alias": "champion", "reason": "v2 更准"},
                                 headers=HTMX)
    assert promoted.status_code == 200 and promoted.headers["hx-redirect"] == f"/models/{v2.id}"
    page = await client.get(f"/models/{v2.id}", headers=HTML)
    assert "已设为冠军模型" in page.text and 'data-alias="champion"' in page.text
    assert 'data-action="rollback"' in page.text and "回滚到上一版本（v1）" in page.text  # v1 held it before

    back = await client.post("/models/rollback", data={"alias": "champion"}, headers=HTML)  # a plain form post
    assert back.status_code == 303 and back.headers["location"] == f"/models/{v1.id}"
    session.expire_all()
    assert session.get(ModelAlias, ("entity_risk", "champion")).version_id == v1.id
    shown = await client.get(f"/models/{v1.id}", headers=HTML)
    assert "已回滚到上一版本" in shown.text
    history = re.search(r'<table[^>]*id="alias-history".*?</table>', shown.text, re.S).group(0)
    assert history.count("<tr") == 4 and "回滚" in history


async def test_a_refused_rollback_says_why(client, session):
    add_alias(session, add_version(session, 1), "champion")
    session.commit()
    response = await client.post("/models/rollback", data={"alias": "champion"}, headers=HTMX)
    assert response.status_code == 200
    page = await client.get(response.headers["hx-redirect"], headers=HTML)
    assert "alert-danger" in page.text and "无可回滚" in page.text


async def test_thresholds_are_checked_while_typing_and_saved_when_valid(client, session):
    v = add_version(session, 1)
    session.commit()
    check = await client.post(f"/models/{v.id}/thresholds/check",
                              data={"red": "0.5", "orange": "0.6", "yellow": "0.4", "blue": "abc"}, headers=HTMX)
    assert check.status_code == 200 and check.text.lstrip().startswith("<form id=\"thresholds-form\"")
    assert 'data-error-for="blue"' in check.text and "不是数字" in check.text
    check = await client.post(f"/models/{v.id}/thresholds/check",
                              data={"red": "0.5", "orange": "0.6", "yellow": "0.4", "blue": "0.2"}, headers=HTMX)
    assert 'data-error-for="red"' in check.text and "红色阈值（0.5）须高于橙色阈值（0.6）" in check.text
    out_of_range = await client.post(f"/models/{v.id}/thresholds/check",
                                     data={"red": "1.5", "orange": "", "yellow": "0.3", "blue": "0.1"}, headers=HTMX)
    shown = " ".join(re.findall(r'data-error-for="[a-z]+">([^<]*)<', out_of_range.text))
    assert "红色阈值 1.5 不在 0–1 之间" in shown and "请填写橙色阈值" in shown
    assert not re.search(r"[A-Za-z]{3,}", shown), shown  # a Chinese page gets Chinese messages, not English detail
    assert 'value="0.6"' in check.text  # what was typed stays
    saved = await client.post(f"/models/{v.id}/thresholds",
                              data={"red": "0.7", "orange": "0.5", "yellow": "0.3", "blue": "0.1"}, headers=HTMX)
    assert "阈值已保存" in saved.text and "invalid-feedback" not in saved.text
    session.expire_all()
    assert session.get(ModelVersion, v.id).thresholds == {"red": 0.7, "orange": 0.5, "yellow": 0.3, "blue": 0.1}


async def test_a_rule_with_an_unknown_feature_is_not_saved_and_the_form_keeps_the_input(client, session):
    form = {"code": "R9", "name": "投诉多", "expression": "complaint_90d > 3", "min_level": "yellow",
            "description": "", "enabled": "on"}
    response = await client.post("/rules", data=form, headers=HTML)
    assert response.status_code == 400
    assert 'data-error-for="expression"' in response.text and "complaints_90d" in response.text
    assert "complaint_90d &gt; 3" in response.text and "未登记的特征" in response.text
    assert session.exec(select(RiskRule)).all() == []

    response = await client.post("/rules", data={**form, "expression": "complaints_90d > 3"}, headers=HTML)
    assert response.status_code == 303
    rule = session.exec(select(RiskRule)).one()
    page = await client.get(response.headers["location"], headers=HTML)
    assert "已保存为第 1 版" in page.text and 'id="rule-revisions"' in page.text
    assert session.exec(select(RiskRuleRevision)).one().expression == "complaints_90d > 3" and rule.enabled


async def test_trying_a_rule_shows_the_match_count_and_a_sample(client, db):
    small_city(db, 300)
    response = await client.post("/rules/test", data={"expression": "inspections_365d >= 0"}, headers=HTMX)
    assert response.status_code == 200
    assert 'data-matched="300"' in response.text and response.text.count("<code>SYN") == 10
    dated = await client.post("/rules/test", data={"expression": "complaints_365d >= 1", "test_as_of": "2025-12-31"},
                              headers=HTMX)
    assert "截至 2025-12-31" in dated.text and 'data-matched="0"' not in dated.text
    wrong = await client.post("/rules/test", data={"expression": "inspections_365d >="}, headers=HTMX)
    assert "data-test-error" in wrong.text and "表达式语法错误" in wrong.text


async def test_the_train_button_starts_a_job_and_its_panel_follows_it_to_the_new_version(client, acting, session, db):
    small_city(db, 1500)
    acting.actor = add_user(session, "analyst-zhou", ["analyst"])
    session.commit()
    started = await client.post("/models/train", headers=HTMX)
    assert started.status_code == 200
    job_id = int(re.search(r'id="job-(\d+)"', started.text).group(1))
    assert f'hx-get="/models/jobs/{job_id}" hx-trigger="every 1s"' in started.text
    run_queued_job(db, job_id)
    panel = await client.get(f"/models/jobs/{job_id}", headers=HTMX)
    assert 'data-job-status="succeeded"' in panel.text and "训练完成" in panel.text
    assert "hx-trigger=\"every 1s\"" not in panel.text  # polling stops
    version = session.exec(select(ModelVersion)).one()
    assert f'href="/models/{version.id}"' in panel.text


async def test_the_backtest_form_runs_a_job_and_the_result_table_appears(client, acting, session, db):
    from domain.identity.actor import SYSTEM
    from ml.model_training import TrainOptions, train_model

    small_city(db, 1500)
    version = train_model(session, SYSTEM, options=TrainOptions(n_cutoffs=4, step_days=60, seed=5))
    acting.actor = add_user(session, "analyst-zhou", ["analyst"])
    session.commit()
    empty = await client.post(f"/models/{version.id}/backtest", data={"as_of": ""}, headers=HTMX)
    assert "请选择回测截止日" in empty.text
    started = await client.post(f"/models/{version.id}/backtest", data={"as_of": "2025-03-31", "window_days": "180"},
                                headers=HTMX)
    job_id = int(re.search(r'id="job-(\d+)"', started.text).group(1))
    run_queued_job(db, job_id)
    panel = await client.get(f"/models/jobs/{job_id}", headers=HTMX)
    assert "回测完成" in panel.text
    page = await client.get(f"/models/{version.id}", headers=HTML)
    table = re.search(r'<div id="backtests">(.*?)</div>\s*</div>', page.text, re.S).group(1)
    assert "截止 2025-03-31" in table and "红色" in table and "无等级" in table


async def test_the_model_page_starts_a_scoring_run(client, acting, session, db):
    small_city(db, 300)
    champion = add_version(session, 1)
    add_alias(session, champion, "champion")
    acting.actor = add_user(session, "analyst-zhou", ["analyst"])  # a job is started by a real user
    session.commit()
    page = await client.get(f"/models/{champion.id}", headers=HTML)
    assert 'data-action="score"' in page.text and 'hx-post="/models/score"' in page.text
    started = await client.post("/models/score", headers=HTMX)
    job_id = int(re.search(r'id="job-(\d+)"', started.text).group(1))
    assert "风险评分" in started.text
    assert run_queued_job(db, job_id).status == "succeeded"
    panel = await client.get(f"/models/jobs/{job_id}", headers=HTMX)
    assert "data-score-done" in panel.text and "冠军模型 300 个对象" in panel.text
    from domain.risk.models import ScoringRun

    (run,) = session.exec(select(ScoringRun)).all()
    assert run.version_id == champion.id and run.entities == 300
