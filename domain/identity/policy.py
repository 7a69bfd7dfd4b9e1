"""Who may do what: the role × permission table as data, and the department scope as a reusable query filter.

Every feature calls `require(actor, "<permission>")` at the top of a domain function and
`scope_to_department(stmt, actor, Model.department_id)` on any query over department-owned rows.
The README's "Access control" table mirrors `ROLE_PERMISSIONS`; tests check it row by row.
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa

from domain.errors import Forbidden, Unauthenticated
from domain.identity.actor import ROLES, Actor

__all__ = [
    "CITY_WIDE_ROLES",
    "PERMISSIONS",
    "ROLE_LABELS",
    "ROLE_PERMISSIONS",
    "can",
    "has_city_wide_scope",
    "in_department_scope",
    "permissions_of",
    "require",
    "require_signed_in",
    "scope_to_department",
]

S = TypeVar("S", bound=sa.Select[Any])

ROLE_LABELS = {"admin": "系统管理员", "analyst": "风险研判人员", "handler": "部门处置人员", "viewer": "领导/考核人员"}

# permission -> what it allows (the README table is generated from the same words)
PERMISSIONS: dict[str, str] = {
    "users.manage": "manage users, reset passwords, deactivate accounts",
    "departments.manage": "create, edit and deactivate departments",
    "tokens.manage": "issue and revoke API tokens for any user",
    "settings.manage": "change system settings (deadlines, thresholds)",
    "audit.read": "browse the audit trail",
    "departments.read": "read the department directory",
    "clues.work": "receive, judge, merge and dismiss risk clues (city-wide)",
    "warnings.work": "issue, route, reassign, dismiss and close warnings (city-wide)",
    "warnings.handle": "receive, handle, return and give feedback on warnings (own department only)",
    "models.manage": "train, activate and roll back models; edit rules",
    "rules.manage": "edit early-warning rules",
    "evaluations.manage": "define indicator sets and run evaluations",
    "statistics.read": "read dashboards and statistics",
    "evaluations.read": "read evaluation results",
    "reports.read": "read and download analysis reports",
    "data.ingest": "push or import supervision data and clues",
}

_READ = {"departments.read", "statistics.read", "evaluations.read", "reports.read"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"users.manage", "departments.manage", "tokens.manage", "settings.manage", "audit.read",
                        "departments.read", "data.ingest"}),
    "analyst": frozenset({"clues.work", "warnings.work", "models.manage", "rules.manage", "evaluations.manage",
                          "data.ingest", *_READ}),
    "handler": frozenset({"warnings.handle", "departments.read"}),
    "viewer": frozenset(_READ),
}
assert set(ROLE_PERMISSIONS) == set(ROLES)
assert all(p in PERMISSIONS for perms in ROLE_PERMISSIONS.values() for p in perms)

# Roles whose work is city-wide; anyone else sees only rows of their own department.
CITY_WIDE_ROLES = frozenset({"admin", "analyst", "viewer"})


def permissions_of(actor: Actor) -> frozenset[str]:
    return frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in actor.roles))


def can(actor: Actor, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return actor.is_authenticated and permission in permissions_of(actor)


def require_signed_in(actor: Actor) -> None:
    if not actor.is_authenticated:
        raise Unauthenticated("请先登录 (sign in first)")


def require(actor: Actor, permission: str) -> None:
    """Raise Unauthenticated for anonymous callers, Forbidden when no role of the actor grants `permission`."""
    require_signed_in(actor)
    if not can(actor, permission):
        raise Forbidden(f"没有权限：需要 {permission} 权限 (permission {permission} required)", code="forbidden")


def has_city_wide_scope(actor: Actor) -> bool:
    return actor.has_role(*CITY_WIDE_ROLES)


def in_department_scope(actor: Actor, department_id: int | None) -> bool:
    """The same rule as `scope_to_department`, for one object already loaded."""
    if has_city_wide_scope(actor):
        return True
    return actor.department_id is not None and department_id == actor.department_id


def scope_to_department(stmt: S, actor: Actor, column: Any) -> S:
    """Limit `stmt` to rows whose `column` is the actor's department, unless the actor works city-wide.

    A handler with no department sees nothing (never everything). Objects out of scope should then be
    reported as not found, so guessing ids reveals nothing.
    """
    if has_city_wide_scope(actor):
        return stmt
    if actor.department_id is None:
        return stmt.where(sa.false())
    return stmt.where(column == actor.department_id)
