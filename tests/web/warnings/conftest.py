"""The warning pages are tested as a chosen actor, with the risk API tests' fixtures."""

from tests.acting import acting, app, client  # noqa: F401  (fixtures)
