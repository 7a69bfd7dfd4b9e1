"""Supervision and integration pages over real HTTP: search, detail, catalogue, sources, upload, batch, report."""

from __future__ import annotations

import re
import time

import pytest
from sqlmodel import select

from domain.identity.actor import SYSTEM
from domain.jobs.models import Job
from domain.jobs.runner import JobRunner
from domain.supervision.ingest import ingest
from tests.domain.supervision.factories import seed_basics, uscc
from tests.support import count_statements
from tests.web.identity.factories import csrf_token, login

HTML = {"accept": "text/html"}


@pytest.fixture
def basics(session):
    data = seed_basics(session, entities=3)
    ingest(session, SYSTEM, source="SCJG-SYS", kind="actions", records=[
        {"external_id": "A-1", "kind": "inspection", "item_code": "320500-SCJG-JC-001", "department_code": "SZ-SCJG",
         "uscc": uscc(0), "started_on": "2025-03-01", "result": "fail"},
        {"external_id": "A-2", "kind": "penalty", "item_code": "320500-SCJG-CF-001", "department_code": "SZ-SCJG",
         "uscc": uscc(0), "started_on": "2025-04-01", "decided_on": "2025-04-09", "penalty_amount": "3000",
         "document_number": "苏市监罚〔2025〕1号"},
        {"external_id": "A-3", "kind": "inspection", "item_code": "NOPE", "department_code": "SZ-SCJG",
         "uscc": uscc(1), "started_on": "2025-04-01", "result": "pass"}])
    ingest(session, SYSTEM, source="SCJG-SYS", kind="complaints", records=[
        {"external_id": "C-1", "uscc": uscc(0), "received_on": "2025-02-01", "channel": "12315",
         "category": "食品安全"}])
    ingest(session, SYSTEM, source="SCJG-SYS", kind="credit", records=[
        {"external_id": "K-1", "uscc": uscc(0), "kind": "abnormal_operation", "listed_on": "2024-12-01"}])
    session.commit()
    return data


async def test_entity_search_renders_the_page_or_only_the_results(auth_client, basics):
    page = await auth_client.get("/entities", headers=HTML)
    assert page.status_code == 200 and "<form" in page.text and "苏州测试0号有限公司" in page.text
    fragment = await auth_client.get("/entities", params={"search": "测试1号"},
                                     headers={"hx-request": "true", **HTML})
    assert fragment.status_code == 200 and "<form" not in fragment.text
    assert "苏州测试1号有限公司" in fragment.text and "苏州测试0号有限公司" not in fragment.text
    by_code = await auth_client.get("/entities", params={"search": uscc(2)[:12]}, headers=HTML)
    assert uscc(2) in by_code.text


async def test_entity_list_costs_the_same_whatever_its_size(auth_client, db, basics):
    with count_statements(db) as small:
        await auth_client.get("/entities", headers=HTML)
    from domain.supervision.models import Entity

    with db.unit_of_work() as s:
        s.add_all([Entity(uscc=uscc(500 + i), name=f"追加{i}", entity_type="enterprise") for i in range(15)])
    with count_statements(db) as large:
        response = await auth_client.get("/entities", headers=HTML)
    assert response.text.count("/entities/9") >= 18
    assert large.count == small.count


async def test_entity_detail_shows_a_timeline(auth_client, basics):
    response = await auth_client.get(f"/entities/{uscc(0)}", headers=HTML)
    assert response.status_code == 200
    text = response.text
    assert "监管行为 2 · 投诉举报 1 · 信用记录 1" in text
    timeline = text[text.index('id="entity-timeline"'):]  # newest first
    order = [timeline.index(word) for word in ("行政处罚", "检查", "投诉举报", "经营异常名录")]
    assert order == sorted(order)
    assert "罚没金额：3000" in text and "结果：不合格" in text
    missing = await auth_client.get(f"/entities/{uscc(77)}", headers=HTML)
    assert missing.status_code == 404


async def test_item_catalogue_and_sources(auth_client, basics):
    items = await auth_client.get("/items", params={"department": "SZ-SCJG"}, headers=HTML)
    assert "对食品生产经营者的监督检查" in items.text and "对无证经营的行政处罚" in items.text
    sources = await auth_client.get("/sources", headers=HTML)
    assert sources.status_code == 200
    completion = sources.text.split('id="integration-completion"')[1].split("</div>")[0]
    assert "50.0%" in completion  # SCJG-SYS sent both its feeds; YJGL-SYS sent nothing
    assert 'data-source="SCJG-SYS"' in sources.text and "市场监管业务系统" in sources.text


