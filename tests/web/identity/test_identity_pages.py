"""Sign-in pages and admin pages over real HTTP: login, logout, next, CSRF, lockout, role table, scope, PRG, audit."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.identity.actor import SYSTEM
from domain.identity.models import Department, User
from domain.identity.sessions import USER_FAILURE_LIMIT
from domain.identity.users import deactivate_user
from tests.domain.identity.factories import PASSWORD, new_department, new_user
from tests.support import count_statements
from tests.web.identity.factories import csrf_token, login

HTML = {"accept": "text/html"}


async def test_pages_send_anonymous_visitors_to_login_and_back(client, admin_user):
    response = await client.get("/admin/users?q=ab", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin/users%3Fq%3Dab"
    signed_in = await login(client, "admin", next_url="/admin/users?q=ab")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/admin/users?q=ab"
    page = await client.get("/admin/users?q=ab", headers=HTML)
    assert page.status_code == 200 and "用户管理" in page.text


async def test_htmx_requests_of_an_expired_session_are_redirected_by_htmx(client):
    response = await client.get("/admin/users", headers={"hx-request": "true",
                                                         "hx-current-url": "http://testserver/admin/users?page=2"})
    assert response.status_code == 401 and response.headers["hx-redirect"] == "/login?next=/admin/users%3Fpage%3D2"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil.example", " //evil.example"])
async def test_login_never_redirects_off_site(client, admin_user, target):
    response = await login(client, "admin", next_url=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_the_session_cookie_is_httponly_and_samesite_lax(client, admin_user):
    response = await login(client, "admin")
    cookie = response.headers["set-cookie"].lower()
    assert "regwatch_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


async def test_a_form_post_without_the_csrf_token_is_refused(client, admin_user):
    await csrf_token(client)  # a session exists, but the form below does not carry its token
    response = await client.post("/login", data={"username": "admin", "password": PASSWORD}, headers=HTML)
    assert response.status_code == 403 and "CSRF" in response.text
    forged = await client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 403


async def test_htmx_posts_need_the_header_and_plain_forms_the_field(auth_client, db):
    token = await csrf_token(auth_client)
    dept = new_department(db, "DEPT-A", "部门甲")
    refused = await auth_client.post(f"/admin/departments/{dept.id}/deactivate", headers={"hx-request": "true"})
    assert refused.status_code == 403
    with db.unit_of_work() as s:
        assert s.get(Department, dept.id).active
    ok = await auth_client.post(f"/admin/departments/{dept.id}/deactivate",
                                headers={"hx-request": "true", "x-csrf-token": token})
    assert ok.status_code == 200 and ok.headers["hx-redirect"] == "/admin/departments"
    form = await auth_client.post(f"/admin/departments/{dept.id}/activate", data={"csrf_token": token})
    assert form.status_code == 303
    with db.unit_of_work() as s:
        assert s.get(Department, dept.id).active
        assert [a for a in s.exec(select(AuditLog.action).where(AuditLog.object_type == "department"))] == [
            "department.create", "department.deactivate", "department.update"]


async def test_bearer_tokens_need_no_csrf_token(client, api_token):
    response = await client.post("/graphql", json={"query": "{ me { username } }"},
                                 headers={"authorization": f"Bearer {api_token}"})
    assert response.json()["data"]["me"]["username"] == "admin"


async def test_logout_ends_the_session_everywhere(app, client, admin_user):
    import httpx

    await login(client, "admin")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        await login(other, "admin")
        token = await csrf_token(client)
        out = await client.post("/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        for c in (client, other):
            assert (await c.get("/admin/users", headers=HTML)).status_code == 303


async def test_a_deactivated_users_session_stops_at_once(client, db, make_user):
    user = make_user("ana", ["analyst"])
    await login(client, "ana")
    assert (await client.get("/account", headers=HTML)).status_code == 200
    with db.unit_of_work() as s:
        deactivate_user(s, SYSTEM, user.id)
    assert (await client.get("/account", headers=HTML)).status_code == 303


async def test_an_expired_session_asks_for_login_again(client, settings, admin_user):
    import base64
    import json

    from itsdangerous import TimestampSigner

    await login(client, "admin")
    assert (await client.get("/account", headers=HTML)).status_code == 200
    # the same cookie, but signed in longer ago than the session lifetime (the cookie is re-signed on every
    # response, so the lifetime is measured from sign-in, kept inside the session)
    signer = TimestampSigner(settings.secret_key)
    data = json.loads(base64.b64decode(signer.unsign(client.cookies["regwatch_session"])))
    data["at"] -= settings.session_max_age + 1
    client.cookies.set("regwatch_session", signer.sign(base64.b64encode(json.dumps(data).encode())).decode())
    assert (await client.get("/account", headers=HTML)).status_code == 303


async def test_repeated_failures_lock_with_a_message_and_are_audited(client, db, admin_user):
    for _ in range(USER_FAILURE_LIMIT - 1):
        wrong = await login(client, "admin", "wrong-password")
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    locked = await login(client, "admin", "wrong-password")
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text
    still = await login(client, "admin")
    assert still.status_code == 429
    with db.unit_of_work() as s:
        acts = list(s.exec(select(AuditLog.action).where(AuditLog.object_type == "login").order_by(AuditLog.id)))
    assert acts == ["login.failed"] * USER_FAILURE_LIMIT + ["login.locked", "login.refused_locked"]


ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/departments/new", "/admin/audit", "/admin/departments"]
# role -> admin pages it may open
ALLOWED = {"admin": set(ADMIN_PAGES), "analyst": {"/admin/departments"}, "handler": {"/admin/departments"},
           "viewer": {"/admin/departments"}}
ROWS = [(role, path) for role in ALLOWED for path in ADMIN_PAGES]


@pytest.mark.parametrize(("role", "path"), ROWS, ids=[f"{r}-{p}" for r, p in ROWS])
async def test_role_by_page(client, db, role, path):
    dept = new_department(db, "DEPT-A", "部门甲")
    new_user(db, f"{role}-user", [role], department_id=dept.id)
    await login(client, f"{role}-user")
    response = await client.get(path, headers=HTML)
    assert response.status_code == (200 if path in ALLOWED[role] else 403)
    if path == "/admin/departments":  # everyone reads the directory; only admins see the actions
        assert ("新建部门" in response.text) is (role == "admin")


async def test_admin_nav_entries_show_for_admins_only(client, db, admin_user, make_user):
    make_user("ana", ["analyst"])
    await login(client, "ana")
    assert 'href="/admin/users"' not in (await client.get("/", headers=HTML)).text
    await client.post("/logout", data={"csrf_token": await csrf_token(client)})
    await login(client, "admin")
    html = (await client.get("/", headers=HTML)).text
    assert all(f'href="/admin/{p}"' in html for p in ("users", "departments", "audit"))
    assert 'href="/account"' in html and 'action="/logout"' in html


async def test_a_handler_cannot_edit_or_deactivate_another_departments_objects_by_guessing_ids(client, db):
    a, b = new_department(db, "DEPT-A", "部门甲"), new_department(db, "DEPT-B", "部门乙")
    new_user(db, "han-a", ["handler"], department_id=a.id)
    victim = new_user(db, "han-b", ["handler"], department_id=b.id)
    await login(client, "han-a")
    token = await csrf_token(client)
    for method, path in [("GET", f"/admin/users/{victim.id}/edit"), ("POST", f"/admin/users/{victim.id}/deactivate"),
                         ("POST", f"/admin/users/{victim.id}/password"), ("GET", f"/admin/departments/{b.id}/edit"),
                         ("POST", f"/admin/departments/{b.id}/deactivate")]:
        response = await client.request(method, path, headers={**HTML, "x-csrf-token": token},
                                        data={"password": "Hijacked-Pass-1"} if method == "POST" else None)
        assert response.status_code == 403, path
    with db.unit_of_work() as s:
        assert s.get(User, victim.id).active and s.get(Department, b.id).active


async def test_creating_a_user_validates_inline_then_saves_and_redirects(auth_client, db):
    dept = new_department(db, "DEPT-A", "部门甲")
    token = await csrf_token(auth_client)
    htmx = {"hx-request": "true", "x-csrf-token": token}
    inline = await auth_client.post("/admin/users/new", headers={**htmx, "hx-trigger-name": "username"},
                                    data={"username": "Bad Name", "roles": "handler", "_validate": "1"})
    assert inline.status_code == 200 and 'id="field-username"' in inline.text and "<html" not in inline.text
    assert "用户名为 3–64 位" in inline.text and "部门处置人员必须属于一个部门" not in inline.text  # not reached yet
    with db.unit_of_work() as s:
        assert s.exec(select(User).where(User.username == "bad name")).first() is None
    weak = await auth_client.post("/admin/users/new", headers=htmx, data={
        "username": "zhang3", "roles": "handler", "department_id": str(dept.id), "password": "short",
        "confirm_password": "short"})
    assert "密码强度不足" in weak.text and "至少 10 个字符" in weak.text
    saved = await auth_client.post("/admin/users/new", headers=htmx, data={
        "username": "zhang3", "display_name": "张三", "roles": "handler", "department_id": str(dept.id),
        "password": "Gusu-Desk-2026", "confirm_password": "Gusu-Desk-2026"})
    assert saved.headers["hx-redirect"] == "/admin/users"
    listing = await auth_client.get("/admin/users", headers=HTML)
    assert "已新建用户 zhang3" in listing.text and "张三" in listing.text
    with db.unit_of_work() as s:
        created = s.exec(select(User).where(User.username == "zhang3")).one()
        assert created.department_id == dept.id
        audit = s.exec(select(AuditLog).where(AuditLog.action == "user.create",
                                              AuditLog.object_id == str(created.id))).one()
        assert audit.actor_name == "admin" and audit.changes["roles"] == [None, ["handler"]]


async def test_user_list_searches_pages_and_costs_the_same_whatever_its_size(auth_client, db):
    dept = new_department(db, "DEPT-A", "部门甲")
    for i in range(25):  # without a password: integration accounts (接口账号), listed apart from staff
        new_user(db, f"user{i:02d}", ["viewer"], department_id=dept.id, password=None)
    htmx = {"hx-request": "true"}
    first = await auth_client.get("/admin/users?kind=integration", headers=htmx)
    assert 'id="results"' in first.text and "<html" not in first.text and "共 25 条" in first.text
    second = await auth_client.get("/admin/users?kind=integration&page=2", headers=htmx)
    assert "第 2 / 2 页" in second.text and "user24" in second.text
    found = await auth_client.get("/admin/users?kind=integration&q=user1", headers=htmx)
    assert "共 10 条" in found.text
    staff = await auth_client.get("/admin/users", headers=htmx)
    assert "共 1 条" in staff.text and "user00" not in staff.text
    with count_statements(db) as small:
        await auth_client.get("/admin/users?kind=integration&q=user0", headers=htmx)
    with count_statements(db) as big:
        await auth_client.get("/admin/users?kind=integration", headers=htmx)
    assert big.count == small.count


async def test_my_account_changes_the_password_and_keeps_this_session(client, db, make_user):
    make_user("ana", ["analyst"])
    await login(client, "ana")
    token = await csrf_token(client)
    mismatch = await client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                            "new_password": "New-Pass-2026", "confirm_password": "x"})
    assert "两次输入的新密码不一致" in mismatch.text
    ok = await client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                      "new_password": "New-Pass-2026",
                                                      "confirm_password": "New-Pass-2026"})
    assert ok.status_code == 303
    page = await client.get("/account", headers=HTML)
    assert page.status_code == 200 and "密码已修改" in page.text


async def test_an_actor_set_in_front_of_the_app_is_not_trusted(app):
    """Whatever sits in front of the app and sets an actor in the request state, only a session or token counts."""
    from domain.identity.actor import Actor

    analyst = Actor(user_id=9001, username="analyst-li", roles=frozenset({"analyst"}))

    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            scope.setdefault("state", {})["actor"] = analyst
        await app(scope, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://testserver") as c:
        response = await c.get("/models", headers=HTML)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


async def test_a_locked_user_shows_the_lock_and_its_end_and_only_then_an_unlock(auth_client, db, make_user, csrf):
    from domain.identity.sessions import login as sign_in

    locked = make_user("lead", ["viewer"])
    free = make_user("ana", ["analyst"])
    with db.unit_of_work() as s:
        for _ in range(USER_FAILURE_LIMIT):
            sign_in(s, "lead", "wrong")
    listing = (await auth_client.get("/admin/users?q=lead", headers=HTML)).text
    assert "已锁定" in listing and re.search(r"至 \d{2}-\d{2} \d{2}:\d{2}", listing)
    page = (await auth_client.get(f"/admin/users/{locked.id}/edit", headers=HTML)).text
    assert "登录已锁定" in page and f"/admin/users/{locked.id}/unlock" in page
    assert re.search(r"至 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", page)
    other = (await auth_client.get(f"/admin/users/{free.id}/edit", headers=HTML)).text
    assert "解除登录锁定" not in other and "登录已锁定" not in other
    token = await csrf(auth_client)
    unlocked = await auth_client.post(f"/admin/users/{locked.id}/unlock", data={"csrf_token": token})
    assert unlocked.status_code == 303
    after = (await auth_client.get(f"/admin/users/{locked.id}/edit", headers=HTML)).text
    assert "解除登录锁定" not in after and "已解除用户 lead 的登录锁定" in after
