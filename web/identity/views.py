"""The identity feature's pages, one module per part: sign-in and own account (`signin`), departments, users.
The audit trail browser is its own feature (`web/audit/views.py`)."""

from __future__ import annotations

from web.identity import departments, signin, users

__all__ = ["routes"]

routes = [*signin.routes, *departments.routes, *users.routes]
