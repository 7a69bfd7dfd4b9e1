"""The warning pages are tested as a chosen actor, with the risk API tests' fixtures."""

from tests.api.risk.conftest import acting, app, client  # noqa: F401  (fixtures)
