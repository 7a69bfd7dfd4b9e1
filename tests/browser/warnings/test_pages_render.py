"""In Chromium, with the real Content-Security-Policy: the entity risk panel and the clue page log no console error
(no inline style), a single scoring run is drawn as a point with a note, a clue's description keeps its lines."""

from __future__ import annotations

import pytest

from domain.warnings.clues import ClueInput, create_clue
from tests.browser.warnings.test_warnings_in_browser import sign_in
from tests.domain.identity.factories import new_user
from tests.domain.warnings.support import build_city, score

pytestmark = pytest.mark.browser


@pytest.fixture
def city(db):
    with db.unit_of_work() as session:
        c = build_city(session)
        score(session, c.run, c.entities[0], 0.93, "red")
        clue = create_clue(session, c.analyst, ClueInput(uscc=c.entities[0].uscc, category="食品安全",
                                                         description="第一行：销售过期食品\n第二行：无证经营"))
        c.clue_id = clue.id
    new_user(db, "ana", ["analyst"], display_name="研判员")
    return c


async def test_one_run_chart_and_clue_lines_without_csp_errors(page, live_server, city):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    await sign_in(page, live_server, f"/analysis/entities/{city.entities[0].id}")
    holder = page.locator('[data-chart="score-history"]')
    await holder.locator("canvas").wait_for()
    assert (await holder.bounding_box())["height"] >= 200  # the height comes from app.css, not a blocked style=
    assert "仅有一次评分" in await page.locator("#score-history-note").inner_text()
    series = await page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-chart=\"score-history\"]')).getOption().series")
    assert series[0]["type"] == "scatter" and series[0]["data"] == [0.93]

    await page.goto(f"{live_server}/clues/{city.clue_id}")
    text = page.locator("#clue-description-text")
    assert await text.evaluate("el => getComputedStyle(el).whiteSpace") == "pre-wrap"
    assert (await text.bounding_box())["height"] > 30  # two lines
    assert errors == []
