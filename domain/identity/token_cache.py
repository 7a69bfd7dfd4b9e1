"""A per-process cache of bearer-token checks (PostgreSQL only), kept right by LISTEN/NOTIFY.

Every request with a bearer token used to read its token and user (`tokens._TOKEN_LOOKUP`): one statement and a
round trip before anything else. This cache keeps, per token hash, what that statement returned for a token that
passed (not revoked, not expired, its user active), so a repeated check costs no statement.

What is cached: only successful checks, keyed by the token's SHA-256. Unknown hashes are never stored (anyone may
send any number of them), nor revoked / expired / inactive results (rare, and a refused caller may as well pay its
statement; nothing about them needs to be fast). At most `MAX_ENTRIES` entries; when full, the oldest goes.

When it is used: only on PostgreSQL, and only while this process's listener (`domain.notifications.pump`, one
connection per server process) is connected and LISTENing on `CHANNEL`. Migration 0020's triggers NOTIFY that
channel after any committed change to what the cache holds (api_token: revoked_at, expires_at, user_id,
token_hash; app_user: username, roles, department_id, active; a DELETE or TRUNCATE of either table); any
notification clears the whole cache (identity changes are rare). Elsewhere (SQLite, the CLI, a server whose
listener is down) `token_actor` reads through exactly as before and stores nothing.

Still checked on every use, from the cached value: expiry (`expires_at <= now`). The refresh of last_used_at
stays at most once a minute; when it is due the check reads through (the lookup, then the refresh UPDATE as before,
`wrote=True`) and stores the entry anew. An entry is also never used once it is `MAX_AGE_S` old (by the monotonic
clock): the bound on staleness should a notification ever be missed (a half-open listener connection that has not
failed yet, say, or a trigger dropped by hand); a token in use costs one statement a minute per process.

The window across processes: a change committed by another process (or by a plain SQL UPDATE in this one) is seen
here once its notification reaches this process's listener thread: measured from the other connection's commit
returning, median 0.11 ms, p95 0.26 ms, max 4.4 ms (300 changes, a loaded 2-CPU machine); longer if that thread
is starved of the GIL or the CPU. A request checked inside that window still passes with the old state.
In this process there is no window for the ORM: a commit that changed a watched column of a token or user through
a session (revoke_token, update_user / deactivate_user, any flush of those columns) clears every cache of the
process before `commit()` returns (`_mark_updated`, `_cleared_on_commit`).

Races: a reader takes the cache's generation before its SELECT and stores its result only if the generation has
not moved (every clear moves it), so a row read before a revoke committed cannot be stored after the revoke's
invalidation. The listener connecting or disconnecting clears too: on loss the cache is cleared and disabled at
once (notifications may be missed while it is down); on (re)connection it is cleared again once LISTEN is in
force, and only then enabled.

Thread safety: lookups read a dict without a lock (atomic under the GIL); stores, clears and state changes take
the cache's lock.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from domain.identity.models import ApiToken, User

__all__ = [
    "CHANNEL",
    "MAX_AGE_S",
    "MAX_ENTRIES",
    "CachedToken",
    "TokenCache",
    "cache_for",
    "cache_for_url",
    "clear_all",
]

CHANNEL = "regwatch_identity"
MAX_ENTRIES = 10_000
MAX_AGE_S = 60.0  # an entry older than this is read afresh, whatever was (or was not) heard

# the columns whose committed change must clear the caches of this process at once (the triggers of migration 0020
# watch the same ones): what `tokens._TOKEN_LOOKUP` reads, last_used_at aside (the cache keeps its own)
WATCHED: dict[type, tuple[str, ...]] = {
    ApiToken: ("id", "user_id", "token_hash", "revoked_at", "expires_at"),
    User: ("id", "username", "roles", "department_id", "active"),
}


@dataclass(frozen=True, slots=True)
class CachedToken:
    """What the token lookup returned for a token that passed (revoked_at was None, the user active)."""

    token_id: int
    expires_at: datetime | None
    last_used_at: datetime  # as read, or as this process refreshed it
    user_id: int
    username: str
    roles: frozenset[str]
    department_id: int | None
    read_at: float  # time.monotonic() when read from the database


class TokenCache:
    """The cached checks of one database in this process."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE_S) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: dict[str, CachedToken] = {}
        self._changed = threading.Condition()  # its lock guards every change; waiters hear every one
        self.generation = 0  # moved by every clear: a read begun before it may not be stored after it
        self.enabled = False
        self._listeners = 0  # connected listeners of this process on this database
        self.connections = 0  # listener connections made, and lost (or stopped), so far
        self.losses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, token_hash: object) -> bool:
        return token_hash in self._entries

    def get(self, token_hash: str) -> CachedToken | None:
        if not self.enabled:
            return None
        return self._entries.get(token_hash)

    def put(self, token_hash: str, entry: CachedToken, generation: int) -> bool:
        """Store `entry` read under `generation`; refused (False) when disabled or cleared since."""
        with self._changed:
            if not self.enabled or generation != self.generation:
                return False
            if token_hash not in self._entries and len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest stored
            self._entries[token_hash] = entry
            return True

    def discard(self, token_hash: str) -> None:
        with self._changed:
            self._entries.pop(token_hash, None)

    def clear(self) -> None:
        with self._changed:
            self._clear()

    def _clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._changed.notify_all()

    def connected(self) -> None:
        """A listener of this process has LISTEN in force: clear (notifications may have been missed), enable."""
        with self._changed:
            self._listeners += 1
            self.connections += 1
            self._clear()
            self.enabled = True

    def disconnected(self) -> None:
        """A listener lost its connection (or stopped): clear at once; disabled unless another one still listens."""
        with self._changed:
            self._listeners = max(0, self._listeners - 1)
            self.losses += 1
            self.enabled = self._listeners > 0
            self._clear()

    def wait_for(self, predicate: Callable[[TokenCache], bool], timeout: float) -> bool:
        """Wait until `predicate(self)` holds (checked after every clear and state change), at most `timeout` s."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)


_caches: dict[tuple[Any, ...], TokenCache] = {}
_by_engine: weakref.WeakKeyDictionary[Any, TokenCache] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def _key(url: sa.URL) -> tuple[Any, ...]:
    # the database, whatever the driver or the engine (a read session's autocommit engine shares its parent's URL)
    return (url.host, url.port, url.database)


def cache_for_url(url: sa.URL) -> TokenCache:
    """The cache of the database at `url` in this process (made on first use, disabled until a listener connects)."""
    with _registry_lock:
        return _caches.setdefault(_key(url), TokenCache())


def cache_for(bind: Any) -> TokenCache | None:
    """The cache for a session's bind (an engine, or a connection); None off PostgreSQL."""
    engine = bind.engine  # an engine's is itself
    cache = _by_engine.get(engine)
    if cache is not None:
        return cache
    if engine.dialect.name != "postgresql":
        return None
    cache = cache_for_url(engine.url)
    _by_engine[engine] = cache  # hashing a URL costs ~8 µs; an engine hashes by identity
    return cache


def clear_all() -> None:
    """Clear every cache of this process (a commit changed a token or a user)."""
    with _registry_lock:
        caches = list(_caches.values())
    for cache in caches:
        cache.clear()


# ---- in-process invalidation: a flush that changed a watched column marks its session; its commit clears ---------

_MARK = "regwatch_identity_changed"


def _changed(target: Any, names: tuple[str, ...]) -> bool:
    state = sa.inspect(target)
    return any(state.attrs[name].history.has_changes() for name in names)


def _mark_updated(_mapper: Any, _connection: Any, target: Any) -> None:
    if _caches and _changed(target, WATCHED[type(target)]):
        _mark_session(target)


def _mark_deleted(_mapper: Any, _connection: Any, target: Any) -> None:
    if _caches:
        _mark_session(target)


def _mark_session(target: Any) -> None:
    session = object_session(target)
    if session is not None:
        session.info[_MARK] = True


def _cleared_on_commit(session: Session) -> None:
    if session.info.pop(_MARK, False):
        clear_all()


for _model in WATCHED:
    sa.event.listen(_model, "after_update", _mark_updated)
    sa.event.listen(_model, "after_delete", _mark_deleted)
sa.event.listen(Session, "after_commit", _cleared_on_commit)
