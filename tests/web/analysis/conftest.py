"""Requests act as real users (`acting.actor = ...` switches who; tests/acting.py), on the hand-built city of
tests/domain/analysis."""

from __future__ import annotations

import pytest

from tests.acting import ANALYSIS_ANALYST as ANALYST
from tests.acting import Acting, analysis_city, app, client  # noqa: F401  (fixtures)


@pytest.fixture
def acting() -> Acting:
    return Acting(ANALYST)


@pytest.fixture
def city(analysis_city):  # noqa: F811  (the shared fixture, under this name)
    return analysis_city
