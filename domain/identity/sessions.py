"""Signing in and out, login throttling, and the session check made on every request.

Throttling reads the audit trail itself (every attempt is audited anyway), so workers share it with no
extra state. Within `LOCK_WINDOW`:

- an address with `ADDRESS_FAILURE_LIMIT` failures (any usernames) is locked for every username;
- a username with `USER_FAILURE_LIMIT` failures (from any addresses) is locked — but only for the addresses that
  took part in those failures. An address with no failure for that username may still sign in, so an attacker
  who spreads guesses over several addresses cannot lock the administrator out; every address he uses gets
  at most one guess before it is locked out of that username too, and the address limit caps the rest.

A lock lasts until the window has passed since the last counted failure. A success or an admin's unlock
clears a username's count. The address is the connection's peer, or the client named in X-Forwarded-For
only when the peer is one of the proxies in REGWATCH_TRUSTED_PROXIES (none by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.models import AuditLog
from domain.audit.service import record_audit
from domain.errors import NotFound
from domain.fixed_rows import fetch_fixed
from domain.identity.actor import ANONYMOUS, Actor
from domain.identity.models import Department, User
from domain.identity.passwords import hash_password, needs_rehash, verify_password
from domain.identity.policy import require, require_signed_in
from domain.identity.users import actor_for_user
from domain.pagination import record_type
from domain.types import LOCAL_TZ, table_of, utcnow

__all__ = [
    "ADDRESS_FAILURE_LIMIT",
    "LOCK_WINDOW",
    "USER_FAILURE_LIMIT",
    "LoginResult",
    "current_user",
    "locked_until",
    "login",
    "logout",
    "session_actor",
    "unlock_login",
]

USER_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
LOCK_WINDOW = timedelta(minutes=15)
GENERIC_FAILURE = "用户名或密码错误"


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def _norm(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _failures(session: Session, where: sa.ColumnElement[bool], since: datetime) -> tuple[int, datetime | None]:
    stmt = (select(sa.func.count(), sa.func.max(col(AuditLog.occurred_at)))
            .where(col(AuditLog.action) == "login.failed", col(AuditLog.occurred_at) > since, where))
    count, last = session.exec(stmt).one()
    return count, last


def _lock_end(session: Session, where: sa.ColumnElement[bool], limit: int, since: datetime,
              now: datetime) -> datetime | None:
    count, last = _failures(session, where, since)
    if count >= limit and last is not None and last + LOCK_WINDOW > now:
        return last + LOCK_WINDOW
    return None


def locked_until(session: Session, username: str, client_addr: str | None, *,
                 now: datetime | None = None) -> datetime | None:
    """When the lock on this username or address ends, or None when attempts are allowed."""
    now = now or utcnow()
    name = _norm(username)
    window_start = now - LOCK_WINDOW
    reset = session.exec(select(sa.func.max(col(AuditLog.occurred_at))).where(
        col(AuditLog.object_type) == "login", col(AuditLog.object_id) == name,
        col(AuditLog.action).in_(("login", "login.unlock")))).one()
    since = max(window_start, reset) if reset is not None else window_start
    this_user = sa.and_(col(AuditLog.object_type) == "login", col(AuditLog.object_id) == name)
    ends: list[datetime | None] = []
    user_end = _lock_end(session, this_user, USER_FAILURE_LIMIT, since, now)
    # the username's lock holds only for addresses that failed on it (an unknown address counts as one that did)
    if user_end is not None and (not client_addr or _failures(
            session, sa.and_(this_user, col(AuditLog.client_addr) == client_addr), since)[0] > 0):
        ends.append(user_end)
    if client_addr:
        ends.append(_lock_end(session, col(AuditLog.client_addr) == client_addr, ADDRESS_FAILURE_LIMIT, window_start,
                              now))
    found = [e for e in ends if e is not None]
    return max(found) if found else None


def _lock_message(until: datetime) -> str:
    return (f"登录失败次数过多，已暂时锁定，请于 {until.astimezone(LOCAL_TZ):%H:%M} 后再试，"
            "或联系系统管理员解锁。")


def login(session: Session, username: str, password: str, *, request_id: str | None = None,
          client_addr: str | None = None, now: datetime | None = None) -> LoginResult:
    """Check a username and password. Never raises for bad credentials: the caller commits the audit rows."""
    now = now or utcnow()
    name = _norm(username)
    anon = ANONYMOUS.with_request(request_id, client_addr)
    until = locked_until(session, name, client_addr, now=now)
    if until is not None:
        _audit(session, anon, "login.refused_locked", name, {"locked_until": [None, until.isoformat()]}, now)
        return LoginResult(None, _lock_message(until), until)

    user = session.exec(select(User).where(col(User.username) == name)).first()
    password_ok = verify_password(user.password_hash if user else None, password or "")
    if user is not None and password_ok and user.active:
        if needs_rehash(user.password_hash or ""):
            user.password_hash = hash_password(password)
        previous = user.last_login_at
        user.last_login_at = now
        session.add(user)
        session.flush()
        actor = actor_for_user(user, request_id=request_id, client_addr=client_addr)
        _audit(session, actor, "login", name, {"last_login_at": [previous.isoformat() if previous else None,
                                                                   now.isoformat()]}, now)
        return LoginResult(user)

    reason = "unknown_user" if user is None else "bad_password" if not password_ok else "inactive_user"
    _audit(session, anon, "login.failed", name, {"reason": [None, reason]}, now)
    session.flush()
    until = locked_until(session, name, client_addr, now=now)
    if until is not None:
        _audit(session, anon, "login.locked", name, {"locked_until": [None, until.isoformat()]}, now)
        return LoginResult(None, _lock_message(until), until)
    message = "该账户已停用，请联系系统管理员" if reason == "inactive_user" else GENERIC_FAILURE
    return LoginResult(None, message)


def _audit(session: Session, actor: Actor, action: str, username: str, changes: dict, now: datetime) -> None:
    row = record_audit(session, actor, action, "login", username, changes)
    row.occurred_at = now


def unlock_login(session: Session, actor: Actor, username: str) -> None:
    """An admin clears a username's failure count (an address lock still runs out on its own)."""
    require(actor, "users.manage")
    record_audit(session, actor, "login.unlock", "login", _norm(username), {})