async def test_upload_runs_as_a_job_and_the_batch_lists_its_errors(auth_client, db, basics, settings):
    token = await csrf_token(auth_client)
    content = ("行为编号,行为类别,监管事项编码,实施部门编码,统一社会信用代码,开始日期,结果\n"
               f"U-1,检查,320500-SCJG-JC-001,SZ-SCJG,{uscc(1)},2025-05-01,合格\n"
               f"U-2,检查,320500-SCJG-JC-001,SZ-SCJG,{uscc(1)},2025-05-41,合格\n").encode("gbk")
    response = await auth_client.post("/imports", data={"kind": "actions", "source": "SCJG-SYS", "mode": "partial",
                                                        "csrf_token": token},
                                      files={"file": ("行为.csv", content, "text/csv")}, headers=HTML)
    assert response.status_code == 303, response.text
    job_id = int(response.headers["location"].split("job=")[1])
    runner = JobRunner(db, poll_seconds=0.05)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            with db.unit_of_work() as s:
                job = s.get(Job, job_id)
            if job.finished or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        runner.stop()
    assert job.status == "succeeded", job.error
    progress = await auth_client.get(f"/imports/jobs/{job_id}", headers={"hx-request": "true", **HTML})
    assert "接收 1" in progress.text and "拒收 1" in progress.text
    batch_id = job.result["batch_id"]
    batch = await auth_client.get(f"/batches/{batch_id}", headers=HTML)
    assert "第 3 行" in batch.text and "invalid_date" in batch.text and "行为.csv" in batch.text  # header = row 1
    assert "部分接收" in batch.text
    report = await auth_client.get(f"/batches/{batch_id}/errors.csv")
    assert report.content.startswith("\ufeff".encode())
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("3,1,开始日期,started_on,invalid_date,")


async def test_upload_problems_are_shown_on_the_form(auth_client, db, basics):
    token = await csrf_token(auth_client)
    wrong = await auth_client.post("/imports", data={"kind": "actions", "source": "SCJG-SYS", "csrf_token": token},
                                   files={"file": ("a.xls", b"x", "application/vnd.ms-excel")}, headers=HTML)
    assert wrong.status_code == 400 and "不支持的文件格式" in wrong.text
    with db.unit_of_work() as s:
        assert s.exec(select(Job)).all() == []


async def test_handlers_may_read_but_not_import(client, db, basics, make_user, settings):
    make_user("handler2", ["handler"], department_id=basics["users"]["handler"].department_id)
    assert (await login(client, "handler2")).status_code == 303
    assert (await client.get("/entities", headers=HTML)).status_code == 200
    page = (await client.get("/imports", headers=HTML)).text
    assert 'id="import-form"' not in page and "import-not-allowed" in page  # no form they cannot use
    token = await csrf_token(client)
    refused = await client.post("/imports", data={"kind": "actions", "source": "MANUAL", "csrf_token": token},
                                files={"file": ("a.csv", b"external_id\n", "text/csv")}, headers=HTML)
    assert refused.status_code == 403 and "权限" in refused.text  # refused before the file is written
    with db.unit_of_work() as s:
        assert s.exec(select(Job)).all() == []
    folder = settings.var_dir / "imports"
    assert not folder.exists() or list(folder.iterdir()) == []


async def test_an_upload_over_the_limit_is_refused_with_413(auth_client, db, basics, settings, monkeypatch):
    import dataclasses

    app = auth_client._transport.app  # type: ignore[attr-defined]
    while not hasattr(app, "state") and hasattr(app, "app"):
        app = app.app
    monkeypatch.setattr(app.state, "settings", dataclasses.replace(app.state.settings, max_upload_bytes=1000))
    token = await csrf_token(auth_client)
    response = await auth_client.post("/imports", data={"kind": "actions", "source": "SCJG-SYS", "csrf_token": token},
                                      files={"file": ("big.csv", b"x" * 5000, "text/csv")}, headers=HTML)
    assert response.status_code == 413 and "上传上限" in response.text
    with db.unit_of_work() as s:
        assert s.exec(select(Job)).all() == []


async def test_sources_page_costs_the_same_whatever_the_number_of_sources(auth_client, db, basics):
    from domain.integration.models import DataSource

    with count_statements(db) as few:
        await auth_client.get("/sources", headers=HTML)
    with db.unit_of_work() as s:
        s.add_all([DataSource(code=f"EXTRA-{i}", name=f"追加数据源{i}", kind="data_centre",
                              expected_feeds=["entities"]) for i in range(6)])
    for i in range(6):
        with db.unit_of_work() as s:
            ingest(s, SYSTEM, source=f"EXTRA-{i}", kind="entities", records=[
                {"uscc": uscc(300 + i), "name": f"追加{i}", "entity_type": "enterprise"}])
    with count_statements(db) as many:
        response = await auth_client.get("/sources", headers=HTML)
    assert response.text.count('data-source="EXTRA-') == 6
    assert many.count == few.count


async def test_entity_detail_shows_the_trigger_the_class_and_the_deregistration_date(auth_client, db, basics):
    with db.unit_of_work() as s:
        ingest(s, SYSTEM, source="MANUAL", kind="entities", records=[
            {"uscc": uscc(2), "name": "苏州测试2号有限公司", "entity_type": "enterprise", "industry_code": "C1310",
             "status": "吊销", "status_changed_on": "2025-05-06"}])
        ingest(s, SYSTEM, source="SCJG-SYS", kind="actions", records=[
            {"external_id": "T-1", "kind": "inspection", "item_code": "320500-SCJG-JC-001",
             "department_code": "SZ-SCJG", "uscc": uscc(2), "started_on": "2025-03-01", "result": "pass",
             "trigger": "双随机"}])
    text = (await auth_client.get(f"/entities/{uscc(2)}", headers=HTML)).text
    assert "双随机抽查" in text and "小类 1310" in text
    assert "吊销（2025-05-06 起）" in text and "2025-05-06 起不在册" in text


