"""The username lock slows an attacker down without handing him a way to lock the administrator out (issue 8 point 6):
it holds for the addresses that failed on that username, not for a clean address with the right password."""

from __future__ import annotations

from datetime import timedelta

from domain.identity.sessions import USER_FAILURE_LIMIT, login
from domain.types import utcnow
from tests.domain.identity.factories import PASSWORD, new_user


def attempt(db, username, password, *, addr, now):
    with db.unit_of_work() as s:
        return login(s, username, password, client_addr=addr, request_id="req-1", now=now)


def test_failures_spread_over_addresses_do_not_lock_the_admin_out_of_a_clean_address(db):
    new_user(db, "admin", ["admin"])
    start = utcnow()
    attackers = [f"198.51.100.{i}" for i in range(1, USER_FAILURE_LIMIT + 1)]
    for i, addr in enumerate(attackers):
        attempt(db, "admin", "guess-Password-1", addr=addr, now=start + timedelta(seconds=i))
    later = start + timedelta(minutes=1)
    # every address that took part is locked out of admin, even with the right password
    for addr in attackers:
        refused = attempt(db, "admin", PASSWORD, addr=addr, now=later)
        assert not refused.ok and refused.locked_until is not None and "登录失败次数过多" in refused.error
    # the administrator at his own desk signs in
    assert attempt(db, "admin", PASSWORD, addr="10.0.0.7", now=later).ok


def test_a_fresh_address_gets_one_guess_then_is_locked_out_of_that_username(db):
    new_user(db, "admin", ["admin"])
    start = utcnow()
    for i in range(USER_FAILURE_LIMIT):
        attempt(db, "admin", "guess-Password-1", addr=f"198.51.100.{i + 1}", now=start + timedelta(seconds=i))
    newcomer = attempt(db, "admin", "guess-Password-2", addr="203.0.113.50", now=start + timedelta(seconds=30))
    assert not newcomer.ok and newcomer.locked_until is not None  # its one failure locks it at once
    assert attempt(db, "admin", PASSWORD, addr="203.0.113.50", now=start + timedelta(seconds=31)).locked_until
