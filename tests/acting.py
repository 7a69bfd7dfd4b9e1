"""Acting as a chosen user in page and API tests: `acting.actor = VIEWER` switches who the next request is from.

Every request goes out signed in as a real user, as in production (the app trusts nothing set in front of it):
through the login form, with the session cookie, and the session's CSRF token on every unsafe request (pages and
GraphQL alike, as the pages' htmx and GraphiQL send it). The user is the one named `acting.actor.username`;
when there is none yet it is created from the actor (its roles and department), so a test may switch to
`Actor(user_id=None, username="handler-b", roles=frozenset({"handler"}), department_id=...)`. ANONYMOUS sends no
credentials at all. The conftests that act this way import these fixtures; no conftest imports another's.
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

__all__ = ["ANALYSIS_ANALYST", "Acting", "SignedInClient", "acting", "analysis_city", "app", "client", "risk_acting"]

_CSRF = re.compile(r'name="csrf[-_]token" (?:content|value)="([^"]+)"')


class Acting:
    """Who the next request is from (an Actor; its username is the user who signs in)."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor


def _signs_in(actor: Actor) -> bool:
    """A user's actor, or one a test made up with roles (user_id None: the user is made from it); not ANONYMOUS."""
    return actor.user_id is not None or bool(actor.roles)


class SignedInClient:
    """httpx-like get/post (and request) for the tests: each request goes out signed in as `acting.actor`."""

    def __init__(self, app: Any, acting: Acting, db: Any) -> None:
        self.app, self.acting, self.db = app, acting, db
        self._clients: dict[str, tuple[httpx.AsyncClient, str | None]] = {}
        self._anonymous: httpx.AsyncClient | None = None

    def _new(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver")

    async def _client(self) -> tuple[httpx.AsyncClient, str | None]:
        actor = self.acting.actor
        if not _signs_in(actor):
            if self._anonymous is None:
                self._anonymous = self._new()
            return self._anonymous, None
        if actor.username not in self._clients:
            self._ensure_user(actor)
            client = self._new()
            response = await login(client, actor.username)
            assert response.status_code == 303, f"{actor.username} could not sign in: {response.text[:300]}"
            match = _CSRF.search((await client.get("/", headers={"accept": "text/html"})).text)
            assert match, "no CSRF token on the signed-in page"
            self._clients[actor.username] = (client, match.group(1))
        return self._clients[actor.username]

    def _ensure_user(self, actor: Actor) -> None:
        """The user named like the actor, made from the actor when missing; it gets the test password."""
        from domain.identity.models import User
        from domain.identity.passwords import hash_password

        with self.db.unit_of_work() as s:
            user = s.exec(select(User).where(User.username == actor.username)).first()
            if user is None:
                user = User(username=actor.username, display_name=actor.username, roles=sorted(actor.roles),
                            department_id=actor.department_id)
            assert set(user.roles) == set(actor.roles), \
                f"user {actor.username} has roles {user.roles}, the test acts with {sorted(actor.roles)}"
            if not user.password_hash:
                user.password_hash = hash_password(PASSWORD)
            s.add(user)

    @property
    def cookies(self) -> httpx.Cookies:
        """The cookies of the client the current actor uses (ANONYMOUS: the one without credentials)."""
        actor = self.acting.actor
        if _signs_in(actor) and actor.username in self._clients:
            return self._clients[actor.username][0].cookies
        if self._anonymous is None:
            self._anonymous = self._new()
        return self._anonymous.cookies

    async def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                      **kwargs: Any) -> httpx.Response:
        client, token = await self._client()
        sent = {k: v for k, v in (headers or {}).items() if k.lower() != "x-csrf-token"}
        if token is not None and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            sent["x-csrf-token"] = token  # as the pages' htmx and forms send it
        return await client.request(method, url, headers=sent, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def aclose(self) -> None:
        for client, _ in self._clients.values():
            await client.aclose()
        if self._anonymous is not None:
            await self._anonymous.aclose()


@pytest.fixture
def app(settings, db):
    """The app as production builds it; jobs are run by the tests themselves."""
    from regwatch_app import create_app

    return create_app(settings, run_jobs=False, database=db)


@pytest.fixture
def acting() -> Acting:
    """The risk factories' analyst until the test (or a fixture such as the warnings city) chooses another."""
    return Acting(ANALYST)


@pytest.fixture
def risk_acting(db, make_user, make_department) -> Acting:
    """The risk factories' actors (ANALYST, VIEWER, HANDLER) as real users; the analyst acts first."""
    department = make_department()
    make_user(ANALYST.username, sorted(ANALYST.roles))
    make_user(VIEWER.username, sorted(VIEWER.roles))
    make_user(HANDLER.username, sorted(HANDLER.roles), department_id=department.id)
    return Acting(ANALYST)


@pytest.fixture
async def client(app, acting, db) -> AsyncIterator[SignedInClient]:
    """Requests signed in as `acting.actor` through the login form, the CSRF token on unsafe ones."""
    signed_in = SignedInClient(app, acting, db)
    yield signed_in
    await signed_in.aclose()


# The analysis tests act as an analyst of the operator's staff (a real user; no department).
ANALYSIS_ANALYST = Actor(user_id=None, username="analyst-chen", roles=frozenset({"analyst"}))


@pytest.fixture
def analysis_city(db) -> dict[str, int]:
    """The hand-built city of tests/domain/analysis with the default indicator set (the migration seeds it; the
    test database is emptied between tests): {"a": id, "b": id} of its two departments."""
    from domain.evaluation.service import ensure_default_set
    from tests.domain.analysis.dataset import build_city

    with db.unit_of_work() as s:
        ensure_default_set(s)
        made = build_city(s)
        return {"a": made["a"].id, "b": made["b"].id}
