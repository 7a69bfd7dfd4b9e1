"""The role × permission table, row by row, and the department scope as a query filter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from domain.errors import Forbidden, Unauthenticated
from domain.identity.actor import ANONYMOUS, SYSTEM, Actor
from domain.identity.policy import PERMISSIONS, ROLE_PERMISSIONS, can, require, scope_to_department
from domain.supervision.models import SupervisionItem
from tests.domain.identity.factories import new_department

# The README's "Access control" table, as data: role -> the permissions it grants (and no others).
EXPECTED = {
    "admin": {"users.manage", "departments.manage", "tokens.manage", "settings.manage", "audit.read",
              "departments.read", "data.ingest", "models.read", "jobs.start", "jobs.read", "statistics.read",
              "warnings.work", "warnings.handle", "warnings.any_department"},
    "analyst": {"clues.work", "warnings.work", "models.manage", "rules.manage", "evaluations.manage", "data.ingest",
                "departments.read", "statistics.read", "evaluations.read", "reports.read", "models.read",
                "jobs.start", "jobs.read"},
    "handler": {"warnings.handle", "departments.read", "statistics.read"},
    "viewer": {"departments.read", "statistics.read", "evaluations.read", "reports.read", "models.read"},
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


def test_a_refusal_names_the_permission_in_chinese_and_who_has_it():
    with pytest.raises(Forbidden) as refused:
        require(actor("viewer"), "users.manage")
    assert refused.value.message == "没有权限：“管理用户”仅限系统管理员（users.manage）"
    with pytest.raises(Forbidden, match=r"仅限风险研判人员（models\.manage）"):
        require(actor("admin"), "models.manage")  # the admin question, decided once: admins read models only


def test_the_readme_table_is_the_table_in_code():
    """Each README row lists permissions and ticks the roles that have them; together they are ROLE_PERMISSIONS."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("| permission | admin"):]
    rows = section[:section.index("\n\n")].splitlines()[2:]
    documented: dict[str, set[str]] = {role: set() for role in EXPECTED}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        names = re.findall(r"`([a-z]+\.[a-z_]+)`", cells[0])
        assert names, line
        for role, cell in zip(EXPECTED, cells[1:], strict=True):
            if cell == "✓":
                documented[role].update(names)
    assert documented == EXPECTED
    assert {p for line in rows for p in re.findall(r"`([a-z]+\.[a-z_]+)`", line)} == set(PERMISSIONS)


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
