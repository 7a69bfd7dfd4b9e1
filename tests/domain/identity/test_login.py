"""Signing in: success and failure are audited; repeated failures lock a username or an address for a while."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher, profiles
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.identity.actor import SYSTEM
from domain.identity.models import User
from domain.identity.passwords import verify_password
from domain.identity.sessions import (
    ADDRESS_FAILURE_LIMIT,
    LOCK_WINDOW,
    USER_FAILURE_LIMIT,
    login,
    session_actor,
    unlock_login,
)
from domain.identity.users import deactivate_user
from domain.types import utcnow
from tests.domain.identity.factories import PASSWORD, new_user


def attempt(db, username, password, *, addr="10.0.0.1", now=None):
    with db.unit_of_work() as s:
        return login(s, username, password, client_addr=addr, request_id="req-1", now=now)


def actions(db) -> list[str]:
    with db.unit_of_work() as s:
        return list(s.exec(select(AuditLog.action).order_by(AuditLog.id)))


def test_a_good_password_signs_in_and_is_audited_with_the_address(db):
    user = new_user(db, "ana", ["analyst"])
    result = attempt(db, "  ANA ", PASSWORD)
    assert result.ok and result.user.id == user.id and result.user.last_login_at is not None
    with db.unit_of_work() as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "login")).one()
    assert (row.actor_name, row.client_addr, row.request_id, row.object_id) == ("ana", "10.0.0.1", "req-1", "ana")


def test_failures_are_audited_and_say_nothing_about_which_part_was_wrong(db):
    new_user(db, "ana", ["analyst"])
    wrong = attempt(db, "ana", "nope")
    unknown = attempt(db, "nobody", "nope")
    assert wrong.error == unknown.error == "用户名或密码错误"
    with db.unit_of_work() as s:
        rows = list(s.exec(select(AuditLog).where(AuditLog.action == "login.failed").order_by(AuditLog.id)))
    assert [r.changes["reason"][1] for r in rows] == ["bad_password", "unknown_user"]
    assert all(r.actor_name == "anonymous" for r in rows)


def test_repeated_failures_lock_the_username_until_the_window_passes(db):
    new_user(db, "ana", ["analyst"])
    start = utcnow()
    for i in range(USER_FAILURE_LIMIT - 1):
        assert attempt(db, "ana", "nope", now=start + timedelta(seconds=i)).locked_until is None
    locking = attempt(db, "ana", "nope", now=start + timedelta(seconds=10))
    assert locking.locked_until == start + timedelta(seconds=10) + LOCK_WINDOW
    assert "登录失败次数过多" in locking.error and "后再试" in locking.error
    # even the right password is refused while locked, and that refusal is audited too
    refused = attempt(db, "ana", PASSWORD, now=start + timedelta(minutes=5))
    assert not refused.ok and refused.locked_until == locking.locked_until
    assert actions(db)[-2:] == ["login.locked", "login.refused_locked"]
    # another username from another address is not affected
    new_user(db, "bob", ["viewer"])
    assert attempt(db, "bob", PASSWORD, addr="10.0.0.2", now=start + timedelta(minutes=5)).ok
    # once the window has passed, the right password works again
    assert attempt(db, "ana", PASSWORD, now=locking.locked_until + timedelta(seconds=1)).ok


def test_an_admin_can_unlock_a_username_at_once(db):
    new_user(db, "ana", ["analyst"])
    start = utcnow()
    for i in range(USER_FAILURE_LIMIT):
        attempt(db, "ana", "nope", now=start + timedelta(seconds=i))
    assert attempt(db, "ana", PASSWORD, now=start + timedelta(seconds=30)).locked_until is not None
    with db.unit_of_work() as s:
        unlock_login(s, SYSTEM, "ana")
    assert attempt(db, "ana", PASSWORD, now=utcnow() + timedelta(seconds=1)).ok
    assert "login.unlock" in actions(db)


def test_many_failures_from_one_address_lock_that_address(db):
    new_user(db, "ana", ["analyst"])
    start = utcnow()
    for i in range(ADDRESS_FAILURE_LIMIT):  # spread over many usernames, so no username is locked
        attempt(db, f"guess{i}", "nope", addr="203.0.113.9", now=start + timedelta(seconds=i))
    assert attempt(db, "ana", PASSWORD, addr="203.0.113.9", now=start + timedelta(minutes=1)).locked_until
    assert attempt(db, "ana", PASSWORD, addr="10.0.0.1", now=start + timedelta(minutes=1)).ok


def test_a_deactivated_user_cannot_sign_in_and_its_sessions_end(db):
    user = new_user(db, "ana", ["analyst"])
    with db.unit_of_work() as s:
        assert session_actor(s, user.id, user.session_version) is not None
        deactivate_user(s, SYSTEM, user.id)
    with db.unit_of_work() as s:
        assert session_actor(s, user.id, user.session_version) is None
        assert session_actor(s, user.id, user.session_version + 1) is None
    result = attempt(db, "ana", PASSWORD)
    assert not result.ok and "停用" in result.error


def test_production_hashes_with_argon2s_default_profile(tmp_path):
    """The suite hashes cheaply (tests/conftest.py); a process of the product itself uses the RFC 9106 profile."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from domain.identity.passwords import hash_password as h; "
                          "print(h('Correct-Horse-9'))"], capture_output=True, text=True, check=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(Path(__file__).resolve().parents[3]), "PATH": "/usr/bin:/bin"})
    assert out.stdout.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), out.stdout


def test_signing_in_upgrades_a_hash_made_with_other_parameters(db, real_hasher):
    user = new_user(db, "ana", ["analyst"])
    with db.unit_of_work() as s:
        s.get(User, user.id).password_hash = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)
    assert attempt(db, "ana", PASSWORD).ok
    with db.unit_of_work() as s:
        stored = s.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and verify_password(stored, PASSWORD)
