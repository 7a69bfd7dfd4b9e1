"""Platform pages: layout and navigation, placeholders, error pages, health and readiness, headers, assets."""

from __future__ import annotations

import re

import httpx
import pytest

from domain.db import Database
from domain.identity.actor import SYSTEM
from domain.jobs import service as jobs
from tests.domain.jobs.factories import job_kinds_fixture
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


MENUS = {  # what each role may open, as the policy table says (placeholders of unbuilt modules included)
    "admin": {"/models", "/entities", "/items", "/sources", "/imports", "/jobs", "/admin/users",
              "/admin/departments", "/admin/audit"},
    "analyst": {"/clues", "/analysis", "/warnings", "/disposal", "/models", "/statistics", "/behaviour",
                "/evaluations", "/reports", "/entities", "/items", "/sources", "/imports", "/jobs"},
    "handler": {"/warnings", "/disposal", "/entities", "/items", "/sources"},
    "viewer": {"/models", "/statistics", "/behaviour", "/evaluations", "/reports", "/entities", "/items", "/sources"},
}


def menu_links(html: str) -> set[str]:
    nav = html[html.index('<nav class="app-sidebar"'):]
    return set(re.findall(r'<a class="nav-link[^"]*" href="([^"]+)"', nav[:nav.index("</nav>")]))


@pytest.mark.parametrize("role", list(MENUS))
async def test_each_role_sees_in_the_menu_and_on_home_only_what_it_may_open(client, make_user, make_department,
                                                                          login, role):
    dept = make_department()
    make_user("someone", [role], department_id=dept.id)
    assert (await login(client, "someone")).status_code == 303
    html = (await client.get("/", headers=HTML)).text
    assert menu_links(html) == MENUS[role]
    home = html[html.index('<main'):]
    assert set(re.findall(r'<a href="(/[^"]*)"', home)) == MENUS[role]
    assert 'lang="zh-CN"' in html


@pytest.mark.parametrize("item", [i for s in NAVIGATION for i in s.items if not i.built], ids=lambda i: i.key)
async def test_modules_not_built_yet_say_so_plainly(auth_client, item):
    response = await auth_client.get(item.path, headers=HTML)
    assert response.status_code == 200
    assert "本模块尚未建设" in response.text and item.label in response.text


async def test_unknown_pages_get_a_404_in_the_layout(auth_client):
    response = await auth_client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert "页面不存在" in response.text and "主导航" in response.text


async def test_api_style_clients_get_json_errors(auth_client):
    response = await auth_client.get("/no/such/page", headers={"accept": "application/json"})
    assert response.status_code == 404 and response.json()["error"] == "页面不存在"


def page_job(ctx: jobs.JobContext) -> dict:
    return {}


_kinds = job_kinds_fixture({"test.page": page_job})


async def test_job_page_shows_progress_and_polls_until_finished(auth_client, db):
    with db.unit_of_work() as s:
        job = jobs.submit_job(s, SYSTEM, "test.page")
    html = (await auth_client.get(f"/jobs/{job.id}", headers=HTML)).text
    assert "排队中" in html and 'hx-trigger="every 1s"' in html
    fragment = await auth_client.get(f"/jobs/{job.id}", headers={**HTML, "hx-request": "true"})
    assert fragment.text.lstrip().startswith('<div id="job-progress"')
    assert "<html" not in fragment.text


async def test_jobs_page_lists_the_timetables(auth_client, session):
    from domain.jobs.schedule import ensure_schedule

    ensure_schedule(session, name="daily_score", kind="test.page", daily_at="02:00")
    session.commit()
    html = (await auth_client.get("/jobs", headers=HTML)).text
    assert "定时任务" in html and "daily_score" in html and "每天 02:00" in html


async def test_jobs_are_named_in_chinese_for_every_kind_the_product_registers(auth_client, session):
    import domain.demo.service  # each of these registers its job kinds
    import domain.supervision.imports  # noqa: F401
    import ml.jobs  # noqa: F401
    from domain.jobs.models import Job
    from web.templating import JOB_KIND_NAMES

    product_kinds = {k for k in jobs.registered_kinds() if not k.startswith("test.")}
    assert product_kinds <= set(JOB_KIND_NAMES), product_kinds - set(JOB_KIND_NAMES)
    session.add(Job(kind="supervision.import", params={}, status="succeeded", created_by_name="admin"))
    session.add(Job(kind="train", params={}, status="failed", created_by_name="admin"))
    session.commit()
    html = (await auth_client.get("/jobs", headers=HTML)).text
    assert "数据导入" in html and "模型训练" in html
    assert "supervision.import" not in html and ">train<" not in html
