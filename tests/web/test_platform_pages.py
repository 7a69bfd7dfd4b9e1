"""Platform pages: layout and navigation, placeholders, error pages, health and readiness, headers, assets."""

from __future__ import annotations

import re

import httpx
import pytest

from domain.db import Database
from domain.identity.actor import Actor
from tests.support import create_database, drop_database
from web.navigation import NAVIGATION

HTML = {"accept": "text/html"}


async def test_health_answers_while_the_process_is_up(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ready_when_the_database_is_at_head(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


@pytest.fixture
def unmigrated_app(settings, tmp_path):
    from regwatch_app import create_app

    url = create_database(tmp_path, "empty")
    db = Database(url)
    yield create_app(settings.__class__(**{**settings.__dict__, "database_url": url}), run_jobs=False, database=db)
    db.dispose()
    drop_database(url)


async def test_an_unmigrated_database_is_not_ready_and_pages_are_refused(unmigrated_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=unmigrated_app), base_url="http://t") as c:
        ready = await c.get("/readyz")
        page = await c.get("/", headers=HTML)
        health = await c.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "behind" and "regwatch migrate" in ready.json()["detail"]
    assert page.status_code == 503 and "regwatch migrate" in page.text
    assert health.status_code == 200


async def test_every_response_carries_security_headers_and_a_request_id(client):
    for path in ("/healthz", "/graphql", "/static/css/app.css", "/nowhere"):
        response = await client.get(path, headers=HTML)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert len(response.headers["x-request-id"]) >= 8


async def test_a_sane_incoming_request_id_is_kept(client):
    response = await client.get("/healthz", headers={"x-request-id": "abc-12345678"})
    assert response.headers["x-request-id"] == "abc-12345678"


async def test_vendored_assets_are_served_with_cache_headers(client):
    for path in ("vendor/htmx/htmx.min.js", "vendor/bootstrap/bootstrap.min.css", "vendor/echarts/echarts.min.js",
                 "vendor/graphiql/graphiql.min.js", "vendor/react/react.production.min.js"):
        response = await client.get(f"/static/{path}")
        assert response.status_code == 200, path
        assert "max-age" in response.headers["cache-control"]
        assert "sourceMappingURL" not in response.text[-300:]


async def test_pages_load_nothing_from_outside_the_app(auth_client):
    html = (await auth_client.get("/", headers=HTML)).text
    for marker in ("http://", "https://", "//cdn", "unpkg", "jsdelivr"):
        assert f'src="{marker}' not in html and f'href="{marker}' not in html


# Facts of the product brief the menus must keep, whatever else the policy table grants.
NEVER_SHOWN = {
    "analyst": {"/admin/users", "/admin/departments", "/admin/audit"},
    "handler": {"/models", "/imports", "/jobs", "/admin/users", "/admin/audit", "/clues"},
    "viewer": {"/imports", "/jobs", "/admin/users", "/admin/departments", "/admin/audit", "/clues"},
    "admin": set(),
}
ALWAYS_SHOWN = {
    "admin": {"/admin/users", "/admin/departments", "/admin/audit", "/imports", "/jobs"},
    "analyst": {"/clues", "/models", "/imports", "/jobs", "/entities"},
    "handler": {"/warnings", "/entities"},
    "viewer": {"/models", "/statistics", "/reports", "/entities"},
}


def may_open(role: str, department_id: int) -> set[str]:
    """The menu the policy table allows `role` (an item with no permissions is open to everyone signed in)."""
    who = Actor(user_id=1, username="x", roles=frozenset({role}), department_id=department_id)
    return {item.path for section in NAVIGATION for item in section.items if item.visible_to(who)}


def menu_links(html: str) -> set[str]:
    nav = html[html.index('<nav class="app-sidebar"'):]
    return set(re.findall(r'<a class="nav-link[^"]*" href="([^"]+)"', nav[:nav.index("</nav>")]))


@pytest.mark.parametrize("role", list(ALWAYS_SHOWN))
async def test_each_role_sees_in_the_menu_and_on_home_only_what_it_may_open(client, make_user, make_department,
                                                                          login, role):
    dept = make_department()
    make_user("someone", [role], department_id=dept.id)
    assert (await login(client, "someone")).status_code == 303
    html = (await client.get("/", headers=HTML)).text
    shown = menu_links(html)
    assert shown == may_open(role, dept.id)
    assert ALWAYS_SHOWN[role] <= shown and not NEVER_SHOWN[role] & shown
    home = html[html.index('<main'):]
    assert set(re.findall(r'<a href="(/[^"]*)"', home)) == shown
    assert 'lang="zh-CN"' in html


@pytest.mark.parametrize("item", [i for s in NAVIGATION for i in s.items], ids=lambda i: i.key)
async def test_every_module_in_the_menu_opens_for_a_role_it_is_shown_to(client, make_user, make_department, login,
                                                                       item):
    dept = make_department()
    role = next(r for r in ALWAYS_SHOWN if item.path in may_open(r, dept.id))
    make_user("someone", [role], department_id=dept.id)
    assert (await login(client, "someone")).status_code == 303
    response = await client.get(item.path, headers=HTML)
    assert response.status_code == 200, f"{role}: {response.text[:300]}"
    current = re.search(r'<a class="nav-link active" href="([^"]+)"\s+aria-current="page"', response.text)
    assert current and current.group(1) == item.path, f"{item.path} does not mark itself in the menu for {role}"


async def test_unknown_pages_get_a_404_in_the_layout(auth_client):
    response = await auth_client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert "页面不存在" in response.text and "主导航" in response.text


async def test_api_style_clients_get_json_errors(auth_client):
    response = await auth_client.get("/no/such/page", headers={"accept": "application/json"})
    assert response.status_code == 404 and response.json()["error"] == "页面不存在"


async def test_a_viewer_is_offered_no_import_button(client, make_user, login):
    make_user("lead", ["viewer"])
    assert (await login(client, "lead")).status_code == 303
    html = (await client.get("/sources", headers=HTML)).text
    assert "数据源与集成对接状态" in html and 'href="/imports"' not in html
