"""Fixtures for tests that act as a chosen actor (`acting.actor = VIEWER` switches it mid-test), shared by the
risk and warning tests of every layer. Each of their conftests imports these; no conftest imports another's.

The app is told to trust the actor that `tests.api.risk.factories.ActAs` sets in front of it (never done
outside tests); tests that need sign-in, CSRF and real users use `auth_client`/`login` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.risk.factories import ANALYST, ActAs

__all__ = ["acting", "app", "client"]


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
