"""Requests in these tests act as a chosen actor: `acting.actor = VIEWER` switches it mid-test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.risk.factories import ANALYST, ActAs


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
