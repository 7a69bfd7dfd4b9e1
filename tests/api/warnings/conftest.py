"""GraphQL tests act as a chosen actor (the risk API tests' fixtures)."""

from tests.acting import acting, app, client  # noqa: F401  (fixtures)
