"""An analyst in headless Chromium: behaviour list → scorecard → findings, runs an evaluation, opens a department's
scorecard and sees the radar chart drawn by the vendored ECharts, with no console errors."""

from __future__ import annotations

import pytest

from tests.browser.identity.test_admin_flow import sign_in
from tests.domain.analysis.dataset import build_city
from tests.domain.identity.factories import PASSWORD

pytestmark = pytest.mark.browser


async def test_analyst_runs_an_evaluation_and_reads_the_radar(page, live_server, make_user, db):
    from domain.evaluation.service import ensure_default_set

    with db.unit_of_work() as s:
        ensure_default_set(s)
        build_city(s)
    make_user("ana", ["analyst"])
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await sign_in(page, live_server, "ana", PASSWORD)
    await page.goto(f"{live_server}/behaviour?period=2026H1")
    await page.click("text=苏州市甲局")
    await page.wait_for_url("**/behaviour/SZ-A?period=2026H1")
    await page.click("text=留痕不全的监管行为")
    assert "缺少：检查结果" in await page.locator("#finding-table").inner_text()

    await page.goto(f"{live_server}/evaluations?period=2026H1")
    await page.click("#run-evaluation")
    await page.locator("#ranking-table").wait_for()
    assert "96.25" in await page.locator("#ranking-table").inner_text()
    await page.click("#ranking-table >> text=苏州市甲局")
    await page.locator('[data-chart="radar"][data-rendered="true"]').wait_for(timeout=10000)
    assert await page.locator('[data-chart="radar"] canvas').count() == 1
    assert errors == []
