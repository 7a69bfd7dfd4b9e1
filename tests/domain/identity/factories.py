"""People for tests: departments, users (password PASSWORD), API tokens — committed through the domain functions.

Fixtures in tests/conftest.py (`admin_user`, `make_user`, `make_department`, `api_token`) use these; import them
directly where a fixture does not fit.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.db import Database
from domain.identity.actor import SYSTEM
from domain.identity.departments import DepartmentInput, create_department
from domain.identity.models import Department, User
from domain.identity.tokens import create_token
from domain.identity.users import UserInput, create_user

__all__ = ["PASSWORD", "new_department", "new_token", "new_user"]

PASSWORD = "Regwatch-Test-2026!"


def new_department(db: Database, code: str = "SZ-SCJG", name: str = "苏州市市场监督管理局", *,
                   level: str = "city", region_code: str = "320500", parent_id: int | None = None) -> Department:
    with db.unit_of_work() as s:
        return create_department(s, SYSTEM, DepartmentInput(code=code, name=name, level=level,
                                                             region_code=region_code, parent_id=parent_id))


def new_user(db: Database, username: str, roles: Iterable[str] = ("admin",), *, department_id: int | None = None,
             password: str | None = PASSWORD, display_name: str = "") -> User:
    with db.unit_of_work() as s:
        return create_user(s, SYSTEM, UserInput(username=username, roles=list(roles), department_id=department_id,
                                                display_name=display_name), password)


def new_token(db: Database, user_id: int, name: str = "test", **kwargs) -> str:
    with db.unit_of_work() as s:
        return create_token(s, SYSTEM, user_id, name, **kwargs)[1]
