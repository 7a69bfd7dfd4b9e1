"""In Chromium: an analyst enters a clue by hand, judges it into an orange warning and finds it in the list with its
deadline; the risk list filtered to red is exported to Excel and the file read back."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.domain.identity.factories import PASSWORD, new_user
from tests.domain.warnings.support import build_city, score

pytestmark = pytest.mark.browser


@pytest.fixture
def city(db):
    with db.unit_of_work() as session:
        c = build_city(session)
        score(session, c.run, c.entities[0], 0.93, "red")
        score(session, c.run, c.entities[1], 0.91, "red")
        score(session, c.run, c.entities[2], 0.62, "orange")
    new_user(db, "ana", ["analyst"], display_name="研判员")
    return c


async def sign_in(page, live_server, path):
    await page.goto(f"{live_server}{path}")
    await page.fill("#username", "ana")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")


async def test_an_analyst_enters_a_clue_and_judges_it_into_an_orange_warning(page, live_server, city, tmp_path):
    target = city.entities[2]
    await sign_in(page, live_server, "/clues/new")
    await page.wait_for_selector("#clue-form")
    await page.fill("#clue-uscc", target.uscc)
    await page.fill("#clue-category", "")
    await page.fill("#clue-description", "群众来电反映该店销售过期食品")
    await page.locator("#clue-description").blur()
    # inline validation: the empty category is named before anything is saved
    await page.wait_for_selector('[data-error-for="category"]')
    assert "必填" in await page.locator('[data-error-for="category"]').inner_text()
    await page.fill("#clue-category", "食品安全")
    await page.click("#clue-save")
    await page.wait_for_selector("#judge-form")
    assert target.name in await page.locator("#clue-entity").inner_text()
    await page.check("#decision-issue")
    await page.select_option("#judge-level", "orange")
    await page.click("#judge-submit")
    await page.wait_for_selector("#warning-code")
    code = (await page.locator("#warning-code").inner_text()).strip()
    assert code.startswith("YJ-")
    receipt = (await page.locator('#warning-facts [data-due="receipt"]').inner_text()).strip()
    await page.screenshot(path=str(tmp_path / "warning.png"), full_page=True)
    await page.goto(f"{live_server}/warnings")
    row = page.locator(f'#warning-table tr[data-warning="{code}"]')
    await row.wait_for()
    text = await row.inner_text()
    assert target.name in text and "橙色" in text and "已下发" in text
    assert receipt[:16] in text  # the receipt deadline, in Suzhou time
    assert (await row.locator('[data-due="disposal"]').inner_text()).strip()


async def test_the_red_risk_list_exported_to_excel(page, live_server, city, tmp_path):
    await sign_in(page, live_server, "/analysis")
    await page.wait_for_selector("#risk-table")
    await page.select_option("#risk-level", "red")
    await page.wait_for_function(
        "() => [...document.querySelectorAll('#risk-table tbody tr')].every(r => r.dataset.level === 'red')")
    assert await page.locator("#risk-table tbody tr").count() == 2
    async with page.expect_download() as info:
        await page.click("#risk-export")
    download = await info.value
    path = tmp_path / "risk.xlsx"
    await download.save_as(str(path))
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][1:3] == ("监管对象", "统一社会信用代码")
    assert {r[2] for r in rows[1:]} == {city.entities[0].uscc, city.entities[1].uscc}
    assert all(r[6] == "红色" for r in rows[1:])
