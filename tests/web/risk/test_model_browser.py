"""In a real browser, signed in as a real analyst: the model page draws its charts under the strict CSP, and
promote (with its reason) and rollback work by clicking."""

from __future__ import annotations

import pytest

from tests.api.risk.factories import ANALYST, add_alias, add_version
from tests.domain.identity.factories import PASSWORD

pytestmark = pytest.mark.browser


async def test_charts_render_and_promote_then_rollback_through_the_page(live_server, page, session, acting):
    v1, v2 = add_version(session, 1), add_version(session, 2)
    add_alias(session, v1, "champion", days_ago=3)
    session.commit()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: d.accept())

    await page.goto(f"{live_server}/login?next=/models/{v2.id}")
    await page.fill("#username", ANALYST.username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/models/{v2.id}", timeout=10_000)
    for kind in ("roc", "pr", "calibration", "importance"):
        await page.wait_for_selector(f'[data-chart="{kind}"] canvas', timeout=10_000)
    assert await page.locator("[data-chart] canvas").count() >= 4

    assert await page.locator('[data-action="rollback"]').count() == 0  # v2 is not the champion
    await page.fill('[data-reason="champion"]', "v2 在验证窗口上更准")
    await page.click('[data-action="promote-champion"]')
    await page.wait_for_selector('#version-aliases [data-alias="champion"]', timeout=10_000)
    assert "已设为冠军模型" in await page.inner_text("#main")
    assert page.url.endswith(f"/models/{v2.id}")

    await page.click('[data-action="rollback"]')
    await page.wait_for_url(f"**/models/{v1.id}", timeout=10_000)
    await page.wait_for_selector('#version-aliases [data-alias="champion"]')
    assert "已回滚到上一版本" in await page.inner_text("#main")
    rows = await page.locator("#alias-history tbody tr").all_inner_texts()
    assert len(rows) == 3 and "回滚" in rows[0] and "当前" in rows[0]
    await page.wait_for_selector('[data-chart="roc"] canvas')
    assert [p for p in problems if "favicon" not in p and "404" not in p] == []


async def test_typing_a_threshold_slowly_keeps_what_was_typed(live_server, page, session, acting):
    v = add_version(session, 1)
    session.commit()
    await page.goto(f"{live_server}/login?next=/models/{v.id}")
    await page.fill("#username", ANALYST.username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/models/{v.id}", timeout=10_000)
    field = page.locator("#threshold-blue")
    await field.fill("")
    await field.type("0.")
    await page.wait_for_timeout(900)  # a pause long enough for any validation round trip to come back
    await field.type("45")
    await page.wait_for_timeout(900)
    assert await field.input_value() == "0.45"  # was 450: a re-rendered form moved the cursor
    # leaving the field validates it, and the message appears beside it without replacing the input
    async with page.expect_response(lambda r: r.url.endswith("/thresholds/check")):
        await page.locator("#threshold-red").click()
    # blue 0.45 is above yellow: the ordering error shows in a message slot
    await page.wait_for_selector('[id^="msg-threshold-"] .invalid-feedback', timeout=10_000)
    assert await field.input_value() == "0.45"
    assert await field.evaluate("el => el === document.getElementById('threshold-blue')")
