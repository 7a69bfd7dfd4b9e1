"""Fixtures for tests that act as a chosen actor (`acting.actor = VIEWER` switches it mid-test), shared by the
risk and warning tests of every layer. Each of their conftests imports these; no conftest imports another's.

The app is told to trust the actor that `tests.api.risk.factories.ActAs` sets in front of it (never done
outside tests); tests that need sign-in, CSRF and real users use `auth_client`/`login` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from domain.identity.actor import Actor
from tests.api.risk.factories import ANALYST, ActAs

__all__ = ["ANALYSIS_ANALYST", "acting", "analysis_acting", "analysis_city", "analysis_client", "app", "client"]


@pytest.fixture
def app(settings, db):
    """The app, told to trust the actor that ActAs sets in front of it (never done outside tests)."""
    from regwatch_app import create_app

    return create_app(settings, run_jobs=False, database=db, trust_preset_actor=True)


@pytest.fixture
def acting(app) -> ActAs:
    return ActAs(app, ANALYST)


@pytest.fixture
async def client(acting) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=acting), base_url="http://testserver") as c:
        yield c


# The analysis tests act as the console operator's analyst (no user row: what they write records "system").
ANALYSIS_ANALYST = Actor(user_id=None, username="system", roles=frozenset({"analyst"}))


@pytest.fixture
def analysis_acting(app) -> ActAs:
    return ActAs(app, ANALYSIS_ANALYST)


@pytest.fixture
async def analysis_client(analysis_acting) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=analysis_acting),
                                 base_url="http://testserver") as c:
        yield c


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
