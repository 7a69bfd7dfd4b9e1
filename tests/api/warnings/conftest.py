"""GraphQL tests act as real users signed in (tests/acting.py); the city chooses the analyst."""

from tests.acting import acting, app, client  # noqa: F401  (fixtures)
