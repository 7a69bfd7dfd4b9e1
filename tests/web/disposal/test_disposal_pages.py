"""Disposal pages over real HTTP: the inbox (tabs, out-of-band counts, filters, bulk receive, export), the panel
(only allowed steps, inline errors), feedback with a file, evidence download headers, isolation."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.api.identity.factories import bearer
from tests.domain.disposal.support import make_warning, make_world
from tests.domain.identity.factories import new_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
HTMX = {"hx-request": "true"}


@pytest.fixture
def world(db):
    return make_world(db)


def as_(db, actor, **extra):
    return {**bearer(new_token(db, actor.user_id, f"p-{actor.username}")), "accept": "text/html", **extra}


async def test_inbox_tabs_counts_filters_and_bulk_receive(client, db, world):
    red = make_warning(db, world.dept_a, level="red", name="苏州红色企业有限公司")
    make_warning(db, world.dept_a, level="blue")
    other = make_warning(db, world.dept_b)
    h = as_(db, world.handler_a)
    page = await client.get("/disposal", headers=h)
    assert page.status_code == 200
    assert 'id="tab-count-pending">2<' in page.text and other.code not in page.text
    fragment = await client.get("/disposal?tab=pending&level=red", headers={**h, **HTMX})
    assert red.code in fragment.text and 'hx-swap-oob="true">1<' in fragment.text  # counts follow the filter
    assert "<html" not in fragment.text
    bad = await client.get("/disposal?tab=nope", headers=h)
    assert "页签“nope”不存在" in bad.text
    done = await client.post("/disposal/bulk-receive", data={"ids": [str(red.id), str(other.id)]}, headers=h)
    assert done.status_code == 303
    follow = await client.get("/disposal", headers=h)
    assert "已签收 1 条" in follow.text and "未签收" in follow.text  # B's warning named as not received
    page = await client.get("/disposal?tab=in_progress", headers=h)
    assert red.code in page.text and 'id="tab-count-in_progress">1<' in page.text
    xlsx = await client.get("/disposal/export.xlsx?tab=in_progress", headers=h)
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "预警编号" and rows[1][0] == red.code and len(rows) == 2


async def test_the_panel_shows_only_allowed_steps_and_errors_inline(client, db, world):
    w = make_warning(db, world.dept_a)
    handler, analyst = as_(db, world.handler_a, **HTMX), as_(db, world.analyst, **HTMX)
    panel = await client.get(f"/disposal/warnings/{w.id}", headers=handler)
    actions = [a for a in ("receive", "request_return", "request_extension", "submit_feedback", "close", "urge")
               if f'data-action="{a}"' in panel.text]
    assert actions == ["receive", "request_return", "request_extension"]
    panel = await client.get(f"/disposal/warnings/{w.id}", headers=analyst)
    assert 'data-action="urge"' in panel.text and 'data-action="receive"' not in panel.text
    refused = await client.post(f"/disposal/warnings/{w.id}/act/request_return", headers=handler,
                                data={"reason": "", "row_version": "1"})
    assert 'data-error-for="reason"' in refused.text and "请填写退回理由" in refused.text
    ok = await client.post(f"/disposal/warnings/{w.id}/act/receive", headers=handler, data={"row_version": "1"})
    assert "已签收" in ok.text and 'data-status="in_progress"' in ok.text
    stale = await client.post(f"/disposal/warnings/{w.id}/act/request_return", headers=handler,
                              data={"reason": "不属于本部门", "row_version": "1"})
    assert "已被他人修改，请刷新" in stale.text


async def test_feedback_with_a_file_then_download_only_in_scope(client, db, world):
    w = make_warning(db, world.dept_a, status="in_progress")
    handler = as_(db, world.handler_a, **HTMX)
    form = {"warning_id": str(w.id), "part": "main", "measures": ["onsite_inspection", "rectification_order"],
            "outcome": "confirmed", "description": "现场检查属实，已责令整改。", "satisfaction": "4",
            "row_version": "1"}
    wrong = await client.post("/disposal/feedback", headers=handler, data=form,
                              files={"evidence": ("照片.png", b"MZ\x90\x00" + b"\0" * 64, "image/png")})
    assert "内容与扩展名 .png 不符" in wrong.text and 'data-status="in_progress"' in wrong.text
    ok = await client.post("/disposal/feedback", headers=handler, data=form,
                           files={"evidence": ("现场照片.png", PNG, "image/png")})
    assert "处置反馈已提交" in ok.text and "现场照片.png" in ok.text
    evidence_id = int(ok.text.split('data-evidence="')[1].split('"')[0])
    got = await client.get(f"/disposal/evidence/{evidence_id}", headers=as_(db, world.analyst))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;")
    for guess in (evidence_id, evidence_id + 1):
        refused = await client.get(f"/disposal/evidence/{guess}", headers=as_(db, world.handler_b))
        assert refused.status_code == 404
    assert (await client.get(f"/disposal/warnings/{w.id}", headers=as_(db, world.handler_b))).status_code == 404


async def test_evidence_upload_endpoint_for_api_clients(client, db, world):
    w = make_warning(db, world.dept_a, status="in_progress")
    h = bearer(new_token(db, world.handler_a.user_id, "api"))
    ok = await client.post("/disposal/evidence", headers=h, data={"warning_id": str(w.id)},
                           files={"evidence": ("检查记录.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf")})
    assert ok.status_code == 201 and ok.json()["contentType"] == "application/pdf"
    refused = await client.post("/disposal/evidence", headers=bearer(new_token(db, world.handler_b.user_id, "b")),
                                data={"warning_id": str(w.id)}, files={"evidence": ("a.pdf", b"%PDF-1.7\n")})
    assert refused.status_code == 404


async def test_webhook_subscriptions_and_delivery_log_for_admins_only(client, db, world):
    admin = as_(db, world.admin)
    created = await client.post("/disposal/webhooks", headers=admin, data={
        "name": "一期门户", "url": "http://127.0.0.1:9/hook", "event_kinds": ["receive", "close"]})
    assert created.status_code == 303
    page = await client.get("/disposal/webhooks", headers=admin)
    assert 'data-subscription="一期门户"' in page.text and "办结、签收" in page.text
    assert "签名密钥：" in page.text  # shown once, right after creation
    again = await client.get("/disposal/webhooks", headers=admin)
    assert "签名密钥：" not in again.text
    bad = await client.post("/disposal/webhooks", headers=admin, data={"name": "x", "url": "ftp://nope"})
    assert bad.status_code == 303
    assert "推送地址须为 http:// 或 https://" in (await client.get("/disposal/webhooks", headers=admin)).text
    assert (await client.get("/disposal/webhooks", headers=as_(db, world.handler_a))).status_code == 403


async def test_notices_of_an_urge_are_listed_and_marked_read(client, db, world):
    from domain.disposal import service as d

    w = make_warning(db, world.dept_a)
    with db.unit_of_work() as s:
        d.urge_warning(s, world.analyst, w.id, "请今日签收")
    h = as_(db, world.handler_a)
    inbox = await client.get("/disposal", headers=h)
    assert 'id="inbox-notices"' in inbox.text and 'text-bg-danger">1<' in inbox.text
    page = await client.get("/disposal/notices", headers=h)
    assert f"预警 {w.code} 被督办（第 1 次）" in page.text and "请今日签收" in page.text and "未读" in page.text
    other = await client.get("/disposal/notices", headers=as_(db, world.handler_b))
    assert w.code not in other.text
    assert (await client.post("/disposal/notices/read", headers=h)).status_code == 303
    assert "已将 1 条通知标为已读" in (await client.get("/disposal/notices", headers=h)).text


async def test_the_webhook_page_explains_the_protocol_in_chinese(client, db, world):
    import re

    html = (await client.get("/disposal/webhooks", headers=as_(db, world.admin))).text
    intro = html[html.index("每条预警事件"):]
    intro = intro[:intro.index("</p>")]
    prose = re.sub(r"<code>.*?</code>", "", intro)  # header names and formats may stay as codes in brackets
    assert "请求头" in prose and "签名" in prose and "幂等键" in prose
    assert not re.search(r"[A-Za-z][\w-]*[ ,]+[A-Za-z][\w-]*", prose), prose  # no English phrase left
