"""The per-process cache of bearer-token checks (domain.identity.token_cache): on PostgreSQL, while this process's
listener is connected, a token that passed answers without a statement; a change committed here clears it before
the commit returns, one committed by another connection once the listener hears its NOTIFY; a read that raced an
invalidation is not stored; the listener down, the cache is off. On SQLite it is never used."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.db import Database
from domain.identity import token_cache, tokens
from domain.identity.actor import SYSTEM
from domain.identity.models import ApiToken
from domain.identity.token_cache import CachedToken, TokenCache
from domain.identity.tokens import TokenCheck, hash_token, revoke_token, token_actor
from domain.identity.users import UserInput, deactivate_user, update_user
from domain.notifications.pump import NotificationPump
from domain.types import utcnow
from tests.api.identity.factories import bearer
from tests.domain.identity.factories import new_department, new_token, new_user
from tests.support import count_statements

WAIT = 5.0  # seconds: the longest any notification may take to be heard


def postgresql_only(db: Database) -> None:
    if db.backend != "postgresql":
        pytest.skip("the cache is PostgreSQL's (LISTEN/NOTIFY)")


def check(db: Database, raw: str) -> tuple[TokenCheck, int]:
    """A token check in its own unit of work, as the identity middleware makes it; and the statements it sent."""
    with count_statements(db) as counter, db.unit_of_work() as s:
        found = token_actor(s, raw, request_id="r-1", client_addr="10.0.0.1")
    return found, counter.count


def raw_connection(db: Database):
    """Another process's connection: psycopg itself, outside this process's engines and sessions."""
    import psycopg

    return psycopg.connect(db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                           autocommit=True)


def elsewhere(db: Database, sql: str, *params: object) -> None:
    with raw_connection(db) as conn:
        conn.execute(sql, params)


@pytest.fixture
def cache(db) -> TokenCache:
    postgresql_only(db)
    return token_cache.cache_for_url(db.engine.url)


@pytest.fixture
def listening(db, cache) -> Iterator[NotificationPump]:
    """This process's real listener (the notification pump's LISTEN connection), connected."""
    pump = NotificationPump(db, dispatch_seconds=3600, deliver_seconds=3600)
    pump.start()
    try:
        assert cache.wait_for(lambda c: c.enabled, WAIT), "the listener did not connect"
        yield pump
    finally:
        pump.stop()
    assert not cache.enabled


@pytest.fixture
def simulated(cache) -> Iterator[TokenCache]:
    """The cache on without any LISTEN connection: whatever clears it here is this process's own doing."""
    cache.connected()
    try:
        yield cache
    finally:
        cache.disconnected()


@pytest.fixture
def portal(db):
    user = new_user(db, "portal", ["analyst"], password=None)
    return user, new_token(db, user.id, "phase-one portal")


def warm(db: Database, cache: TokenCache, raw: str) -> None:
    first, sent = check(db, raw)
    assert first.actor is not None and first.wrote and sent == 2  # the lookup, the refresh of last_used_at
    assert hash_token(raw) in cache


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(tokens, "utcnow", c)
    return c


# ---- answering from the cache ----------------------------------------------------------------------------------

def test_a_cached_token_answers_without_a_statement(db, listening, cache, portal):
    user, raw = portal
    warm(db, cache, raw)
    again, sent = check(db, "  " + raw + " ")
    assert sent == 0 and not again.wrote and again.problem is None
    assert again.actor is not None
    assert (again.actor.user_id, again.actor.username, again.actor.roles, again.actor.department_id) == \
        (user.id, "portal", frozenset({"analyst"}), None)
    assert (again.actor.request_id, again.actor.client_addr) == ("r-1", "10.0.0.1")


async def test_a_graphql_request_checks_a_cached_token_without_a_statement(client, db, listening, cache, api_token):
    query = {"query": "{ me { username } }"}
    assert (await client.post("/graphql", json=query, headers=bearer(api_token))).status_code == 200
    with count_statements(db) as counted:
        response = await client.post("/graphql", json=query, headers=bearer(api_token))
    assert response.json() == {"data": {"me": {"username": "admin"}}}
    assert not any("api_token" in q for q in counted.statements), counted.statements


async def test_a_token_revoked_between_two_requests_is_refused_at_once_with_the_cache_on(client, db, listening,
                                                                                       cache, api_token):
    query = {"query": "{ me { username } }"}
    assert (await client.post("/graphql", json=query, headers=bearer(api_token))).status_code == 200
    assert hash_token(api_token) in cache
    with db.unit_of_work() as s:
        revoke_token(s, SYSTEM, 1)
    response = await client.post("/graphql", json=query, headers=bearer(api_token))
    assert response.status_code == 401 and "revoked" in response.headers["www-authenticate"]


def test_unknown_tokens_are_never_cached(db, listening, cache, portal):
    for _ in range(3):
        found, sent = check(db, "rw_" + "x" * 43)
        assert found.problem == "unknown" and sent == 1
    assert len(cache) == 0


