"""In Chromium, end to end: an analyst issues a warning; it appears in the handler's open inbox without a reload;
the handler receives it and submits feedback with a file; the analyst sends it back for rework; the handler
resubmits; the analyst closes it — and the timeline shows every step."""

from __future__ import annotations

import pytest

from domain.notifications.pump import NotificationPump
from tests.domain.identity.factories import PASSWORD, new_user
from tests.domain.warnings.support import build_city

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def city(db):
    with db.unit_of_work() as session:
        c = build_city(session)
    new_user(db, "ana", ["analyst"], display_name="研判员")
    new_user(db, "zhao", ["handler"], department_id=c.market.id, display_name="赵处置")
    return c


@pytest.fixture
def pump(db):
    p = NotificationPump(db, dispatch_seconds=0.1)
    p.start()
    assert p.listening.wait(10)
    yield p
    p.stop()


async def sign_in(page, live_server, username, path):
    await page.goto(f"{live_server}{path}")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")


async def open_action(page, name):
    await page.locator(f'[data-action="{name}"]').evaluate("el => { el.open = true; }")


async def feedback(page, text):
    await open_action(page, "submit_feedback")
    form = page.locator("#form-submit_feedback")
    await form.locator('input[value="onsite_inspection"]').check()
    await form.locator('input[value="rectification_order"]').check()
    await form.locator('input[value="confirmed"]').check()
    await form.locator('textarea[name="description"]').fill(text)
    await form.locator('select[name="satisfaction"]').select_option("4")
    await form.locator('input[type="file"]').set_input_files(
        [{"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG}])
    await form.locator("button[type=submit]").click()


async def test_issue_receive_feedback_rework_resubmit_close(page, browser, live_server, city, pump, tmp_path):
    entity = city.entities[0]
    handler = page
    await sign_in(handler, live_server, "zhao", "/disposal")
    await handler.wait_for_selector("#inbox-table")
    await handler.wait_for_function("() => document.body.dataset.disposalLive === 'on'")

    context = await browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    analyst = await context.new_page()
    try:
        await sign_in(analyst, live_server, "ana", f"/warnings/new?entity_id={entity.id}")
        await analyst.wait_for_selector("#warning-form")
        await analyst.select_option("#warning-level", "orange")
        await analyst.select_option("#warning-department", str(city.market.id))
        await analyst.fill("#warning-reasons", "近三个月投诉量激增")
        await analyst.click("#warning-form button[type=submit]")
        await analyst.wait_for_selector("#warning-code")
        code = (await analyst.locator("#warning-code").inner_text()).strip()
        url = analyst.url

        # the handler's open inbox shows it without a reload (server-sent events)
        row = handler.locator(f'#inbox-table tr[data-warning="{code}"]')
        await row.wait_for(timeout=15000)
        assert (await handler.locator("#tab-count-pending").inner_text()).strip() == "1"

        await row.locator("a").first.click()
        await handler.wait_for_selector("#disposal-panel")
        assert await handler.locator('[data-action="close"]').count() == 0  # only the handler's steps
        await handler.click("#form-receive button[type=submit]")
        await handler.wait_for_selector('#warning-events [data-event="receive"]')
        await handler.wait_for_selector("#disposal-panel")
        # inline validation: a feedback without a description is refused in place, nothing saved
        await open_action(handler, "submit_feedback")
        await handler.locator("#form-submit_feedback").evaluate("el => el.setAttribute('novalidate', '')")
        await handler.locator("#form-submit_feedback button[type=submit]").click()
        await handler.wait_for_selector('#disposal-panel [data-error-for="measures"]')
        await feedback(handler, "现场检查发现消防通道堵塞，已责令整改。")
        await handler.wait_for_selector('#warning-events [data-event="feedback"]')

        await analyst.goto(url)
        await analyst.wait_for_selector('[data-action="rework"]')
        await open_action(analyst, "rework")
        await analyst.fill("#rework-reason", "请补充整改后的照片")
        await analyst.click("#form-rework button[type=submit]")
        await analyst.wait_for_selector('#warning-events [data-event="rework"]')

        await handler.reload()
        await handler.wait_for_selector('[data-action="submit_feedback"]')
        await feedback(handler, "已补充整改后照片，通道已清理。")
        await handler.wait_for_selector('#warning-events [data-event="feedback"] >> nth=1')

        await analyst.goto(url)
        await analyst.wait_for_selector('[data-action="close"]')
        await open_action(analyst, "close")
        await analyst.fill("#close-comment", "同意办结")
        await analyst.click("#form-close button[type=submit]")
        await analyst.wait_for_selector('#warning-events [data-event="close"]')
        kinds = await analyst.locator("#warning-events [data-event]").evaluate_all(
            "els => els.map(e => e.dataset.event)")
        assert kinds == ["issue", "receive", "feedback", "rework", "feedback", "close"]
        timeline = await analyst.locator("#warning-events").inner_text()
        for label in ("发布预警", "签收", "提交处置反馈", "退回重办", "办结", "zhao", "ana"):
            assert label in timeline
        await analyst.wait_for_selector("#disposal-no-actions")  # the panel loads after the page
        async with analyst.expect_download() as info:
            await analyst.locator("[data-evidence]").first.click()
        download = await info.value
        assert download.suggested_filename == "现场照片.png"
        await analyst.screenshot(path=str(tmp_path / "closed.png"), full_page=True)
    finally:
        await context.close()
