"""A new administrator's first session in headless Chromium: sign in, create a department and a user through the
htmx pages, sign out, and sign in as the new user."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.domain.identity.factories import PASSWORD

pytestmark = pytest.mark.browser


async def sign_in(page, base: str, username: str, password: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")


async def test_admin_creates_a_department_and_a_user_who_then_signs_in(page, live_server, admin_user, tmp_path):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of" not in m.text else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda d: d.accept())

    await page.goto(f"{live_server}/admin/departments")
    assert "/login?next=/admin/departments" in page.url
    await page.fill("#username", "admin")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/admin/departments")

    # department: inline validation first, then save (htmx post, redirect, flash)
    await page.click("text=新建部门")
    await page.fill("#f-code", "bad code!")
    await page.press("#f-code", "Tab")
    await page.locator("#e-code").wait_for()
    assert "部门编码为" in await page.locator("#e-code").inner_text()
    await page.fill("#f-code", "SZ-GS")
    await page.fill("#f-name", "姑苏区市场监督管理局")
    await page.select_option("#f-level", "district")
    await page.fill("#f-region_code", "320508")
    await page.click("#department-form button[type=submit]")
    await page.wait_for_url(f"{live_server}/admin/departments")
    await page.get_by_text("已新建部门 SZ-GS").wait_for()
    assert await page.locator("#department-table").get_by_text("姑苏区市场监督管理局").count() == 1

    # user: a handler of the new department
    await page.goto(f"{live_server}/admin/users/new")
    await page.fill("#f-username", "zhang3")
    await page.fill("#f-display_name", "张三")
    await page.check("#f-role-handler")
    await page.select_option("#f-department_id", label="SZ-GS 姑苏区市场监督管理局")
    await page.fill("#f-password", "short")
    await page.fill("#f-confirm_password", "short")
    await page.click("#user-form button[type=submit]")
    await page.get_by_text("密码强度不足").wait_for()
    await page.fill("#f-password", "Gusu-Desk-2026")
    await page.fill("#f-confirm_password", "Gusu-Desk-2026")
    await page.click("#user-form button[type=submit]")
    await page.wait_for_url(f"{live_server}/admin/users")
    await page.get_by_text("已新建用户 zhang3").wait_for()

    # active search narrows the list without a page load
    await page.fill("input[name=q]", "zhang")
    await expect(page.locator("#user-table tbody tr")).to_have_count(1)
    await page.screenshot(path=str(tmp_path / "users.png"), full_page=True)
    assert await page.locator("#user-table").get_by_text("zhang3").count() == 1

    await page.click("text=退出")
    await page.wait_for_url(f"{live_server}/login")
    await sign_in(page, live_server, "zhang3", "Gusu-Desk-2026")
    await page.wait_for_url(f"{live_server}/")
    header = await page.locator("header").inner_text()
    assert "zhang3" in header
    # a handler sees no admin entries and is refused the admin pages
    assert await page.locator('nav a[href="/admin/users"]').count() == 0
    response = await page.goto(f"{live_server}/admin/users")
    assert response.status == 403
    assert errors == [], errors  # no CSP violation, no script error
    assert [f for f in failed if "/favicon.ico" not in f] == [f"403 {live_server}/admin/users"]
