"""The warning pages are tested as real users signed in through the login form (tests/acting.py)."""

from tests.acting import acting, app, client  # noqa: F401  (fixtures)
