"""Fixtures: a real database per run (SQLite or PostgreSQL), the ASGI app over real HTTP, a headless browser.

REGWATCH_TEST_BACKEND=sqlite|postgresql chooses the database; `make test` runs the suite on both.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher, profiles

from domain.db import Database
from domain.identity import passwords
from domain.schema_version import upgrade_to_head
from domain.settings import Settings
from tests.support import backend, clean_tables, create_database, drop_database, pg_available

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# The suite signs in hundreds of fixture users; argon2's production profile costs ~130 ms of CPU per hash and per
# check, so the suite hashes with argon2's cheapest profile. Tests about the cost of hashing take `real_hasher`.
passwords.use_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def real_hasher() -> Iterator[None]:
    """The production argon2 profile for the duration of a test."""
    previous = passwords.use_hasher(PasswordHasher())
    yield
    passwords.use_hasher(previous)


def pytest_report_header(config) -> str:
    return f"regwatch database backend: {backend()}"


def pytest_sessionstart(session) -> None:
    if backend() == "postgresql" and not pg_available():
        raise pytest.UsageError("REGWATCH_TEST_BACKEND=postgresql but PostgreSQL is not reachable")


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("regwatch")


@pytest.fixture(scope="session")
def database_url(work_dir) -> Iterator[str]:
    url = create_database(work_dir, "main")
    upgrade_to_head(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url, work_dir) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-" + "x" * 40, env="dev", var_dir=work_dir,
                    log_level="WARNING")


@pytest.fixture(scope="session")
def db(database_url) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request) -> Iterator[None]:
    """Tests that touch the shared database leave it empty for the next one."""
    yield
    if "db" in request.fixturenames:
        clean_tables(request.getfixturevalue("db"))


@pytest.fixture
def session(db):
    """A unit of work on the shared database, committed at the end of the test."""
    with db.unit_of_work() as s:
        yield s


@pytest.fixture
def app(settings, db):
    from regwatch_app import create_app

    return create_app(settings, run_jobs=False, database=db)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


# ---- people: tests/domain/identity/factories.py (making them), tests/web/identity/factories.py (signing in) --
# admin_user      an active admin "admin" (password tests.domain.identity.factories.PASSWORD), committed
# make_user       make_user("ana", ["analyst"], department_id=...) -> User, committed
# make_department make_department("SZ-X", "名称") -> Department, committed
# login           await login(client, "ana") signs a client in through the login form (CSRF included)
# auth_client     `client` signed in as admin_user (session cookie; htmx/form posts need X-CSRF-Token or csrf_token)
# csrf            await csrf(client) -> the CSRF token of that client's session
# api_token       a bearer token of admin_user; send it with tests.api.identity.factories.bearer(api_token)


@pytest.fixture
def make_user(db):
    from tests.domain.identity.factories import new_user

    return lambda username, roles=("admin",), **kw: new_user(db, username, roles, **kw)


@pytest.fixture
def make_department(db):
    from tests.domain.identity.factories import new_department

    return lambda code="SZ-SCJG", name="苏州市市场监督管理局", **kw: new_department(db, code, name, **kw)


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", ["admin"], display_name="系统管理员")


@pytest.fixture
def login():
    from tests.web.identity.factories import login as sign_in

    return sign_in


@pytest.fixture
def csrf():
    from tests.web.identity.factories import csrf_token

    return csrf_token


@pytest.fixture
async def auth_client(client, admin_user, login) -> AsyncIterator[httpx.AsyncClient]:
    """`client` signed in as the admin through the login form."""
    response = await login(client, "admin")
    assert response.status_code == 303, response.text
    yield client


@pytest.fixture
def api_token(db, admin_user) -> str:
    from tests.domain.identity.factories import new_token

    return new_token(db, admin_user.id, "test integration")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served by uvicorn on a free local port, for the browser."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="session")
async def browser():
    """Headless Debian Chromium driven by Playwright (no downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"])
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    yield page
    await context.close()
