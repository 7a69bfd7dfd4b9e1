"""The layout as a browser shows it: the current page is marked in the sidebar, and the pages outside the layout
(sign-in, GraphiQL) load without a console error (such as a missing favicon)."""

from __future__ import annotations

import pytest

from tests.identity.support import PASSWORD

pytestmark = pytest.mark.browser


async def test_sidebar_marks_the_current_page_and_no_page_logs_a_console_error(page, live_server, admin_user):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)

    await page.goto(f"{live_server}/login")
    await page.fill("#username", "admin")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/")

    await page.goto(f"{live_server}/jobs")
    current = page.locator("nav.app-sidebar a[aria-current=page]")
    assert (await current.inner_text()).strip() == "后台任务"
    colours = await page.evaluate("""() => {
        const style = a => getComputedStyle(a).backgroundColor;
        const links = [...document.querySelectorAll('nav.app-sidebar a')];
        return {current: style(links.find(a => a.getAttribute('aria-current') === 'page')),
                other: style(links.find(a => !a.getAttribute('aria-current')))};
    }""")
    assert colours["current"] != colours["other"], colours  # the current page stands out

    await page.goto(f"{live_server}/graphql")
    await page.wait_for_selector(".graphiql-container", timeout=15000)
    await page.wait_for_load_state("networkidle")
    assert errors == []