def logout(session: Session, actor: Actor) -> None:
    """End every session of the user (the session cookie carries a version that no longer matches)."""
    if actor.user_id is None:
        return
    session.execute(sa.update(User).where(col(User.id) == actor.user_id)
                    .values(session_version=col(User.session_version) + 1))
    record_audit(session, actor, "logout", "user", actor.user_id, {})


def session_actor(session: Session, user_id: int, version: int, *, request_id: str | None = None,
                  client_addr: str | None = None) -> Actor | None:
    """The actor behind a session cookie, re-read now: None once the user is deactivated or signed out."""
    user = session.exec(select(User).where(col(User.id) == user_id, col(User.active) == sa.true(),
                                           col(User.session_version) == version)).first()
    if user is None:
        return None
    return actor_for_user(user, request_id=request_id, client_addr=client_addr)


_user_table, _department_table = table_of(User), table_of(Department)
_USER_NAMES = tuple(c.key for c in _user_table.c)
_DEPARTMENT_NAMES = tuple(c.key for c in _department_table.c)
# built once; columns, not ORM objects: the statement behind `me`, which every portal page load asks
_CURRENT_USER = (sa.select(*_user_table.c, *_department_table.c)
                 .outerjoin_from(_user_table, _department_table, _department_table.c.id == _user_table.c.department_id)
                 .where(_user_table.c.id == sa.bindparam("user_id")))


def current_user(session: Session, actor: Actor) -> tuple[Any, Any]:
    """The signed-in caller's own user row and department (one statement), as records with the models' attribute
    names (read-only: nothing to change through them)."""
    require_signed_in(actor)
    rows = fetch_fixed(session.connection(), _CURRENT_USER, {"user_id": actor.user_id})[0]  # built once
    row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"用户 {actor.user_id} 不存在", field="id")
    n = len(_USER_NAMES)
    user = record_type(_USER_NAMES)._make(row[:n])
    department = (record_type(_DEPARTMENT_NAMES)._make(row[n:])
                  if row[n + _DEPARTMENT_NAMES.index("id")] is not None else None)  # the outer join found none
    return user, department