def test_the_cache_holds_at_most_its_bound():
    small = TokenCache(max_entries=2)
    small.connected()
    entry = CachedToken(1, None, utcnow(), 1, "u", frozenset(), None, time.monotonic())
    for key in ("a", "b", "c"):
        assert small.put(key, entry, small.generation)
    assert len(small) == 2 and "a" not in small and "c" in small


# ---- in this process: cleared before the commit returns (no listener at all here) -------------------------------

def test_a_revoke_committed_here_clears_before_the_commit_returns(db, simulated, portal):
    _, raw = portal
    warm(db, simulated, raw)
    with db.unit_of_work() as s:
        revoke_token(s, SYSTEM, 1)
        assert hash_token(raw) in simulated  # not before the commit
    assert hash_token(raw) not in simulated
    found, sent = check(db, raw)
    assert found.problem == "revoked" and sent == 1


def test_a_deactivation_or_a_change_of_roles_committed_here_is_seen_by_the_next_check(db, simulated, portal):
    user, raw = portal
    dept = new_department(db, "SZ-X", "某部门")
    warm(db, simulated, raw)
    with db.unit_of_work() as s:
        update_user(s, SYSTEM, user.id, UserInput(roles=["handler"], department_id=dept.id))
    found, sent = check(db, raw)
    assert sent == 1 and found.actor is not None
    assert (found.actor.roles, found.actor.department_id) == (frozenset({"handler"}), dept.id)
    assert check(db, raw)[1] == 0  # cached again
    with db.unit_of_work() as s:
        deactivate_user(s, SYSTEM, user.id)
    found, sent = check(db, raw)
    assert found.problem == "inactive_user" and sent == 1
    assert check(db, raw)[1] == 1  # refused checks are not cached


def test_a_change_that_does_not_touch_the_check_keeps_the_cache(db, simulated, portal):
    user, raw = portal
    warm(db, simulated, raw)
    with db.unit_of_work() as s:
        update_user(s, SYSTEM, user.id, UserInput(display_name="门户系统"))
    assert check(db, raw)[1] == 0


def test_an_expiry_moved_through_the_orm_is_seen_at_once(db, simulated, portal):
    _, raw = portal
    warm(db, simulated, raw)
    with db.unit_of_work() as s:
        s.get(ApiToken, 1).expires_at = utcnow() - timedelta(seconds=1)
    found, sent = check(db, raw)
    assert found.problem == "expired" and sent == 1


def test_a_rolled_back_change_does_not_clear(db, simulated, portal):
    _, raw = portal
    warm(db, simulated, raw)
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        revoke_token(s, SYSTEM, 1)
        raise RuntimeError("the request failed after the revoke")
    found, sent = check(db, raw)
    assert found.actor is not None and sent == 0


# ---- from another process: cleared once the listener hears the NOTIFY -------------------------------------------

def test_a_revoke_committed_by_another_process_is_refused_once_heard(db, listening, cache, portal):
    _, raw = portal
    warm(db, cache, raw)
    heard = cache.generation
    elsewhere(db, "UPDATE api_token SET revoked_at = now() WHERE id = %s", 1)
    assert cache.wait_for(lambda c: c.generation > heard, WAIT), "no notification heard"
    found, sent = check(db, raw)
    assert found.problem == "revoked" and sent == 1


@pytest.mark.parametrize("change, seen", [
    ("UPDATE app_user SET active = false WHERE id = %s", lambda f: f.problem == "inactive_user"),
    ("UPDATE app_user SET roles = '[\"viewer\"]' WHERE id = %s",
     lambda f: f.actor is not None and f.actor.roles == {"viewer"}),
    ("UPDATE app_user SET username = 'portal2' WHERE id = %s",
     lambda f: f.actor is not None and f.actor.username == "portal2"),
    ("DELETE FROM api_token WHERE user_id = %s", lambda f: f.problem == "unknown"),
])
def test_a_user_or_token_changed_by_another_process_is_seen_once_heard(db, listening, cache, portal, change, seen):
    user, raw = portal
    warm(db, cache, raw)
    heard = cache.generation
    elsewhere(db, change, user.id)
    assert cache.wait_for(lambda c: c.generation > heard, WAIT), "no notification heard"
    found, sent = check(db, raw)
    assert sent == 1 and seen(found), found


def test_the_triggers_stay_silent_on_last_use_and_sign_in_times(db, cache, portal):
    user, _ = portal
    with raw_connection(db) as conn:
        conn.execute(f"LISTEN {token_cache.CHANNEL}")
        elsewhere(db, "UPDATE api_token SET last_used_at = now() WHERE id = 1")
        elsewhere(db, "UPDATE app_user SET last_login_at = now(), session_version = session_version + 1, "
                      "roles = '[\"analyst\"]'::json WHERE id = %s", user.id)  # roles as they were
        elsewhere(db, "UPDATE api_token SET expires_at = now() + interval '1 day' WHERE id = 1")
        elsewhere(db, "TRUNCATE api_token")
        heard = [n.payload for n in conn.notifies(timeout=WAIT, stop_after=2)]
    assert heard == ["api_token:1", "api_token"]


# ---- still checked on every use ---------------------------------------------------------------------------------

