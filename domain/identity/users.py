"""Users (用户): create, edit, deactivate, reset or change passwords, list. Admins manage them."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.service import diff, record_audit
from domain.errors import Conflict, FieldError, InvalidInput, NotFound
from domain.identity.actor import ROLES, Actor
from domain.identity.models import Department, User
from domain.identity.passwords import check_strength, hash_password, verify_password
from domain.identity.policy import can, require, require_signed_in, scope_to_own_department
from domain.pagination import Page, PageRequest, by_id, select_page
from domain.types import utcnow

__all__ = [
    "UserInput",
    "UserRow",
    "actor_for_user",
    "change_own_password",
    "create_user",
    "deactivate_user",
    "get_user",
    "is_integration_account",
    "list_users",
    "reset_password",
    "sign_in_locks",
    "update_user",
]

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
AUDITED = ("username", "display_name", "department_id", "roles", "active")


@dataclass
class UserInput:
    """The editable fields; None on update means "leave as it is"."""

    username: str | None = None
    display_name: str | None = None
    department_id: int | None = None
    roles: list[str] | None = None
    active: bool | None = None
    clear_department: bool = False  # department_id=None cannot say "remove the department" on its own

    def given(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)
                  if f.name != "clear_department" and getattr(self, f.name) is not None}
        if self.clear_department:
            values["department_id"] = None
        return values


@dataclass(frozen=True)
class UserRow:
    """A user with its department (loaded together for lists) and, if sign-in is locked, when the lock ends."""

    user: User
    department: Department | None
    locked_until: datetime | None = None

    @property
    def is_integration_account(self) -> bool:
        return is_integration_account(self.user)


def is_integration_account(user: User) -> bool:
    """接口账号: an account without a password, used by a connected system through API tokens (e.g. svc-*)."""
    return user.password_hash is None


def sign_in_locks(session: Session, usernames: list[str], *, now: datetime | None = None) -> dict[str, datetime]:
    """When sign-in is locked for each of `usernames` that is locked now (the rule of domain.identity.sessions).

    One query finds the names with enough recent failures to be locked at all; only those (usually none) are
    then asked the full rule, so a page of users costs one statement, not one per user.
    """
    # function-level import: sessions imports this module (actor_for_user)
    from domain.audit.models import AuditLog
    from domain.identity import sessions

    if not usernames:
        return {}
    now = now or utcnow()
    suspects = session.exec(
        select(col(AuditLog.object_id))
        .where(col(AuditLog.action) == "login.failed", col(AuditLog.object_type) == "login",
               col(AuditLog.object_id).in_(usernames), col(AuditLog.occurred_at) > now - sessions.LOCK_WINDOW)
        .group_by(col(AuditLog.object_id))
        .having(sa.func.count() >= sessions.USER_FAILURE_LIMIT)).all()
    out: dict[str, datetime] = {}
    for name in suspects:
        until = sessions.locked_until(session, name, None, now=now) if name is not None else None
        if until is not None and name is not None:
            out[name] = until
    return out


def _snapshot(user: User) -> dict[str, Any]:
    return {k: (sorted(getattr(user, k)) if k == "roles" else getattr(user, k)) for k in AUDITED}


def actor_for_user(user: User, *, request_id: str | None = None, client_addr: str | None = None) -> Actor:
    return Actor(user_id=user.id, username=user.username, roles=frozenset(user.roles or ()),
                 department_id=user.department_id, request_id=request_id, client_addr=client_addr)


def _validate(session: Session, values: dict[str, Any], *, current: User | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    clean = dict(values)
    if "username" in clean:
        username = (clean["username"] or "").strip().lower()
        clean["username"] = username
        if not username:
            errors.append(FieldError("username", "required", "请填写用户名"))
        elif not USERNAME_RE.match(username):
            errors.append(FieldError("username", "bad_format",
                                     "用户名为 3–64 位小写字母、数字、点、- 或 _，以字母或数字开头"))
        else:
            taken = session.exec(select(User.id).where(User.username == username)).first()
            if taken is not None and (current is None or taken != current.id):
                errors.append(FieldError("username", "duplicate", f"用户名 {username} 已被使用"))
    if "display_name" in clean:
        clean["display_name"] = (clean["display_name"] or "").strip()
        if len(clean["display_name"]) > 100:
            errors.append(FieldError("display_name", "too_long", "姓名最多 100 个字符"))
    if "roles" in clean:
        roles = sorted({r.strip() for r in clean["roles"] if r and r.strip()})
        clean["roles"] = roles
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            errors.append(FieldError("roles", "bad_choice",
                                     f"未知角色 {', '.join(unknown)}；可选 {', '.join(ROLES)}"))
        elif not roles:
            errors.append(FieldError("roles", "required", "请至少选择一个角色"))
    dept_id = clean.get("department_id", current.department_id if current else None)
    if clean.get("department_id") is not None:
        dept = session.get(Department, clean["department_id"])
        if dept is None:
            errors.append(FieldError("department_id", "not_found", f"部门 {clean['department_id']} 不存在"))
        elif not dept.active and (current is None or current.department_id != dept.id):
            errors.append(FieldError("department_id", "inactive", f"部门 {dept.name} 已停用"))
    roles_after = clean.get("roles", current.roles if current else [])
    if "handler" in (roles_after or []) and dept_id is None:
        errors.append(FieldError("department_id", "required", "部门处置人员必须属于一个部门"))
    if errors:
        raise InvalidInput("用户信息有误：" + "；".join(e.message for e in errors), errors=errors)
    return clean


def create_user(session: Session, actor: Actor, data: UserInput, password: str | None = None) -> User:
    """A new user; without a password the account can only use API tokens (integration accounts)."""
    require(actor, "users.manage")
    values = {"roles": [], "display_name": "", **data.given()}
    values.setdefault("username", "")
    values.pop("active", None)
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    try:
        clean = _validate(session, values, current=None)
    except InvalidInput as exc:  # collected with the password's problems, so the form shows them all at once
        errors.extend(exc.errors)
    if password:
        try:
            check_strength(password, username=(values.get("username") or "").strip().lower())
        except InvalidInput as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidInput("用户信息有误：" + "；".join(e.message for e in errors), errors=errors)
    user = User(**clean, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    changes = diff({}, _snapshot(user))
    changes["password"] = [None, "set" if password else None]
    record_audit(session, actor, "user.create", "user", user.id, changes)
    return user


def _load(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在", field="id")
    return user


def _active_admins(session: Session) -> list[int]:
    rows = session.exec(select(col(User.id), col(User.roles)).where(col(User.active) == sa.true())).all()
    return [uid for uid, roles in rows if uid is not None and "admin" in (roles or [])]


def update_user(session: Session, actor: Actor, user_id: int, data: UserInput) -> User:
    require(actor, "users.manage")
    user = _load(session, user_id)
    before = _snapshot(user)
    clean = _validate(session, data.given(), current=user)
    for key, value in clean.items():
        setattr(user, key, value)
    after = _snapshot(user)
    changes = diff(before, after)
    if not changes:
        return user
    def admin(snapshot: dict[str, Any]) -> bool:
        return bool(snapshot["active"]) and "admin" in snapshot["roles"]

    losing_admin = admin(before) and not admin(after)
    if losing_admin and not [uid for uid in _active_admins(session) if uid != user.id]:
        raise Conflict("不能停用或撤销最后一个启用的系统管理员", field="roles", code="last_admin")
    if user.id == actor.user_id and losing_admin:
        raise Conflict("不能停用自己的账户或撤销自己的管理员角色", field="active", code="self_lockout")
    if "active" in changes and not user.active:
        user.session_version += 1  # sessions end at once; tokens stop because the user is inactive
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    action = "user.deactivate" if changes.keys() == {"active"} and not user.active else "user.update"
    record_audit(session, actor, action, "user", user.id, changes)
    return user


def deactivate_user(session: Session, actor: Actor, user_id: int) -> User:
    return update_user(session, actor, user_id, UserInput(active=False))


def reset_password(session: Session, actor: Actor, user_id: int, new_password: str) -> User:
    """An admin sets a new password; the user's sessions end."""
    require(actor, "users.manage")
    user = _load(session, user_id)
    check_strength(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    record_audit(session, actor, "user.password_reset", "user", user.id, {"password": ["***", "***"]})
    return user


def change_own_password(session: Session, actor: Actor, current_password: str, new_password: str) -> User:
    """The signed-in user changes their password; their other sessions end (the caller renews its own)."""
    require_signed_in(actor)
    if actor.user_id is None:
        raise InvalidInput("系统账户没有密码", code="no_password")
    user = _load(session, actor.user_id)
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput("当前密码不正确", field="current_password", code="wrong_password")
    if current_password == new_password:
        raise InvalidInput("新密码不能与当前密码相同", field="new_password", code="unchanged")
    check_strength(new_password, username=user.username, field="new_password")
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    record_audit(session, actor, "user.password_change", "user", user.id, {"password": ["***", "***"]})
    return user


def get_user(session: Session, actor: Actor, user_id: int) -> UserRow:
    """Admins see anyone; others see themselves and colleagues of their own department (others: not found)."""
    require_signed_in(actor)
    stmt = (select(User, Department).outerjoin(Department, col(Department.id) == col(User.department_id))
            .where(col(User.id) == user_id))
    if not can(actor, "users.manage") and user_id != actor.user_id:
        stmt = scope_to_own_department(stmt, actor, User.department_id)
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound(f"用户 {user_id} 不存在", field="id")
    locks = sign_in_locks(session, [row[0].username]) if can(actor, "users.manage") else {}
    return UserRow(user=row[0], department=row[1], locked_until=locks.get(row[0].username))


def list_users(session: Session, actor: Actor, page: PageRequest, *, search: str | None = None,
               department_id: int | None = None, role: str | None = None, active: bool | None = None,
               integration: bool | None = None, max_size: int = 200) -> Page[UserRow]:
    """Users with their departments in one statement per page (no N+1), and their sign-in locks in one more;
    `integration` True/False: only integration accounts (接口账号) / only staff."""
    require(actor, "users.manage")
    stmt = select(User)
    if search and search.strip():
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.username).like(like), sa.func.lower(User.display_name).like(like)))
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    if active is not None:
        stmt = stmt.where(User.active == active)
    if integration is not None:
        hash_ = col(User.password_hash)
        stmt = stmt.where(hash_.is_(None) if integration else hash_.is_not(None))
    if role:
        if role not in ROLES:
            raise InvalidInput(f"未知角色 {role}", field="role", code="bad_choice")
        # roles is a JSON list; a text match on the quoted name works on both SQLite and PostgreSQL
        stmt = stmt.where(sa.cast(User.roles, sa.String).like(f'%"{role}"%'))

    def load(rows: list[User]) -> list[UserRow]:
        departments = by_id(session, Department, (u.department_id for u in rows))
        locks = sign_in_locks(session, [u.username for u in rows])
        return [UserRow(user=u, department=departments.get(u.department_id), locked_until=locks.get(u.username))
                for u in rows]

    return select_page(session, stmt, page, order_by=(User.username, User.id), max_size=max_size, load=load)
