"""The risk pages are tested as real users signed in through the login form, CSRF and all.

`acting.actor = VIEWER` switches who acts mid-test: the client signs that user in (once) and sends their
session cookie and CSRF token from then on. The actors of `tests.api.risk.factories` (ANALYST, VIEWER,
HANDLER) are created as users with the same names; a user made with `add_user` gets the test password when it
first acts. The app is built as in production: it trusts no actor set in front of it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from domain.identity.actor import Actor
from tests.api.risk.factories import ANALYST, HANDLER, VIEWER
from tests.domain.identity.factories import PASSWORD
from tests.web.identity.factories import login

_CSRF = re.compile(r'name="csrf[-_]token" (?:content|value)="([^"]+)"')


class Acting:
    """Who the next request is from (an Actor; its username is what signs in)."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor


class SignedInClient:
    """httpx-like get/post for the page tests: each request goes out signed in as `acting.actor`, and unsafe
    requests carry that session's CSRF token (X-CSRF-Token), as the pages' htmx and forms do."""

    def __init__(self, app: Any, acting: Acting, db: Any) -> None:
        self.app, self.acting, self.db = app, acting, db
        self._clients: dict[str, tuple[httpx.AsyncClient, str]] = {}

    async def _client(self) -> tuple[httpx.AsyncClient, str]:
        username = self.acting.actor.username
        if username not in self._clients:
            self._ensure_password(username)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver")
            response = await login(client, username)
            assert response.status_code == 303, f"{username} could not sign in: {response.text[:300]}"
            page = await client.get("/models", headers={"accept": "text/html"})
            match = _CSRF.search(page.text) or _CSRF.search((await client.get("/")).text)
            assert match, "no CSRF token on the signed-in page"
            self._clients[username] = (client, match.group(1))
        return self._clients[username]

    def _ensure_password(self, username: str) -> None:
        from domain.identity.models import User
        from domain.identity.passwords import hash_password

        with self.db.unit_of_work() as s:
            user = s.exec(select(User).where(User.username == username)).one()
            if not user.password_hash:
                user.password_hash = hash_password(PASSWORD)
                s.add(user)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        client, _ = await self._client()
        return await client.get(url, **kwargs)

    async def post(self, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        client, token = await self._client()
        return await client.post(url, headers={**(headers or {}), "x-csrf-token": token}, **kwargs)

    async def aclose(self) -> None:
        for client, _ in self._clients.values():
            await client.aclose()


@pytest.fixture
def app(settings, db):
    """The app as production builds it (no preset actors), jobs run by the tests themselves."""
    from regwatch_app import create_app

    return create_app(settings, run_jobs=False, database=db)


@pytest.fixture
def acting(db, make_user, make_department) -> Acting:
    """The risk factories' actors as real users; the analyst acts first."""
    department = make_department()
    make_user(ANALYST.username, sorted(ANALYST.roles))
    make_user(VIEWER.username, sorted(VIEWER.roles))
    make_user(HANDLER.username, sorted(HANDLER.roles), department_id=department.id)
    return Acting(ANALYST)


@pytest.fixture
async def client(app, acting, db) -> AsyncIterator[SignedInClient]:
    signed_in = SignedInClient(app, acting, db)
    yield signed_in
    await signed_in.aclose()
