"""Requests in these tests act as a chosen actor: `acting.actor = VIEWER` switches it mid-test (tests/acting.py)."""

from tests.acting import acting, app, client  # noqa: F401  (fixtures)
