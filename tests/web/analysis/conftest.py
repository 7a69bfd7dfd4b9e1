"""Requests act as a chosen actor (`acting.actor = ...`), on the hand-built city of tests/domain/analysis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from domain.identity.actor import Actor
from tests.api.risk.factories import ActAs

ANALYST = Actor(user_id=None, username="system", roles=frozenset({"analyst"}))
VIEWER = Actor(user_id=None, username="system", roles=frozenset({"viewer"}))


@pytest.fixture
def app(settings, db):
    from regwatch_app import create_app

    return create_app(settings, run_jobs=False, database=db, trust_preset_actor=True)


@pytest.fixture
def acting(app) -> ActAs:
    return ActAs(app, ANALYST)


@pytest.fixture
async def client(acting) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=acting), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def city(db):
    from domain.evaluation.service import ensure_default_set
    from tests.domain.analysis.dataset import build_city

    with db.unit_of_work() as s:
        ensure_default_set(s)  # seeded by the migration; the test database is emptied between tests
        made = build_city(s)
        return {"a": made["a"].id, "b": made["b"].id}
