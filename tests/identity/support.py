"""Moved: people are made by tests/domain/identity/factories.py, signed in by tests/web/identity/factories.py, and
call the API with tests/api/identity/factories.py. This module re-exports them while importers move."""

from tests.api.identity.factories import bearer
from tests.domain.identity.factories import PASSWORD, new_department, new_token, new_user
from tests.web.identity.factories import csrf_token, login

__all__ = ["PASSWORD", "bearer", "csrf_token", "login", "new_department", "new_token", "new_user"]
