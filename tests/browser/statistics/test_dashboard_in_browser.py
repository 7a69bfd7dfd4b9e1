"""The statistics dashboard in headless Chromium with the network cut off: the charts draw (non-empty canvases)
from vendored ECharts, and clicking a slice opens the warnings list filtered like the slice."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.domain.identity.factories import PASSWORD
from tests.domain.statistics.factories import City

pytestmark = pytest.mark.browser

# Counts the canvas pixels that are not blank: a chart that drew something has many.
PAINTED = """(el) => { const c = el.querySelector('canvas'); if (!c) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) n++; } return n; }"""


async def test_charts_render_offline_and_a_click_drills_down(page, live_server, db, make_user, tmp_path):
    with db.unit_of_work() as s:
        City(s)
    make_user("ana", ["analyst"])
    outside: list[str] = []

    async def only_local(route):
        if route.request.url.startswith(live_server):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.context.route("**/*", only_local)
    await page.goto(f"{live_server}/statistics?period=2026H1")
    await page.fill("#username", "ana")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("[data-stats-chart='level'][data-drawn='1'] canvas", timeout=20000)
    for key in ("level", "department", "trend", "disposal"):
        chart = page.locator(f"[data-stats-chart='{key}']")
        await chart.scroll_into_view_if_needed()
        assert await chart.evaluate(PAINTED) > 500, f"chart {key} drew nothing"
    await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    # the level pie: click the middle of the ring's right-hand side, where a slice is
    pie = page.locator("[data-stats-chart='level'] canvas")
    await pie.scroll_into_view_if_needed()
    box = await pie.bounding_box()
    assert box is not None
    async with page.expect_navigation(timeout=15000):
        await page.mouse.click(box["x"] + box["width"] * 0.5 + box["height"] * 0.25, box["y"] + box["height"] * 0.45)
    url = urlparse(page.url)
    assert url.path == "/warnings"
    q = parse_qs(url.query)
    assert q["level"][0] in ("red", "orange", "yellow", "blue")
    assert q["created_from"] == ["2026-01-01"] and q["created_to"] == ["2026-06-30"]
    assert outside == [], f"the dashboard tried to reach the outside: {outside}"
