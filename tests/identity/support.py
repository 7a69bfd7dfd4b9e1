"""Helpers for tests that need people: users, departments, signing in over HTTP, tokens.

Used by the fixtures in tests/conftest.py (`admin_user`, `make_user`, `make_department`, `login`,
`auth_client`, `api_token`); import them directly where a fixture does not fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import httpx

from domain.db import Database
from domain.identity.actor import SYSTEM
from domain.identity.departments import DepartmentInput, create_department
from domain.identity.models import Department, User
from domain.identity.tokens import create_token
from domain.identity.users import UserInput, create_user

__all__ = ["PASSWORD", "bearer", "csrf_token", "login", "new_department", "new_token", "new_user"]

PASSWORD = "Regwatch-Test-2026!"
_CSRF = re.compile(r'name="csrf[-_]token" (?:content|value)="([^"]+)"')


def new_department(db: Database, code: str = "SZ-SCJG", name: str = "苏州市市场监督管理局", *,
                   level: str = "city", region_code: str = "320500", parent_id: int | None = None) -> Department:
    with db.unit_of_work() as s:
        return create_department(s, SYSTEM, DepartmentInput(code=code, name=name, level=level,
                                                             region_code=region_code, parent_id=parent_id))


def new_user(db: Database, username: str, roles: Iterable[str] = ("admin",), *, department_id: int | None = None,
             password: str | None = PASSWORD, display_name: str = "") -> User:
    with db.unit_of_work() as s:
        return create_user(s, SYSTEM, UserInput(username=username, roles=list(roles), department_id=department_id,
                                                display_name=display_name), password)


def new_token(db: Database, user_id: int, name: str = "test", **kwargs) -> str:
    with db.unit_of_work() as s:
        return create_token(s, SYSTEM, user_id, name, **kwargs)[1]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    response = await client.get("/login", headers={"accept": "text/html"}, follow_redirects=True)
    match = _CSRF.search(response.text)
    assert match, f"no CSRF token on {response.url} ({response.status_code})"
    return match.group(1)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD, *,
                next_url: str = "/") -> httpx.Response:
    """Sign in through the login form (with its CSRF token), as a browser does; returns the form's answer."""
    token = await csrf_token(client)
    return await client.post("/login", data={"username": username, "password": password, "next": next_url,
                                              "csrf_token": token}, headers={"accept": "text/html"})
