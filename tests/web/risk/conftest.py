"""The risk pages are tested as a chosen actor, with the same fixtures as the risk API tests."""

from tests.acting import acting, app, client  # noqa: F401  (fixtures)
