"""GraphQL requests in these tests come from real users signed in (session and CSRF token); `acting.actor = VIEWER`
switches who (tests/acting.py)."""

import pytest

from tests.acting import app, client, risk_acting  # noqa: F401  (fixtures)


@pytest.fixture
def acting(risk_acting):  # noqa: F811  (the shared fixture, under this name)
    return risk_acting
