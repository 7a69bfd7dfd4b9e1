"""The risk pages are tested as real users signed in through the login form, CSRF and all (tests/acting.py).

`acting.actor = VIEWER` switches who acts mid-test: the client signs that user in (once) and sends their session
cookie and CSRF token from then on. The actors of `tests.api.risk.factories` (ANALYST, VIEWER, HANDLER) are
created as users with the same names; a user made with `add_user` gets the test password when it first acts.
"""

import pytest

from tests.acting import app, client, risk_acting  # noqa: F401  (fixtures)


@pytest.fixture
def acting(risk_acting):  # noqa: F811  (the shared fixture, under this name)
    return risk_acting