def test_an_expired_token_is_refused_from_the_cache(db, simulated, clock):
    user = new_user(db, "portal", ["analyst"], password=None)
    raw = new_token(db, user.id, "portal", expires_at=clock.now + timedelta(hours=1))
    warm(db, simulated, raw)
    clock.now += timedelta(hours=2)
    found, sent = check(db, raw)
    assert found.problem == "expired" and sent == 0


def test_last_use_is_refreshed_once_the_granularity_has_passed(db, simulated, clock, portal):
    _, raw = portal
    used = clock.now
    warm(db, simulated, raw)
    clock.now = used + tokens.LAST_USED_GRANULARITY - timedelta(seconds=1)
    found, sent = check(db, raw)
    assert sent == 0 and not found.wrote
    clock.now = used + tokens.LAST_USED_GRANULARITY
    found, sent = check(db, raw)
    assert found.wrote and found.actor is not None and sent == 2  # read through: the lookup, the refresh
    with db.unit_of_work("read") as s:
        assert s.execute(sa.select(ApiToken.last_used_at)).scalar_one() == clock.now
    clock.now += timedelta(seconds=1)
    assert check(db, raw)[1] == 0  # the entry holds the new last use


def test_an_entry_is_read_afresh_once_it_is_old_whatever_was_heard(db, simulated, portal, monkeypatch):
    _, raw = portal
    warm(db, simulated, raw)
    assert check(db, raw)[1] == 0
    monkeypatch.setattr(simulated, "max_age", 0.0)
    found, sent = check(db, raw)
    assert found.actor is not None and not found.wrote and sent == 1  # the lookup only: last use is recent


# ---- the listener down: off --------------------------------------------------------------------------------------

def test_the_listener_lost_turns_the_cache_off_until_it_listens_again(db, listening, cache, portal):
    _, raw = portal
    warm(db, cache, raw)
    lost, made = cache.losses, cache.connections
    elsewhere(db, "SELECT pg_terminate_backend(%s)", listening.listener_pid)
    assert cache.wait_for(lambda c: c.losses > lost, WAIT), "the loss went unnoticed"
    assert hash_token(raw) not in cache
    assert cache.wait_for(lambda c: c.enabled and c.connections > made, WAIT), "the listener did not reconnect"
    assert check(db, raw)[1] == 1 and check(db, raw)[1] == 0  # read afresh, then cached again


def test_with_the_listener_stopped_every_check_reads_through(db, cache, portal):
    _, raw = portal
    pump = NotificationPump(db, dispatch_seconds=3600, deliver_seconds=3600)
    pump.start()
    assert cache.wait_for(lambda c: c.enabled, WAIT)
    warm(db, cache, raw)
    pump.stop()
    assert not cache.enabled and len(cache) == 0
    for _ in range(2):
        found, sent = check(db, raw)
        assert found.actor is not None and sent == 1
    assert len(cache) == 0


# ---- races --------------------------------------------------------------------------------------------------------

def test_a_store_is_refused_once_the_generation_moved(cache):
    cache.connected()
    try:
        entry = CachedToken(1, None, utcnow(), 1, "u", frozenset(), None, time.monotonic())
        read_under = cache.generation
        cache.clear()
        assert not cache.put("h", entry, read_under) and "h" not in cache
        assert cache.put("h", entry, cache.generation) and "h" in cache
    finally:
        cache.disconnected()
    assert not cache.put("h", entry, cache.generation)  # off: nothing stored


def test_a_row_read_while_a_revoke_commits_is_not_stored(db, listening, cache, portal):
    """The lookup has read the token (not yet revoked) when another process's revoke commits and its notification
    clears the cache: the check still answers from the row it read, but does not store it."""
    _, raw = portal
    warm(db, cache, raw)
    cache.clear()  # the next check reads through

    def revoke_meanwhile(conn, cursor, statement, parameters, context, executemany):
        if "FROM api_token" in statement and statement.lstrip().upper().startswith("SELECT"):
            heard = cache.generation
            elsewhere(db, "UPDATE api_token SET revoked_at = now() WHERE id = 1")
            assert cache.wait_for(lambda c: c.generation > heard, WAIT)

    sa.event.listen(db.engine, "after_cursor_execute", revoke_meanwhile)
    try:
        found, _ = check(db, raw)
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", revoke_meanwhile)
    assert found.actor is not None  # read before the revoke committed
    assert hash_token(raw) not in cache
    assert check(db, raw)[0].problem == "revoked"


# ---- SQLite -------------------------------------------------------------------------------------------------------

def test_on_sqlite_every_check_reads_through(db, portal):
    if db.backend != "sqlite":
        pytest.skip("SQLite's behaviour")
    _, raw = portal
    assert token_cache.cache_for(db.engine) is None
    assert check(db, raw)[1] == 2
    for _ in range(2):
        found, sent = check(db, raw)
        assert found.actor is not None and sent == 1


def test_without_a_listener_every_check_reads_through(db, cache, portal):
    _, raw = portal
    assert not cache.enabled
    assert check(db, raw)[1] == 2
    assert check(db, raw)[1] == 1 and len(cache) == 0

