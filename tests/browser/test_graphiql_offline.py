"""GraphiQL works with the network cut off: every asset comes from the app itself."""

from __future__ import annotations

import pytest

from tests.domain.identity.factories import PASSWORD

pytestmark = pytest.mark.browser


async def test_graphiql_runs_server_info_with_no_outside_network(page, live_server, db, tmp_path, admin_user):
    outside: list[str] = []

    async def only_local(route):
        if route.request.url.startswith(live_server):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.context.route("**/*", only_local)
    await page.goto(f"{live_server}/graphql")  # GraphiQL is for signed-in staff: the login page comes first
    await page.fill("#username", "admin")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector(".graphiql-container", timeout=15000)

    async with page.expect_response(lambda r: r.url.endswith("/graphql") and r.request.method == "POST"
                                    and "serverInfo" in (r.request.post_data or "")) as answer:
        await page.click(".graphiql-execute-button")
    body = await (await answer.value).json()
    assert body["data"]["serverInfo"]["databaseBackend"] == db.backend

    result = page.locator(".result-window")
    await result.get_by_text("migrationHead").wait_for(timeout=10000)
    shown = await result.inner_text()
    assert "databaseBackend" in shown and db.backend in shown
    assert outside == [], f"GraphiQL tried to reach the outside: {outside}"
    await page.screenshot(path=str(tmp_path / "graphiql.png"))
