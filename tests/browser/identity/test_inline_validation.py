"""Inline validation never touches the field being typed in: typing slowly, with pauses longer than any debounce,
keeps every key and the cursor, and a validation answer replaces only the field's message."""

from __future__ import annotations

import pytest

from tests.domain.identity.factories import PASSWORD

pytestmark = pytest.mark.browser


async def sign_in(page, base: str) -> None:
    await page.goto(f"{base}/login?next=/admin/departments/new")
    await page.fill("#username", "admin")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/admin/departments/new")


async def test_typing_slowly_keeps_what_is_typed_while_validation_answers(page, live_server, admin_user):
    await sign_in(page, live_server)
    code = page.locator("#f-code")
    await page.evaluate("document.querySelector('#f-code').dataset.marker = 'original'")
    await code.click()
    await code.press_sequentially("SZ", delay=150)
    await page.wait_for_timeout(800)  # a pause longer than a typing debounce
    await code.press_sequentially("-G", delay=150)
    await page.wait_for_timeout(800)
    await code.press_sequentially("S!", delay=150)
    assert await code.input_value() == "SZ-GS!"

    # leaving the field validates it: the message appears, the input is the same element with the same value
    await page.locator("#f-name").click()
    await page.locator("#e-code").wait_for()
    assert "部门编码为" in await page.locator("#e-code").inner_text()
    assert await page.evaluate("document.querySelector('#f-code').dataset.marker") == "original"
    assert await code.input_value() == "SZ-GS!"

    # typing in another field while its neighbour's answer is on its way loses nothing either
    await code.fill("SZ-GS")
    await page.locator("#f-name").click()
    await page.locator("#f-name").press_sequentially("姑苏区", delay=120)
    await page.locator("#e-code").wait_for(state="detached")
    await page.wait_for_timeout(700)
    await page.locator("#f-name").press_sequentially("市场监督管理局", delay=60)
    assert await page.locator("#f-name").input_value() == "姑苏区市场监督管理局"
    assert await page.evaluate("document.activeElement.id") == "f-name"
    caret = await page.evaluate("document.querySelector('#f-name').selectionStart")
    assert caret == len("姑苏区市场监督管理局")


async def test_a_new_user_form_shows_every_problem_at_once(page, live_server, admin_user):
    await page.goto(f"{live_server}/login?next=/admin/users/new")
    await page.fill("#username", "admin")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/admin/users/new")
    await page.fill("#f-username", "Bad Name")
    # leaving the field shows its message, which moves the fields below it down a line: wait for it before
    # clicking below (a click whose press and release straddle that move never reaches the checkbox)
    await page.press("#f-username", "Tab")
    await page.locator("#e-username").wait_for()
    await page.check("#f-role-handler")  # a handler without a department
    await page.fill("#f-password", "short")
    await page.fill("#f-confirm_password", "other")
    await page.click("#user-form button[type=submit]")
    await page.locator("#e-confirm_password").wait_for()
    shown = {name: await page.locator(f"#e-{name}").inner_text()
             for name in ("username", "department_id", "password", "confirm_password")}
    assert "用户名为" in shown["username"]
    assert "必须属于一个部门" in shown["department_id"]
    assert "密码强度不足" in shown["password"] or "至少" in shown["password"]
    assert "不一致" in shown["confirm_password"]