async def test_a_batch_page_says_when_only_the_first_errors_were_kept(auth_client, db, basics, monkeypatch):
    from domain.supervision import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "MAX_STORED_ERRORS", 3)
    with db.unit_of_work() as s:
        result = ingest(s, SYSTEM, source="MANUAL", kind="entities", records=[
            {"uscc": uscc(10 + i), "name": "", "entity_type": "enterprise"} for i in range(5)])
    page = (await auth_client.get(f"/batches/{result.batch_id}", headers=HTML)).text
    assert "全部拒收" in page
    assert 'id="errors-capped"' in page and "共发现 5 处错误，只保存了前 3 条" in page
    assert "序号 0" in page  # an API-style push: 0-based index, no file row


async def test_entity_page_is_one_statement_for_its_timeline_whatever_its_length(auth_client, db, basics):
    with count_statements(db) as short:
        first = await auth_client.get(f"/entities/{uscc(0)}", headers=HTML)
    assert "监管行为 2 · 投诉举报 1 · 信用记录 1" in first.text
    with db.unit_of_work() as s:
        ingest(s, SYSTEM, source="SCJG-SYS", kind="actions", records=[
            {"external_id": f"L-{i}", "kind": "inspection", "item_code": "320500-SCJG-JC-001",
             "department_code": "SZ-SCJG", "uscc": uscc(0), "started_on": f"2024-01-{i + 1:02d}", "result": "pass"}
            for i in range(12)])
        ingest(s, SYSTEM, source="SCJG-SYS", kind="complaints", records=[
            {"external_id": f"LC-{i}", "uscc": uscc(0), "received_on": f"2024-02-{i + 1:02d}", "channel": "12345",
             "category": "价格"} for i in range(7)])
    with count_statements(db) as long:
        response = await auth_client.get(f"/entities/{uscc(0)}", headers=HTML)
    assert "监管行为 14 · 投诉举报 8 · 信用记录 1" in response.text
    assert response.text.count('data-kind="action"') == 14 and response.text.count('data-kind="complaint"') == 8
    assert long.count == short.count


async def test_timeline_orders_equal_dates_by_kind_and_scopes_actions_to_a_handlers_department(
        client, db, basics, make_user):
    with db.unit_of_work() as s:  # the same day as the penalty A-2 (SZ-SCJG): a complaint, a credit record
        ingest(s, SYSTEM, source="SCJG-SYS", kind="complaints", records=[
            {"external_id": "C-2", "uscc": uscc(0), "received_on": "2025-04-01", "channel": "12345",
             "category": "噪声扰民"}])
        ingest(s, SYSTEM, source="MANUAL", kind="credit", records=[
            {"external_id": "K-2", "uscc": uscc(0), "kind": "commendation", "listed_on": "2025-04-01",
             "authority": "苏州市人民政府"}])
    other = basics["departments"][1]
    make_user("admin2", ["admin"])
    assert (await login(client, "admin2")).status_code == 303
    text = (await client.get(f"/entities/{uscc(0)}", headers=HTML)).text
    timeline = text[text.index('id="entity-timeline"'):]
    order = [timeline.index(word) for word in ("行政处罚", "噪声扰民", "苏州市人民政府", "检查")]
    assert order == sorted(order)  # 2025-04-01: action, complaint, credit; then 2025-03-01
    make_user("handler-yj", ["handler"], department_id=other.id)
    assert (await login(client, "handler-yj")).status_code == 303
    scoped = (await client.get(f"/entities/{uscc(0)}", headers=HTML)).text
    assert "监管行为 0 · 投诉举报 2 · 信用记录 2" in scoped and "行政处罚" not in scoped


async def test_item_catalogue_counts_each_items_actions_in_the_list_statement(auth_client, db, basics):
    with count_statements(db) as few:
        page = await auth_client.get("/items", headers=HTML)
    rows = re.findall(r'<td class="font-monospace small">([^<]+)</td>.*?<td class="text-end">(\d+)</td>', page.text,
                      re.S)
    assert dict(rows) == {"320500-SCJG-CF-001": "1", "320500-SCJG-JC-001": "1"}  # A-3's item is unknown
    from domain.supervision.models import SupervisionItem

    with db.unit_of_work() as s:
        department_id = basics["departments"][0].id
        s.add_all([SupervisionItem(code=f"320500-SCJG-XX-{i:03d}", name=f"追加事项{i}", department_id=department_id,
                                   kind="inspection") for i in range(8)])
    with count_statements(db) as many:
        page = await auth_client.get("/items", headers=HTML)
    assert page.text.count("追加事项") == 8 and "共 10 条" in page.text
    assert many.count == few.count
