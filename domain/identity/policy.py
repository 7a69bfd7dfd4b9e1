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
    "PERMISSION_LABELS",
    "ROLE_LABELS",
    "ROLE_PERMISSIONS",
    "can",
    "has_city_wide_scope",
    "in_department_scope",
    "permissions_of",
    "require",
    "require_signed_in",
    "roles_granting",
    "scope_to_department",
    "scope_to_own_department",
]

S = TypeVar("S", bound=sa.Select)  # type: ignore[type-arg]  # any row shape: Select[User], Select[User, Department]

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
    "warnings.any_department": "take a department's disposal steps for any department (support, corrections)",
    "models.read": "read model versions, metrics, backtests, thresholds, rules and scores",
    "models.manage": "train, activate and roll back models; edit rules",
    "rules.manage": "edit early-warning rules",
    "evaluations.manage": "define indicator sets and run evaluations",
    "statistics.read": "read dashboards and statistics",
    "evaluations.read": "read evaluation results",
    "reports.read": "read and download analysis reports",
    "data.ingest": "push or import supervision data and clues",
    "jobs.start": "start background jobs (a job kind may ask for more, e.g. models.manage to train)",
    "jobs.read": "see every background job (without it: only the jobs one started)",
}

# The same permissions as a staff member reads them (403 pages, disabled buttons).
PERMISSION_LABELS: dict[str, str] = {
    "users.manage": "管理用户", "departments.manage": "管理部门", "tokens.manage": "管理接口令牌",
    "settings.manage": "修改系统设置", "audit.read": "查看审计日志", "departments.read": "查看部门目录",
    "clues.work": "研判风险线索", "warnings.work": "发布和派发预警", "warnings.handle": "处置本部门预警",
    "warnings.any_department": "代任一部门处置预警",
    "models.read": "查看风险模型", "models.manage": "管理风险模型", "rules.manage": "编辑预警规则",
    "evaluations.manage": "管理效能评价", "statistics.read": "查看统计看板", "evaluations.read": "查看评价结果",
    "reports.read": "查看分析报告", "data.ingest": "导入监管数据", "jobs.start": "启动后台任务",
    "jobs.read": "查看全部后台任务",
}

_READ = {"departments.read", "statistics.read", "evaluations.read", "reports.read", "models.read"}

# The admin question, decided once: the system administrator (系统管理员) runs accounts, departments, tokens,
# settings and imports, and may read the models to support the analysts, but does not train, promote or roll
# back models or edit rules — that is the analysts' (风险研判人员) work, as the product brief says.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"users.manage", "departments.manage", "tokens.manage", "settings.manage", "audit.read",
                        "departments.read", "data.ingest", "models.read", "jobs.start", "jobs.read",
                        "statistics.read",
                        # the disposal workflow: admins may take every step (issue 14)
                        "warnings.work", "warnings.handle", "warnings.any_department"}),
    "analyst": frozenset({"clues.work", "warnings.work", "models.manage", "rules.manage", "evaluations.manage",
                          "data.ingest", "jobs.start", "jobs.read", *_READ}),
    "handler": frozenset({"warnings.handle", "departments.read", "statistics.read"}),  # own department's figures
    "viewer": frozenset(_READ),
}
assert set(ROLE_PERMISSIONS) == set(ROLES)
assert all(p in PERMISSIONS for perms in ROLE_PERMISSIONS.values() for p in perms)
assert set(PERMISSION_LABELS) == set(PERMISSIONS)

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
        raise Unauthenticated("请先登录")


def roles_granting(permission: str) -> list[str]:
    """The roles that grant `permission`, in the order of ROLES."""
    return [role for role in ROLES if permission in ROLE_PERMISSIONS[role]]


def require(actor: Actor, permission: str) -> None:
    """Raise Unauthenticated for anonymous callers, Forbidden when no role of the actor grants `permission`."""
    require_signed_in(actor)
    if not can(actor, permission):
        who = "、".join(ROLE_LABELS[r] for r in roles_granting(permission)) or "任何角色"
        raise Forbidden(f"没有权限：“{PERMISSION_LABELS[permission]}”仅限{who}（{permission}）", code="forbidden")


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
    return scope_to_own_department(stmt, actor, column)


def scope_to_own_department(stmt: S, actor: Actor, column: Any) -> S:
    """Limit `stmt` to the actor's own department whatever the role (e.g. the colleagues one may look up);
    no department: nothing."""
    if actor.department_id is None:
        return stmt.where(sa.false())
    return stmt.where(column == actor.department_id)
