"""Requests act as a chosen actor (`acting.actor = ...`), on the hand-built city of tests/domain/analysis
(the shared fixtures of tests/acting.py, under the names these tests use)."""

from __future__ import annotations

import pytest

from domain.identity.actor import Actor
from tests.acting import ANALYSIS_ANALYST as ANALYST
from tests.acting import analysis_acting, analysis_city, analysis_client, app  # noqa: F401  (fixtures)

VIEWER = Actor(user_id=None, username="system", roles=frozenset({"viewer"}))
__all__ = ["ANALYST", "VIEWER"]


@pytest.fixture
def acting(analysis_acting):  # noqa: F811  (the shared fixture, under this name)
    return analysis_acting


@pytest.fixture
def client(analysis_client):  # noqa: F811  (the shared fixture, under this name)
    return analysis_client


@pytest.fixture
def city(analysis_city):  # noqa: F811  (the shared fixture, under this name)
    return analysis_city
