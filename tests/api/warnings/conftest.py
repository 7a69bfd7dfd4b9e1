"""GraphQL tests act as a chosen actor (the risk API tests' fixtures)."""

from tests.api.risk.conftest import acting, app, client  # noqa: F401  (fixtures)
