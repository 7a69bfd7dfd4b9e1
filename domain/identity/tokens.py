"""API tokens (接口令牌) for integrators: random, shown once, stored hashed, revocable, optionally expiring."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import Conflict, FieldError, InvalidInput, NotFound
from domain.identity import token_cache
from domain.identity.actor import Actor
from domain.identity.models import ApiToken, User
from domain.identity.policy import require
from domain.types import utcnow

__all__ = [
    "TOKEN_PREFIX",
    "TokenCheck",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
    "token_actor",
]

TOKEN_PREFIX = "rw_"
# last_used_at is refreshed at most this often, so a busy integrator does not turn every read into a write
LAST_USED_GRANULARITY = timedelta(seconds=60)


def hash_token(raw: str) -> str:
    # tokens carry 256 random bits, so a fast hash suffices and lets us find the row by its hash
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(session: Session, actor: Actor, user_id: int, name: str,
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a token for `user_id`; returns the row and the token itself, which is never stored nor shown again."""
    require(actor, "tokens.manage")
    errors: list[FieldError] = []
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", "required", "请填写令牌名称（例如对接的系统名）"))
    elif len(name) > 100:
        errors.append(FieldError("name", "too_long", "令牌名称最多 100 个字符"))
    if expires_at is not None:
        if expires_at.tzinfo is None:
            errors.append(FieldError("expires_at", "naive_time", "过期时间须带时区"))
        elif expires_at <= utcnow():
            errors.append(FieldError("expires_at", "in_past", "过期时间须晚于当前时间"))
    user = session.get(User, user_id)
    if user is None:
        errors.append(FieldError("user_id", "not_found", f"用户 {user_id} 不存在"))
    elif not user.active:
        errors.append(FieldError("user_id", "inactive", f"用户 {user.username} 已停用"))
    if errors:
        raise InvalidInput("令牌信息有误：" + "；".join(e.message for e in errors), errors=errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=name, token_hash=hash_token(raw), prefix=raw[:10], expires_at=expires_at)
    session.add(token)
    session.flush()
    record_audit(session, actor, "token.create", "api_token", token.id,
                 {"user_id": [None, user_id], "name": [None, name], "prefix": [None, token.prefix],
                  "expires_at": [None, expires_at.isoformat() if expires_at else None]})
    return token, raw


def list_tokens(session: Session, actor: Actor, *, user_id: int | None = None) -> list[tuple[ApiToken, User]]:
    require(actor, "tokens.manage")
    stmt = select(ApiToken, User).join(User, col(User.id) == col(ApiToken.user_id))
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return [(t, u) for t, u in session.exec(stmt.order_by(col(ApiToken.id)))]


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    require(actor, "tokens.manage")
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"令牌 {token_id} 不存在", field="id")
    if token.revoked_at is not None:
        raise Conflict(f"令牌 {token_id} 已于 {token.revoked_at.isoformat(timespec='seconds')} 撤销", code="revoked")
    token.revoked_at = utcnow()
    session.add(token)
    session.flush()
    record_audit(session, actor, "token.revoke", "api_token", token.id,
                 {"revoked_at": [None, token.revoked_at.isoformat()]})
    return token


_token, _user = ApiToken.__table__.c, User.__table__.c  # type: ignore[attr-defined]
# Built once (its cache key too), plain columns rather than ORM objects: the statement every token-authenticated
# request runs first, so it is kept as cheap as it can be. On PostgreSQL with this process's listener connected its
# result for a token that passed is kept in domain.identity.token_cache (a column added here must be watched there
# and by migration 0020's triggers).
_TOKEN_LOOKUP = (sa.select(_token.id, _token.revoked_at, _token.expires_at, _token.last_used_at, _user.id.label("uid"),
                           _user.username, _user.roles, _user.department_id, _user.active)
                 .join_from(ApiToken.__table__, User.__table__, _user.id == _token.user_id)  # type: ignore[attr-defined]
                 .where(_token.token_hash == sa.bindparam("token_hash")))


@dataclass(frozen=True)
class TokenCheck:
    """The caller behind a bearer token, or why there is none."""

    actor: Actor | None
    problem: str | None = None  # unknown / revoked / expired / inactive_user
    wrote: bool = False  # last_used_at was refreshed: the caller's unit of work must commit


def token_actor(session: Session, raw: str, *, request_id: str | None = None,
                client_addr: str | None = None) -> TokenCheck:
    """Resolve a bearer token to its user, re-read now: a revoked, expired or deactivated one fails at once
    (one statement; a second, the refresh of last_used_at, at most once a minute). On PostgreSQL, while this
    process listens for identity changes, a token that passed is answered from domain.identity.token_cache
    without a statement (expiry checked on every use; read through again when last_used_at is due, or the entry
    is a minute old)."""
    token_hash = hash_token(raw.strip())
    cache = token_cache.cache_for(session.get_bind())
    generation, read_at = 0, 0.0
    if cache is not None:
        entry = cache.get(token_hash)
        if entry is not None:
            now = utcnow()
            if entry.expires_at is not None and entry.expires_at <= now:
                cache.discard(token_hash)
                return TokenCheck(None, "expired")
            if now - entry.last_used_at < LAST_USED_GRANULARITY and time.monotonic() - entry.read_at < cache.max_age:
                return TokenCheck(Actor(user_id=entry.user_id, username=entry.username, roles=entry.roles,
                                        department_id=entry.department_id, request_id=request_id,
                                        client_addr=client_addr))
            # the refresh is due, or the entry is old: read through (the token and its user re-read with it)
        generation = cache.generation  # before the read: a clear while it runs keeps its row out of the cache
        read_at = time.monotonic()
    # on the session's connection directly: a Core statement needs none of the ORM's execution path
    row = session.connection().execute(_TOKEN_LOOKUP, {"token_hash": token_hash}).first()
    if row is None:
        return TokenCheck(None, "unknown")
    now = utcnow()
    if row.revoked_at is not None:
        return TokenCheck(None, "revoked")
    if row.expires_at is not None and row.expires_at <= now:
        return TokenCheck(None, "expired")
    if not row.active:
        return TokenCheck(None, "inactive_user")
    roles = frozenset(row.roles or ())
    actor = Actor(user_id=row.uid, username=row.username, roles=roles,
                  department_id=row.department_id, request_id=request_id, client_addr=client_addr)
    last_used_at, wrote = row.last_used_at, False
    if last_used_at is None or now - last_used_at >= LAST_USED_GRANULARITY:
        session.execute(sa.update(ApiToken).where(col(ApiToken.id) == row.id).values(last_used_at=now))
        last_used_at, wrote = now, True
    if cache is not None and cache.enabled:
        cache.put(token_hash, token_cache.CachedToken(row.id, row.expires_at, last_used_at, row.uid, row.username,
                                                      roles, row.department_id, read_at), generation)
    return TokenCheck(actor, wrote=wrote)
