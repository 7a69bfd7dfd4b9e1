"""The role × permission table, row by row, and the department scope as a query filter."""

from __future__ import annotations

import pytest
from sqlmodel import select

from domain.errors import Forbidden, Unauthenticated
from domain.identity.actor import ANONYMOUS, SYSTEM, Actor
from domain.identity.policy import PERMISSIONS, ROLE_PERMISSIONS, can, require, scope_to_department
from domain.supervision.models import SupervisionItem
from tests.identity.support import new_department

# The README's "Access control" table, as data: role -> the permissions it grants (and no others).
EXPECTED = {
    "admin": {"users.manage", "departments.manage", "tokens.manage", "settings.manage", "audit.read",
              "departments.read", "data.ingest"},
    "analyst": {"clues.work", "warnings.work", "models.manage", "rules.manage", "evaluations.manage", "data.ingest",
                "departments.read", "statistics.read", "evaluations.read", "reports.read"},
    "handler": {"warnings.handle", "departments.read"},
    "viewer": {"departments.read", "statistics.read", "evaluations.read", "reports.read"},
}
ROWS = [(role, permission, permission in granted) for role, granted in EXPECTED.items() for permission in PERMISSIONS]


def actor(*roles: str, department_id: int | None = None) -> Actor:
    return Actor(user_id=42, username="someone", roles=frozenset(roles), department_id=department_id)


def test_the_table_in_code_is_the_documented_one():
    assert {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()} == EXPECTED


@pytest.mark.parametrize(("role", "permission", "allowed"), ROWS, ids=[f"{r}-{p}" for r, p, _ in ROWS])
def test_each_role_has_exactly_its_permissions(role, permission, allowed):
    assert can(actor(role), permission) is allowed
    if allowed:
        require(actor(role), permission)
    else:
        with pytest.raises(Forbidden, match=permission):
            require(actor(role), permission)


def test_anonymous_callers_are_asked_to_sign_in_and_unknown_permissions_are_a_bug():
    with pytest.raises(Unauthenticated):
        require(ANONYMOUS, "statistics.read")
    assert not can(ANONYMOUS, "departments.read")
    with pytest.raises(ValueError, match="unknown permission"):
        can(actor("admin"), "warnings.delete")


def test_roles_add_up():
    both = actor("handler", "viewer")
    assert can(both, "warnings.handle") and can(both, "reports.read") and not can(both, "warnings.work")


def test_department_scope_limits_handlers_to_their_own_department(db, session):
    a = new_department(db, "DEPT-A", "部门甲")
    b = new_department(db, "DEPT-B", "部门乙")
    session.add_all([SupervisionItem(code=f"{d.code}-{i}", name="检查", department_id=d.id, kind="inspection")
                     for d in (a, b) for i in range(3)])
    session.flush()

    def visible(who: Actor) -> set[int]:
        stmt = scope_to_department(select(SupervisionItem), who, SupervisionItem.department_id)
        return {item.department_id for item in session.exec(stmt)}

    assert visible(actor("handler", department_id=a.id)) == {a.id}
    assert visible(actor("handler", department_id=b.id)) == {b.id}
    assert visible(actor("handler")) == set()  # no department: nothing, never everything
    assert visible(actor("analyst")) == visible(actor("viewer")) == visible(actor("admin")) == {a.id, b.id}
    assert visible(SYSTEM) == {a.id, b.id}
