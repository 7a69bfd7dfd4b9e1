"""The layout as a browser shows it: the current page is marked in the sidebar, and the pages outside the layout
(sign-in, GraphiQL) load without a console error (such as a missing favicon)."""

from __future__ import annotations

import pytest

from tests.domain.identity.factories import PASSWORD

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


async def test_on_a_phone_the_menu_is_one_line_until_opened(browser, live_server, admin_user):
    context = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    phone = await context.new_page()
    try:
        await phone.goto(f"{live_server}/login")
        await phone.fill("#username", "admin")
        await phone.fill("#password", PASSWORD)
        await phone.click("button[type=submit]")
        await phone.wait_for_url(f"{live_server}/")
        nav = phone.locator("nav.app-sidebar")
        closed = await nav.bounding_box()
        assert closed is not None and closed["height"] < 80, closed  # one line, the page starts below it
        assert not await phone.locator('nav.app-sidebar a[href="/admin/users"]').is_visible()
        main = await phone.locator("main").bounding_box()
        assert main is not None and main["y"] < 200
        await phone.get_by_text("☰ 菜单").click()
        await phone.locator('nav.app-sidebar a[href="/admin/users"]').wait_for(state="visible")
        await phone.locator('nav.app-sidebar a[href="/admin/users"]').click()
        await phone.wait_for_url(f"{live_server}/admin/users")
        assert "用户" in await phone.locator("nav.app-sidebar label").inner_text()  # the current module is named
    finally:
        await context.close()


async def test_on_a_laptop_the_menu_is_always_open(page, live_server, admin_user):
    await page.goto(f"{live_server}/login")
    await page.fill("#username", "admin")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/")
    assert await page.locator('nav.app-sidebar a[href="/admin/users"]').is_visible()
    assert not await page.get_by_text("☰ 菜单").is_visible()
